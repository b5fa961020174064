"""Tempo configuration: receivers, local storage on the PVC, retention, metrics-generator, validation."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from vaultaio_constructs.tempo.config import (
    TEMPO_ARGS,
    TEMPO_CONFIG_PATH,
    TEMPO_DATA_DIR,
    TEMPO_HTTP_PORT,
    TEMPO_OTLP_GRPC_PORT,
    TEMPO_OTLP_HTTP_PORT,
    TempoConfig,
    TempoLogLevel,
    render_tempo_config,
    tempo_config_dict,
)

PROM_WRITE = "http://prometheus.vault-aio.svc:9090/api/v1/write"

#: Leaf keys the renderer may emit, each checked against the Tempo 2.x manifest/configuration docs
#: (grafana/tempo docs/sources/tempo/configuration/, the 2.x single-binary chart and docker-compose example).
DOCUMENTED_KEYS = {
    "compactor.compaction.block_retention",
    "distributor.receivers.otlp.protocols.grpc.endpoint",
    "distributor.receivers.otlp.protocols.http.endpoint",
    "ingester.lifecycler.ring.replication_factor",
    "server.grpc_listen_port",
    "server.http_listen_port",
    "server.log_level",
    "storage.trace.backend",
    "storage.trace.local.path",
    "storage.trace.wal.path",
    "target",
    "usage_report.reporting_enabled",
}
GENERATOR_KEYS = {
    "metrics_generator.registry.external_labels.source",
    "metrics_generator.storage.path",
    "metrics_generator.storage.remote_write[].send_exemplars",
    "metrics_generator.storage.remote_write[].url",
    "overrides.defaults.metrics_generator.processors",
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


def load(config: TempoConfig) -> dict[str, Any]:
    parsed = yaml.safe_load(render_tempo_config(config))
    assert isinstance(parsed, dict)
    return parsed


def test_only_documented_keys() -> None:
    assert leaf_keys(load(TempoConfig())) == DOCUMENTED_KEYS
    assert (
        leaf_keys(load(TempoConfig(metrics_remote_write_urls=(PROM_WRITE,))))
        == DOCUMENTED_KEYS | GENERATOR_KEYS
    )


def test_otlp_receivers_listen_on_all_interfaces() -> None:
    protocols = load(TempoConfig())["distributor"]["receivers"]["otlp"]["protocols"]
    assert protocols == {
        "grpc": {"endpoint": f"0.0.0.0:{TEMPO_OTLP_GRPC_PORT}"},
        "http": {"endpoint": f"0.0.0.0:{TEMPO_OTLP_HTTP_PORT}"},
    }
    assert (TEMPO_OTLP_GRPC_PORT, TEMPO_OTLP_HTTP_PORT) == (4317, 4318)
    # No other receiver (Jaeger, Zipkin, OpenCensus) is opened.
    assert list(load(TempoConfig())["distributor"]["receivers"]) == ["otlp"]


def test_monolithic_local_storage_on_the_pvc_without_usage_reporting() -> None:
    doc = load(TempoConfig())
    assert doc["target"] == "all"
    assert (f"-config.file={TEMPO_CONFIG_PATH}",) == TEMPO_ARGS
    assert doc["server"]["http_listen_port"] == TEMPO_HTTP_PORT == 3200
    assert doc["usage_report"] == {"reporting_enabled": False}
    trace = doc["storage"]["trace"]
    assert trace["backend"] == "local"
    paths = [trace["local"]["path"], trace["wal"]["path"]]
    assert TEMPO_DATA_DIR == "/var/tempo"
    assert all(p.startswith(TEMPO_DATA_DIR + "/") for p in paths)
    assert len(set(paths)) == 2
    assert doc["ingester"]["lifecycler"]["ring"]["replication_factor"] == 1


@pytest.mark.parametrize(("hours", "expected"), [(1, "1h"), (168, "168h"), (720, "720h")])
def test_retention_hours_setting(hours: int, expected: str) -> None:
    assert load(TempoConfig(retention_hours=hours))["compactor"]["compaction"]["block_retention"] == expected


def test_no_metrics_generator_without_a_remote_write_url() -> None:
    doc = load(TempoConfig())
    assert "metrics_generator" not in doc
    assert "overrides" not in doc


def test_metrics_generator_writes_service_graphs_and_span_metrics_to_prometheus() -> None:
    doc = load(TempoConfig(metrics_remote_write_urls=(PROM_WRITE,)))
    storage = doc["metrics_generator"]["storage"]
    assert storage["remote_write"] == [{"url": PROM_WRITE, "send_exemplars": False}]
    assert storage["path"].startswith(TEMPO_DATA_DIR + "/")
    assert doc["overrides"]["defaults"]["metrics_generator"]["processors"] == [
        "service-graphs",
        "span-metrics",
    ]


def test_log_level_setting() -> None:
    assert load(TempoConfig(log_level=TempoLogLevel.WARN))["server"]["log_level"] == "warn"


def test_output_is_deterministic_with_sorted_keys() -> None:
    first = render_tempo_config(TempoConfig(metrics_remote_write_urls=(PROM_WRITE,)))
    assert first == render_tempo_config(TempoConfig(metrics_remote_write_urls=(PROM_WRITE,)))
    assert first == yaml.safe_dump(yaml.safe_load(first), sort_keys=True, default_flow_style=False)
    assert yaml.safe_load(first) == tempo_config_dict(TempoConfig(metrics_remote_write_urls=(PROM_WRITE,)))


def test_fails_retention_below_one_hour() -> None:
    with pytest.raises(ValueError, match=r"'retention_hours' must be >= 1, got 0"):
        TempoConfig(retention_hours=0)


@pytest.mark.parametrize("url", ["prometheus:9090/api/v1/write", "grpc://prometheus:9090/api/v1/write"])
def test_fails_remote_write_url_not_http(url: str) -> None:
    with pytest.raises(ValueError, match=r"'metrics_remote_write_urls' must be http:// or https:// URLs"):
        TempoConfig(metrics_remote_write_urls=(url,))


def test_fails_remote_write_url_not_the_receiver_path() -> None:
    with pytest.raises(ValueError, match=r"'metrics_remote_write_urls' must name the remote-write receiver"):
        TempoConfig(metrics_remote_write_urls=("http://prometheus:9090",))
