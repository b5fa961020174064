"""Loki 3.7 configuration for a single-binary (``-target=all``) Loki on a filesystem PVC.

Every key below was checked against the Loki configuration reference
(``grafana/loki:docs/sources/shared/configuration.md``) and the ruler documentation
(``docs/sources/alert/_index.md``); the tests assert the load-bearing ones.

Layout inside the container (the construct mounts these paths):

* ``/etc/loki/config/loki.yaml``: this file (ConfigMap, read-only). Not ``/etc/loki`` itself: the rules
  mount below must not be nested inside another ConfigMap mount.
* ``/etc/loki/rules/fake/*.yaml``: ruler rule files (ConfigMap, read-only). With ``auth_enabled: false``
  Loki runs as the single tenant ``fake``; the local ruler backend expects ``<directory>/<tenant>/``.
* ``/var/loki``: the PVC: chunks, TSDB index, WAL, compactor and ruler working directories.

Nothing here phones home (``analytics.reporting_enabled: false``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final
from urllib.parse import urlsplit

from vaultaio_constructs.rendering import dump_yaml

#: HTTP API (push, query, ``/ready``, ``/metrics``).
LOKI_HTTP_PORT: Final = 3100
#: gRPC between Loki's own modules; internal to the pod, never exposed by a Service.
LOKI_GRPC_PORT: Final = 9095
#: Mount path of the data PVC.
LOKI_DATA_DIR: Final = "/var/loki"
#: Directory holding the config file (ConfigMap mount).
LOKI_CONFIG_DIR: Final = "/etc/loki/config"
#: Key of the config file in its ConfigMap.
LOKI_CONFIG_FILE: Final = "loki.yaml"
LOKI_CONFIG_PATH: Final = f"{LOKI_CONFIG_DIR}/{LOKI_CONFIG_FILE}"
#: ``ruler.storage.local.directory``: the ruler reads ``<dir>/<tenant>/*.yaml``.
LOKI_RULES_DIR: Final = "/etc/loki/rules"
#: Tenant ID Loki uses when ``auth_enabled`` is false (documented in ``auth_enabled``).
LOKI_TENANT: Final = "fake"
#: Where the rules ConfigMap is mounted: the tenant's directory under :data:`LOKI_RULES_DIR`.
LOKI_TENANT_RULES_DIR: Final = f"{LOKI_RULES_DIR}/{LOKI_TENANT}"
#: Readiness endpoint.
LOKI_READY_PATH: Final = "/ready"
#: Push API path (what Alloy's ``loki.write`` targets).
LOKI_PUSH_PATH: Final = "/loki/api/v1/push"
#: First day of the only schema period (``tsdb``/``v13``). Fixed: changing it would orphan stored data.
LOKI_SCHEMA_FROM: Final = "2024-04-01"
#: Container arguments: monolithic mode with this file.
LOKI_ARGS: Final = (f"-config.file={LOKI_CONFIG_PATH}", "-target=all")


class LokiLogLevel(StrEnum):
    """``server.log_level`` values Loki accepts."""

    DEBUG = "debug"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"


@dataclass(frozen=True, kw_only=True)
class LokiLimits:
    """Per-tenant ingestion limits (``limits_config``); sized for one small cluster's logs."""

    #: ``ingestion_rate_mb``: sustained push rate in MB/s. Loki's default is 4.
    ingestion_rate_mb: float = 8.0
    #: ``ingestion_burst_size_mb``: burst allowance in MB; must be >= the rate. Loki's default is 6.
    ingestion_burst_size_mb: float = 16.0
    #: ``max_global_streams_per_user``: active streams across the instance. Loki's default is 5000.
    max_global_streams: int = 5000
    #: ``reject_old_samples_max_age``: entries older than this are refused (``reject_old_samples`` is on).
    reject_old_samples_max_age_hours: int = 168

    def __post_init__(self) -> None:
        if self.ingestion_rate_mb <= 0:
            raise ValueError(f"'ingestion_rate_mb' must be > 0, got {self.ingestion_rate_mb}")
        if self.ingestion_burst_size_mb < self.ingestion_rate_mb:
            raise ValueError(
                f"'ingestion_burst_size_mb' ({self.ingestion_burst_size_mb}) must be >= "
                f"'ingestion_rate_mb' ({self.ingestion_rate_mb})"
            )
        if self.max_global_streams < 1:
            raise ValueError(f"'max_global_streams' must be >= 1, got {self.max_global_streams}")
        if self.reject_old_samples_max_age_hours < 1:
            hours = self.reject_old_samples_max_age_hours
            raise ValueError(f"'reject_old_samples_max_age_hours' must be >= 1, got {hours}")


def _check_http_url(setting: str, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{setting!r} must be an http:// or https:// URL with a host, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class LokiConfig:
    """Inputs of :func:`render_loki_config`."""

    #: Alertmanager base URL for the ruler (from the wiring), e.g. ``http://alertmanager.vault-aio.svc:9093``,
    #: or a comma-separated list (one per replica of an Alertmanager cluster: ``ruler.alertmanager_url``
    #: treats each URL as a separate group and sends every alert to each); ``None``: the ruler evaluates
    #: rules but sends no notifications.
    alertmanager_url: str | None = None
    #: How long logs are kept; the compactor deletes older chunks (``limits_config.retention_period``).
    retention_days: int = 14
    #: Ingestion limits.
    limits: LokiLimits = field(default_factory=LokiLimits)
    #: ``server.log_level``.
    log_level: LokiLogLevel = LokiLogLevel.INFO

    def __post_init__(self) -> None:
        if self.alertmanager_url is not None:
            for url in self.alertmanager_url.split(","):
                _check_http_url("alertmanager_url", url)
        if self.retention_days < 1:
            raise ValueError(f"'retention_days' must be >= 1, got {self.retention_days}")
        if self.limits.reject_old_samples_max_age_hours > self.retention_days * 24:
            raise ValueError(
                f"'reject_old_samples_max_age_hours' ({self.limits.reject_old_samples_max_age_hours}) must "
                f"be <= 'retention_days' * 24 ({self.retention_days * 24}): older entries would be "
                "accepted and deleted at once"
            )


def loki_config_dict(config: LokiConfig) -> dict[str, Any]:
    """The Loki configuration as a plain mapping (the YAML document :func:`render_loki_config` dumps)."""
    data = LOKI_DATA_DIR
    limits = config.limits
    ruler: dict[str, Any] = {
        "storage": {"type": "local", "local": {"directory": LOKI_RULES_DIR}},
        # Scratch copy of the rules the ruler evaluates; must be writable (root filesystem is not).
        "rule_path": f"{data}/ruler-scratch",
        "wal": {"dir": f"{data}/ruler-wal"},
        "enable_api": True,
    }
    if config.alertmanager_url is not None:
        ruler["alertmanager_url"] = config.alertmanager_url
        ruler["enable_alertmanager_v2"] = True
    return {
        "target": "all",
        "auth_enabled": False,
        "server": {
            "http_listen_port": LOKI_HTTP_PORT,
            "grpc_listen_port": LOKI_GRPC_PORT,
            "log_level": str(config.log_level),
        },
        "common": {
            "path_prefix": data,
            "replication_factor": 1,
            # Loki advertises this address in its rings; a single process talks to itself.
            "instance_addr": "127.0.0.1",
            "ring": {"kvstore": {"store": "inmemory"}},
        },
        "ingester": {"wal": {"enabled": True, "dir": f"{data}/wal"}},
        "schema_config": {
            "configs": [
                {
                    "from": LOKI_SCHEMA_FROM,
                    "store": "tsdb",
                    "object_store": "filesystem",
                    "schema": "v13",
                    "index": {"prefix": "index_", "period": "24h"},
                }
            ]
        },
        "storage_config": {
            "tsdb_shipper": {
                "active_index_directory": f"{data}/tsdb-index",
                "cache_location": f"{data}/tsdb-cache",
            },
            "filesystem": {"directory": f"{data}/chunks"},
        },
        "compactor": {
            "working_directory": f"{data}/compactor",
            "compaction_interval": "10m",
            "retention_enabled": True,
            "retention_delete_delay": "2h",
            "delete_request_store": "filesystem",
        },
        "limits_config": {
            "retention_period": f"{config.retention_days * 24}h",
            "ingestion_rate_mb": limits.ingestion_rate_mb,
            "ingestion_burst_size_mb": limits.ingestion_burst_size_mb,
            "max_global_streams_per_user": limits.max_global_streams,
            "reject_old_samples": True,
            "reject_old_samples_max_age": f"{limits.reject_old_samples_max_age_hours}h",
            "allow_structured_metadata": True,
            "volume_enabled": True,
        },
        "ruler": ruler,
        "analytics": {"reporting_enabled": False},
    }


def render_loki_config(config: LokiConfig) -> str:
    """Loki's ``loki.yaml`` (sorted keys, no timestamps)."""
    return dump_yaml(loki_config_dict(config))
