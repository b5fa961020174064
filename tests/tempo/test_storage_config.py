"""Tempo on object storage and with replicas: keys checked against Tempo 2.10.8 (the configuration manifest
and the backend config structs), the scalable-single-binary target, the rings, and validation."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.tempo.test_config import DOCUMENTED_KEYS, GENERATOR_KEYS, PROM_WRITE, leaf_keys
from vaultaio_constructs.common import SecretKeyRef
from vaultaio_constructs.objectstore import AzureStorage, GcsStorage, S3Storage
from vaultaio_constructs.tempo.config import (
    TEMPO_MEMBERLIST_PORT,
    TEMPO_TARGET_SCALABLE,
    TempoConfig,
    render_tempo_config,
)

JOIN = "dns+tempo-peers.vault-aio.svc:7946"
FRONTEND = "tempo-peers.vault-aio.svc:9095"

#: Keys the variants add. ``storage.trace.s3.*``: ``tempodb/backend/s3/config.go`` yaml tags (bucket,
#: endpoint, region, forcepathstyle, insecure; ``tls_ca_path`` from the inlined dskit ``tls.ClientConfig``);
#: ``storage.trace.gcs.bucket_name`` and ``storage.trace.azure.*`` from the gcs/azure config structs;
#: ``memberlist``, ``querier.frontend_worker.frontend_address`` and ``ingester.lifecycler.ring.kvstore.store``
#: from docs/sources/tempo/configuration/manifest.md.
S3_KEYS = {
    "storage.trace.s3.bucket",
    "storage.trace.s3.endpoint",
    "storage.trace.s3.region",
    "storage.trace.s3.forcepathstyle",
}
REPLICA_KEYS = {
    "ingester.lifecycler.ring.kvstore.store",
    "memberlist.join_members",
    "memberlist.bind_port",
    "querier.frontend_worker.frontend_address",
}
LOCAL_ONLY_KEYS = {"storage.trace.local.path"}


def s3(**extra: Any) -> S3Storage:
    fields: dict[str, Any] = {
        "bucket": "tempo-traces",
        "endpoint": "minio.storage.svc:9000",
        "region": "us-east-1",
        "force_path_style": True,
        "access_key_id": SecretKeyRef(name="tempo-s3", key="id"),
        "secret_access_key": SecretKeyRef(name="tempo-s3", key="secret"),
        "egress_cidrs": ("10.20.0.0/16",),
    }
    return S3Storage(**(fields | extra))


def load(**fields: Any) -> dict[str, Any]:
    parsed = yaml.safe_load(render_tempo_config(TempoConfig(**fields)))
    assert isinstance(parsed, dict)
    return parsed


def ha(replicas: int = 3, **fields: Any) -> dict[str, Any]:
    return load(
        storage=fields.pop("storage", s3()),
        replicas=replicas,
        memberlist_join=JOIN,
        frontend_address=FRONTEND,
        **fields,
    )


def test_ha_keys_are_documented() -> None:
    doc = ha(metrics_remote_write_urls=(PROM_WRITE,))
    assert leaf_keys(doc) == (DOCUMENTED_KEYS - LOCAL_ONLY_KEYS) | GENERATOR_KEYS | S3_KEYS | REPLICA_KEYS


def test_replicas_run_the_scalable_target_with_memberlist_rings() -> None:
    doc = ha()
    # target=all would force inmemory rings, replication factor 1 and 127.0.0.1 (cmd/tempo/main.go)
    assert doc["target"] == TEMPO_TARGET_SCALABLE == "scalable-single-binary"
    assert doc["ingester"]["lifecycler"]["ring"] == {
        "replication_factor": 3,
        "kvstore": {"store": "memberlist"},
    }
    assert doc["memberlist"] == {"join_members": [JOIN], "bind_port": TEMPO_MEMBERLIST_PORT}
    assert doc["querier"]["frontend_worker"]["frontend_address"] == FRONTEND


@pytest.mark.parametrize(("replicas", "factor"), [(2, 2), (3, 3), (4, 3)])
def test_replication_factor_follows_replicas_up_to_three(replicas: int, factor: int) -> None:
    assert ha(replicas)["ingester"]["lifecycler"]["ring"]["replication_factor"] == factor


def test_one_replica_on_object_storage_stays_monolithic() -> None:
    doc = load(storage=s3())
    assert doc["target"] == "all"
    assert "memberlist" not in doc and "querier" not in doc
    assert leaf_keys(doc) == (DOCUMENTED_KEYS - LOCAL_ONLY_KEYS) | S3_KEYS


def test_s3_backend_keeps_the_wal_on_the_pvc_and_credentials_out() -> None:
    doc = ha()
    trace = doc["storage"]["trace"]
    assert trace["backend"] == "s3"
    assert trace["s3"] == {
        "bucket": "tempo-traces",
        "endpoint": "minio.storage.svc:9000",
        "region": "us-east-1",
        "forcepathstyle": True,
    }
    assert trace["wal"]["path"].startswith("/var/tempo/")
    text = render_tempo_config(TempoConfig(storage=s3()))
    assert "access_key" not in text and "secret" not in text


def test_insecure_and_ca_only_when_asked() -> None:
    assert "insecure" not in load(storage=s3())["storage"]["trace"]["s3"]
    assert load(storage=s3(insecure=True))["storage"]["trace"]["s3"]["insecure"] is True
    ca = load(storage=s3(ca=SecretKeyRef(name="minio-ca", key="ca.crt")))["storage"]["trace"]["s3"]
    assert ca["tls_ca_path"] == "/etc/object-store/ca/ca.crt"


def test_gcs_and_azure_backends() -> None:
    gcs = GcsStorage(
        bucket="acme-traces",
        gcp_service_account="tempo@acme.iam.gserviceaccount.com",
        egress_cidrs=("199.36.153.8/30",),
    )
    trace = ha(storage=gcs)["storage"]["trace"]
    assert (trace["backend"], trace["gcs"]) == ("gcs", {"bucket_name": "acme-traces"})
    keyed = AzureStorage(
        account_name="acmetraces",
        container="tempo",
        account_key=SecretKeyRef(name="azure", key="key"),
        egress_cidrs=("20.60.0.0/16",),
    )
    trace = ha(storage=keyed)["storage"]["trace"]
    # the key comes from AZURE_STORAGE_KEY (tempodb/backend/azure/azure_helpers.go), never the file
    assert trace["azure"] == {"storage_account_name": "acmetraces", "container_name": "tempo"}
    federated = AzureStorage(
        account_name="acmetraces",
        container="tempo",
        workload_identity=True,
        client_id="00000000-0000-0000-0000-000000000001",
        egress_cidrs=("20.60.0.0/16",),
    )
    assert ha(storage=federated)["storage"]["trace"]["azure"]["use_federated_token"] is True


def test_fails_replicas_on_local_storage() -> None:
    with pytest.raises(ValueError, match=r"'replicas' \(2\) needs object storage"):
        TempoConfig(replicas=2, memberlist_join=JOIN, frontend_address=FRONTEND)


def test_fails_replicas_without_peer_addresses() -> None:
    with pytest.raises(ValueError, match=r"needs 'memberlist_join' and 'frontend_address'"):
        TempoConfig(storage=s3(), replicas=2, memberlist_join=JOIN)
