"""Loki configuration: load-bearing keys, storage on the PVC, retention, ruler layout, validation."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from vaultaio_constructs.loki.config import (
    LOKI_ARGS,
    LOKI_CONFIG_PATH,
    LOKI_DATA_DIR,
    LOKI_GRPC_PORT,
    LOKI_HTTP_PORT,
    LOKI_RULES_DIR,
    LOKI_SCHEMA_FROM,
    LOKI_TENANT,
    LOKI_TENANT_RULES_DIR,
    LokiConfig,
    LokiDeletionMode,
    LokiLimits,
    LokiLogLevel,
    render_loki_config,
)

AM_URL = "http://alertmanager.vault-aio.svc:9093"

#: Every leaf key the renderer may emit, each checked against the Loki 3.x configuration reference
#: (grafana/loki docs/sources/shared/configuration.md). A new key must be checked and added here.
DOCUMENTED_KEYS = {
    "analytics.reporting_enabled",
    "auth_enabled",
    "common.instance_addr",
    "common.path_prefix",
    "common.replication_factor",
    "common.ring.kvstore.store",
    "compactor.compaction_interval",
    "compactor.delete_request_store",
    "compactor.retention_delete_delay",
    "compactor.retention_enabled",
    "compactor.working_directory",
    "ingester.wal.dir",
    "ingester.wal.enabled",
    "ingester.wal.replay_memory_ceiling",
    "limits_config.allow_structured_metadata",
    "limits_config.deletion_mode",  # pkg/validation/limits.go of v3.7.6: yaml "deletion_mode"
    "limits_config.ingestion_burst_size_mb",
    "limits_config.ingestion_rate_mb",
    "limits_config.max_global_streams_per_user",
    "limits_config.reject_old_samples",
    "limits_config.reject_old_samples_max_age",
    "limits_config.retention_period",
    "limits_config.volume_enabled",
    "ruler.alertmanager_url",
    "ruler.enable_alertmanager_v2",
    "ruler.enable_api",
    "ruler.rule_path",
    "ruler.storage.local.directory",
    "ruler.storage.type",
    "ruler.wal.dir",
    "schema_config.configs[].from",
    "schema_config.configs[].index.period",
    "schema_config.configs[].index.prefix",
    "schema_config.configs[].object_store",
    "schema_config.configs[].schema",
    "schema_config.configs[].store",
    "server.grpc_listen_port",
    "server.http_listen_port",
    "server.log_level",
    "storage_config.filesystem.directory",
    "storage_config.tsdb_shipper.active_index_directory",
    "storage_config.tsdb_shipper.cache_location",
    "target",
}


def leaf_keys(node: Any, prefix: str = "") -> set[str]:
    if isinstance(node, dict):
        keys: set[str] = set()
        for key, value in node.items():
            keys |= leaf_keys(value, f"{prefix}.{key}" if prefix else key)
        return keys
    if isinstance(node, list) and node and isinstance(node[0], dict):
        return set().union(*(leaf_keys(item, prefix + "[]") for item in node))
    return {prefix}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    parsed = yaml.safe_load(
        render_loki_config(LokiConfig(alertmanager_url=AM_URL, wal_replay_memory_ceiling_mib=320))
    )
    assert isinstance(parsed, dict)
    return parsed


def test_only_documented_keys(doc: dict[str, Any]) -> None:
    assert leaf_keys(doc) == DOCUMENTED_KEYS


def test_monolithic_single_tenant_without_usage_reporting(doc: dict[str, Any]) -> None:
    assert doc["target"] == "all"
    assert "-target=all" in LOKI_ARGS
    assert f"-config.file={LOKI_CONFIG_PATH}" in LOKI_ARGS
    assert doc["auth_enabled"] is False
    assert doc["analytics"] == {"reporting_enabled": False}
    assert doc["server"]["http_listen_port"] == LOKI_HTTP_PORT == 3100
    assert doc["server"]["grpc_listen_port"] == LOKI_GRPC_PORT == 9095
    assert doc["common"]["ring"] == {"kvstore": {"store": "inmemory"}}
    assert doc["common"]["replication_factor"] == 1


def test_schema_is_tsdb_v13_from_a_fixed_date(doc: dict[str, Any]) -> None:
    (period,) = doc["schema_config"]["configs"]
    assert period == {
        "from": LOKI_SCHEMA_FROM,
        "store": "tsdb",
        "object_store": "filesystem",
        "schema": "v13",
        "index": {"prefix": "index_", "period": "24h"},
    }
    # A string, not a YAML date that could be re-serialised differently.
    assert "from: '2024-04-01'" in render_loki_config(LokiConfig(alertmanager_url=AM_URL))


def test_every_writable_path_is_on_the_pvc(doc: dict[str, Any]) -> None:
    writable = [
        doc["common"]["path_prefix"],
        doc["ingester"]["wal"]["dir"],
        doc["storage_config"]["filesystem"]["directory"],
        doc["storage_config"]["tsdb_shipper"]["active_index_directory"],
        doc["storage_config"]["tsdb_shipper"]["cache_location"],
        doc["compactor"]["working_directory"],
        doc["ruler"]["rule_path"],
        doc["ruler"]["wal"]["dir"],
    ]
    assert LOKI_DATA_DIR == "/var/loki"
    assert all(p == LOKI_DATA_DIR or p.startswith(LOKI_DATA_DIR + "/") for p in writable), writable
    assert len(set(writable)) == len(writable)


def test_compactor_enforces_retention(doc: dict[str, Any]) -> None:
    compactor = doc["compactor"]
    assert compactor["retention_enabled"] is True
    assert compactor["delete_request_store"] == "filesystem"
    assert doc["limits_config"]["retention_period"] == "336h"


def test_the_log_deletion_api_is_off(doc: dict[str, Any]) -> None:
    """Review finding 5: with retention_enabled, Loki serves /loki/api/v1/delete unless deletion_mode is
    'disabled' (its default is 'filter-and-delete'), and Loki has no authentication: any pod that reaches
    3100 could erase Vault's audit trail."""
    assert doc["compactor"]["retention_enabled"] is True
    assert doc["limits_config"]["deletion_mode"] == "disabled"


def test_deletion_modes_are_loki_s() -> None:
    """The values of Loki 3.7.6's deletionmode.AllModes(), each rendered as given."""
    assert [str(m) for m in LokiDeletionMode] == ["disabled", "filter-only", "filter-and-delete"]
    for mode in LokiDeletionMode:
        parsed = yaml.safe_load(render_loki_config(LokiConfig(deletion_mode=mode)))
        assert parsed["limits_config"]["deletion_mode"] == str(mode)


@pytest.mark.parametrize(("days", "period"), [(1, "24h"), (30, "720h")])
def test_retention_days_setting(days: int, period: str) -> None:
    limits = LokiLimits(reject_old_samples_max_age_hours=24)
    parsed = yaml.safe_load(
        render_loki_config(LokiConfig(alertmanager_url=AM_URL, retention_days=days, limits=limits))
    )
    assert parsed["limits_config"]["retention_period"] == period


def test_limits_setting() -> None:
    limits = LokiLimits(
        ingestion_rate_mb=2,
        ingestion_burst_size_mb=3,
        max_global_streams=100,
        reject_old_samples_max_age_hours=24,
    )
    parsed = yaml.safe_load(render_loki_config(LokiConfig(alertmanager_url=AM_URL, limits=limits)))
    lc = parsed["limits_config"]
    assert (lc["ingestion_rate_mb"], lc["ingestion_burst_size_mb"]) == (2, 3)
    assert lc["max_global_streams_per_user"] == 100
    assert (lc["reject_old_samples"], lc["reject_old_samples_max_age"]) == (True, "24h")


def test_ruler_reads_tenant_rules_from_the_configmap_and_alerts_alertmanager(doc: dict[str, Any]) -> None:
    ruler = doc["ruler"]
    assert ruler["storage"] == {"type": "local", "local": {"directory": LOKI_RULES_DIR}}
    # With auth disabled every request is tenant "fake"; the local backend reads <dir>/<tenant>/*.yaml.
    assert LOKI_TENANT == "fake"
    assert f"{LOKI_RULES_DIR}/fake" == LOKI_TENANT_RULES_DIR
    assert ruler["alertmanager_url"] == AM_URL
    assert ruler["enable_api"] is True
    # The read-only rules mount and the writable scratch copy must differ.
    assert not ruler["rule_path"].startswith(LOKI_RULES_DIR)


def test_log_level_setting() -> None:
    parsed = yaml.safe_load(
        render_loki_config(LokiConfig(alertmanager_url=AM_URL, log_level=LokiLogLevel.DEBUG))
    )
    assert parsed["server"]["log_level"] == "debug"


def test_output_is_deterministic_with_sorted_keys() -> None:
    first = render_loki_config(LokiConfig(alertmanager_url=AM_URL))
    assert first == render_loki_config(LokiConfig(alertmanager_url=AM_URL))
    assert first == yaml.safe_dump(yaml.safe_load(first), sort_keys=True, default_flow_style=False)


def test_fails_retention_days_below_one() -> None:
    with pytest.raises(ValueError, match=r"'retention_days' must be >= 1, got 0"):
        LokiConfig(alertmanager_url=AM_URL, retention_days=0)


def test_ruler_sends_to_every_alertmanager_replica() -> None:
    """An Alertmanager cluster: one URL per replica, comma-separated (each its own group in the ruler)."""
    urls = [f"http://alertmanager-{i}.alertmanager-internal.ns.svc:9093" for i in range(3)]
    parsed = yaml.safe_load(render_loki_config(LokiConfig(alertmanager_url=",".join(urls))))
    assert parsed["ruler"]["alertmanager_url"].split(",") == urls


@pytest.mark.parametrize(
    "url", ["alertmanager:9093", "ftp://am:9093", "http://", "http://am-0:9093,am-1:9093"]
)
def test_fails_alertmanager_url_not_http(url: str) -> None:
    with pytest.raises(ValueError, match=r"'alertmanager_url' must be an http:// or https:// URL"):
        LokiConfig(alertmanager_url=url)


def test_fails_burst_below_rate() -> None:
    with pytest.raises(
        ValueError, match=r"'ingestion_burst_size_mb' \(1\.0\) must be >= 'ingestion_rate_mb' \(2"
    ):
        LokiLimits(ingestion_rate_mb=2, ingestion_burst_size_mb=1.0)


def test_fails_zero_rate() -> None:
    with pytest.raises(ValueError, match=r"'ingestion_rate_mb' must be > 0, got 0"):
        LokiLimits(ingestion_rate_mb=0, ingestion_burst_size_mb=1)


def test_fails_zero_streams() -> None:
    with pytest.raises(ValueError, match=r"'max_global_streams' must be >= 1, got 0"):
        LokiLimits(max_global_streams=0)


def test_fails_old_samples_accepted_beyond_retention() -> None:
    with pytest.raises(
        ValueError, match=r"'reject_old_samples_max_age_hours' \(168\) must be <= 'retention_days'"
    ):
        LokiConfig(alertmanager_url=AM_URL, retention_days=2)


def test_ruler_without_alertmanager_sends_nothing() -> None:
    ruler = yaml.safe_load(render_loki_config(LokiConfig()))["ruler"]
    assert "alertmanager_url" not in ruler
    assert ruler["storage"]["local"]["directory"] == LOKI_RULES_DIR


def test_rules_mount_is_not_nested_in_the_config_mount() -> None:
    assert not LOKI_RULES_DIR.startswith(LOKI_CONFIG_PATH.rsplit("/", 1)[0] + "/")
