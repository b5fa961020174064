"""Loki on object storage and with replicas: the config keys (checked against Loki 3.7.6's reference), the
memberlist ring, the compactor and ruler under replicas, the WAL replay ceiling, and validation."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.loki.test_config import AM_URL, DOCUMENTED_KEYS, leaf_keys
from vaultaio_constructs.common import SecretKeyRef
from vaultaio_constructs.loki.config import (
    DELETION_MARKER_PREFIX,
    LOKI_MEMBERLIST_PORT,
    WAL_REPLAY_MEMORY_PERCENT,
    LokiConfig,
    needs_expand_env,
    render_loki_config,
    wal_replay_memory_ceiling_mib,
)
from vaultaio_constructs.objectstore import AzureStorage, GcsStorage, S3Storage

JOIN = "dns+loki-peers.vault-aio.svc:7946"
KEYS = SecretKeyRef(name="loki-s3", key="id"), SecretKeyRef(name="loki-s3", key="secret")

#: Leaf keys the object-storage and replica variants add, each in Loki 3.7.6's configuration reference
#: (docs/sources/shared/configuration.md): ``common.storage.<backend>`` (s3_storage_config,
#: gcs_storage_config, azure_storage_config blocks), ``memberlist``, ``ruler.enable_sharding`` and
#: ``compactor.deletion_marker_object_store_prefix``.
OBJECT_KEYS = {
    "common.storage.s3.bucketnames",
    "common.storage.s3.endpoint",
    "common.storage.s3.region",
    "common.storage.s3.s3forcepathstyle",
    "compactor.deletion_marker_object_store_prefix",
}
REPLICA_KEYS = {"memberlist.join_members", "memberlist.bind_port", "ruler.enable_sharding"}
#: Single-process keys that replicas drop (the pod's own address replaces 127.0.0.1).
SINGLE_ONLY_KEYS = {"common.instance_addr", "storage_config.filesystem.directory"}
S3_OPTIONAL_KEYS = {"common.storage.s3.insecure", "common.storage.s3.http_config.ca_file"}
GCS_KEYS = {"common.storage.gcs.bucket_name"}
AZURE_KEYS = {
    "common.storage.azure.account_name",
    "common.storage.azure.container_name",
    "common.storage.azure.account_key",
    "common.storage.azure.use_federated_token",
    "common.storage.azure.endpoint_suffix",
}


def s3(**extra: Any) -> S3Storage:
    fields: dict[str, Any] = {
        "bucket": "loki-chunks",
        "endpoint": "minio.storage.svc:9000",
        "region": "us-east-1",
        "force_path_style": True,
        "access_key_id": KEYS[0],
        "secret_access_key": KEYS[1],
        "egress_cidrs": ("10.20.0.0/16",),
    }
    return S3Storage(**(fields | extra))


def render(**fields: Any) -> dict[str, Any]:
    config = LokiConfig(alertmanager_url=AM_URL, wal_replay_memory_ceiling_mib=320, **fields)
    parsed = yaml.safe_load(render_loki_config(config))
    assert isinstance(parsed, dict)
    return parsed


@pytest.fixture(scope="module")
def ha() -> dict[str, Any]:
    return render(storage=s3(), replicas=3, memberlist_join=JOIN)


def test_ha_keys_are_documented(ha: dict[str, Any]) -> None:
    expected = (DOCUMENTED_KEYS - SINGLE_ONLY_KEYS) | OBJECT_KEYS | REPLICA_KEYS
    assert leaf_keys(ha) == expected


def test_single_replica_on_object_storage_keeps_the_in_memory_ring() -> None:
    doc = render(storage=s3())
    assert leaf_keys(doc) == (DOCUMENTED_KEYS - {"storage_config.filesystem.directory"}) | OBJECT_KEYS
    assert doc["common"]["ring"] == {"kvstore": {"store": "inmemory"}}
    assert doc["common"]["replication_factor"] == 1


def test_object_store_is_used_by_schema_chunks_and_delete_requests(ha: dict[str, Any]) -> None:
    (period,) = ha["schema_config"]["configs"]
    assert period["object_store"] == "s3"
    assert ha["compactor"]["delete_request_store"] == "s3"
    assert ha["common"]["storage"] == {
        "s3": {
            "bucketnames": "loki-chunks",
            "endpoint": "minio.storage.svc:9000",
            "region": "us-east-1",
            "s3forcepathstyle": True,
        }
    }
    assert "filesystem" not in ha["storage_config"]
    # markers in the bucket: a compactor elected later sweeps what an earlier leader marked
    assert ha["compactor"]["deletion_marker_object_store_prefix"] == DELETION_MARKER_PREFIX
    assert DELETION_MARKER_PREFIX.endswith("/")


def test_credentials_never_appear_in_the_config() -> None:
    text = render_loki_config(LokiConfig(storage=s3(), replicas=3, memberlist_join=JOIN))
    assert "access_key" not in text and "secret" not in text


@pytest.mark.parametrize(("replicas", "factor"), [(2, 2), (3, 3), (5, 3)])
def test_replicas_share_a_memberlist_ring(replicas: int, factor: int) -> None:
    doc = render(storage=s3(), replicas=replicas, memberlist_join=JOIN)
    assert doc["common"]["ring"] == {"kvstore": {"store": "memberlist"}}
    assert doc["common"]["replication_factor"] == factor
    assert "instance_addr" not in doc["common"], "replicas must advertise their own pod address"
    assert doc["memberlist"] == {"join_members": [JOIN], "bind_port": LOKI_MEMBERLIST_PORT}
    assert LOKI_MEMBERLIST_PORT == 7946
    assert doc["ruler"]["enable_sharding"] is True
    # one ConfigMap of rules on every pod: the documented way to shard with local rule storage
    assert doc["ruler"]["storage"]["type"] == "local"


def test_insecure_and_ca_only_when_asked() -> None:
    assert "insecure" not in render(storage=s3())["common"]["storage"]["s3"]
    doc = render(storage=s3(insecure=True))["common"]["storage"]["s3"]
    assert doc["insecure"] is True
    ca = render(storage=s3(ca=SecretKeyRef(name="minio-ca", key="ca.crt")))["common"]["storage"]["s3"]
    assert ca["http_config"] == {"ca_file": "/etc/object-store/ca/ca.crt"}
    assert leaf_keys(render(storage=s3(insecure=True))) <= DOCUMENTED_KEYS | OBJECT_KEYS | S3_OPTIONAL_KEYS


def test_aws_s3_without_endpoint_uses_the_regional_endpoint() -> None:
    storage = s3(endpoint=None, region="eu-west-1", force_path_style=False)
    assert render(storage=storage)["common"]["storage"]["s3"]["endpoint"] == "s3.eu-west-1.amazonaws.com"
    assert storage.port == 443


def test_gcs() -> None:
    storage = GcsStorage(
        bucket="acme-loki",
        credentials=SecretKeyRef(name="gcs", key="key.json"),
        egress_cidrs=("199.36.153.8/30",),
    )
    doc = render(storage=storage, replicas=2, memberlist_join=JOIN)
    assert doc["common"]["storage"] == {"gcs": {"bucket_name": "acme-loki"}}
    assert doc["schema_config"]["configs"][0]["object_store"] == "gcs"
    assert {k for k in leaf_keys(doc) if k.startswith("common.storage")} <= GCS_KEYS


def test_azure_key_is_expanded_from_the_environment_and_workload_identity_is_not() -> None:
    keyed = AzureStorage(
        account_name="acmelogs",
        container="loki",
        account_key=SecretKeyRef(name="azure", key="account-key"),
        egress_cidrs=("20.60.0.0/16",),
    )
    config = LokiConfig(storage=keyed)
    assert needs_expand_env(config)
    doc = yaml.safe_load(render_loki_config(config))["common"]["storage"]["azure"]
    assert doc == {
        "account_name": "acmelogs",
        "container_name": "loki",
        "account_key": "${AZURE_STORAGE_KEY}",
    }
    federated = AzureStorage(
        account_name="acmelogs",
        container="loki",
        workload_identity=True,
        client_id="00000000-0000-0000-0000-000000000001",
        endpoint_suffix="blob.core.usgovcloudapi.net",
        egress_cidrs=("20.60.0.0/16",),
    )
    config = LokiConfig(storage=federated)
    assert not needs_expand_env(config)
    doc = yaml.safe_load(render_loki_config(config))
    assert doc["common"]["storage"]["azure"]["use_federated_token"] is True
    assert "account_key" not in doc["common"]["storage"]["azure"]
    assert {k for k in leaf_keys(doc) if k.startswith("common.storage")} <= AZURE_KEYS


@pytest.mark.parametrize(("limit", "ceiling"), [(640, 320), (4096, 2048), (1, 1)])
def test_wal_replay_ceiling_is_a_share_of_the_memory_limit(limit: int, ceiling: int) -> None:
    assert WAL_REPLAY_MEMORY_PERCENT == 50
    assert wal_replay_memory_ceiling_mib(limit) == ceiling
    doc = render_loki_config(LokiConfig(wal_replay_memory_ceiling_mib=ceiling))
    # Loki's flagext.ByteSize (c2h5oh/datasize) reads MB as 1024 * 1024 bytes, so this is MiB.
    assert yaml.safe_load(doc)["ingester"]["wal"]["replay_memory_ceiling"] == f"{ceiling}MB"


def test_fails_replicas_on_filesystem() -> None:
    with pytest.raises(ValueError, match=r"'replicas' \(2\) needs object storage"):
        LokiConfig(replicas=2, memberlist_join=JOIN)


def test_fails_replicas_without_a_memberlist_seed() -> None:
    with pytest.raises(ValueError, match=r"'replicas' \(3\) needs 'memberlist_join'"):
        LokiConfig(storage=s3(), replicas=3)


def test_fails_zero_ceiling() -> None:
    with pytest.raises(ValueError, match=r"'wal_replay_memory_ceiling_mib' must be >= 1, got 0"):
        LokiConfig(wal_replay_memory_ceiling_mib=0)
