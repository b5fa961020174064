"""Tempo 2.10 configuration for a monolithic Tempo storing traces on a local PVC.

Tempo 2.x still has ingesters and a compactor (3.0 replaced both with block-builders, live-stores and a
backend scheduler), so retention is ``compactor.compaction.block_retention``. Keys were checked against
the Tempo 2.x configuration manifest (``grafana/tempo:docs/sources/tempo/configuration/manifest.md``), the
2.x single-binary Helm chart (``grafana-community/helm-charts:charts/tempo``) and the 2.x docker-compose
example (``grafana/tempo:example/docker-compose/shared/tempo.yaml``).

OTLP receivers bind ``0.0.0.0`` explicitly: newer OpenTelemetry receivers default to ``localhost``, which
would refuse every pod but Tempo itself.

The optional metrics-generator writes ``traces_service_graph_*`` and ``traces_spanmetrics_*`` series to
Prometheus' remote-write receiver (``/api/v1/write``); it is enabled only when the wiring supplies that
URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final
from urllib.parse import urlsplit

from vaultaio_constructs.rendering import dump_yaml

#: HTTP API (query, ``/ready``, ``/metrics``).
TEMPO_HTTP_PORT: Final = 3200
#: gRPC between Tempo's own modules; internal to the pod.
TEMPO_GRPC_PORT: Final = 9095
#: OTLP/gRPC receiver (what Alloy's ``otelcol.exporter.otlp`` targets).
TEMPO_OTLP_GRPC_PORT: Final = 4317
#: OTLP/HTTP receiver.
TEMPO_OTLP_HTTP_PORT: Final = 4318
#: Mount path of the data PVC (WAL, blocks, metrics-generator WAL).
TEMPO_DATA_DIR: Final = "/var/tempo"
TEMPO_CONFIG_DIR: Final = "/etc/tempo"
TEMPO_CONFIG_FILE: Final = "tempo.yaml"
TEMPO_CONFIG_PATH: Final = f"{TEMPO_CONFIG_DIR}/{TEMPO_CONFIG_FILE}"
TEMPO_READY_PATH: Final = "/ready"
#: Container arguments.
TEMPO_ARGS: Final = (f"-config.file={TEMPO_CONFIG_PATH}",)
#: User and group of the ``grafana/tempo`` image since 2.5 (CHANGELOG: "UID/GID of the tempo user", 10001).
TEMPO_UID: Final = 10001


class TempoLogLevel(StrEnum):
    """``server.log_level`` values Tempo accepts."""

    DEBUG = "debug"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"


@dataclass(frozen=True, kw_only=True)
class TempoConfig:
    """Inputs of :func:`render_tempo_config`."""

    #: How long trace blocks are kept (``compactor.compaction.block_retention``).
    retention_hours: int = 168
    #: Remote-write URLs (Prometheus' ``.../api/v1/write``, Mimir's ``.../api/v1/push``; one per replica of
    #: an HA pair, each getting every series) for the metrics-generator's service-graph and span-metrics
    #: series; empty: no metrics-generator.
    metrics_remote_write_urls: tuple[str, ...] = ()
    #: ``server.log_level``.
    log_level: TempoLogLevel = TempoLogLevel.INFO

    def __post_init__(self) -> None:
        if self.retention_hours < 1:
            raise ValueError(f"'retention_hours' must be >= 1, got {self.retention_hours}")
        for url in self.metrics_remote_write_urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(
                    f"'metrics_remote_write_urls' must be http:// or https:// URLs with a host, got {url!r}"
                )
            if parts.path in ("", "/"):
                raise ValueError(
                    f"'metrics_remote_write_urls' must name the remote-write receiver's path (Prometheus: "
                    f"/api/v1/write), got {url!r}"
                )


def tempo_config_dict(config: TempoConfig) -> dict[str, Any]:
    """The Tempo configuration as a plain mapping (the YAML document :func:`render_tempo_config` dumps)."""
    data = TEMPO_DATA_DIR
    doc: dict[str, Any] = {
        "target": "all",
        "server": {
            "http_listen_port": TEMPO_HTTP_PORT,
            "grpc_listen_port": TEMPO_GRPC_PORT,
            "log_level": str(config.log_level),
        },
        "distributor": {
            "receivers": {
                "otlp": {
                    "protocols": {
                        "grpc": {"endpoint": f"0.0.0.0:{TEMPO_OTLP_GRPC_PORT}"},
                        "http": {"endpoint": f"0.0.0.0:{TEMPO_OTLP_HTTP_PORT}"},
                    }
                }
            }
        },
        "ingester": {"lifecycler": {"ring": {"replication_factor": 1}}},
        "compactor": {"compaction": {"block_retention": f"{config.retention_hours}h"}},
        "storage": {
            "trace": {
                "backend": "local",
                "local": {"path": f"{data}/blocks"},
                "wal": {"path": f"{data}/wal"},
            }
        },
        "usage_report": {"reporting_enabled": False},
    }
    if config.metrics_remote_write_urls:
        doc["metrics_generator"] = {
            "registry": {"external_labels": {"source": "tempo"}},
            "storage": {
                "path": f"{data}/generator/wal",
                # Prometheus stores exemplars only with --enable-feature=exemplar-storage, which the stack
                # does not enable (no panel or data source uses them), so none are sent.
                "remote_write": [
                    {"url": url, "send_exemplars": False} for url in config.metrics_remote_write_urls
                ],
            },
        }
        doc["overrides"] = {
            "defaults": {"metrics_generator": {"processors": ["service-graphs", "span-metrics"]}}
        }
    return doc


def render_tempo_config(config: TempoConfig) -> str:
    """Tempo's ``tempo.yaml`` (sorted keys, no timestamps)."""
    return dump_yaml(tempo_config_dict(config))
