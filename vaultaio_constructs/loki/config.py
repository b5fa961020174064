"""Loki 3.7 configuration for a monolithic (``-target=all``) Loki: chunks on a filesystem PVC, or in object
storage with one or more replicas sharing a memberlist ring.

Every key below was checked against the Loki 3.7.6 configuration reference
(``grafana/loki:docs/sources/shared/configuration.md``), the ruler documentation
(``docs/sources/alert/_index.md``) and the sources named where a value depends on them; the tests assert the
load-bearing ones.

With object storage (``s3``, ``gcs``, ``azure`` under ``common.storage``) the schema period, the compactor's
delete-request store and the chunks all use that store; the TSDB index is shipped there too
(``tsdb_shipper``), so every replica reads the same data. With ``replicas > 1`` the rings move from
``inmemory`` to ``memberlist`` (joined through the headless peers Service), ``replication_factor`` is
:func:`~vaultaio_constructs.replication.replication_factor` of the replicas, the ring address is the pod's
own (no ``instance_addr: 127.0.0.1``), and the ruler shards its rule groups over the replicas
(``enable_sharding``; every pod mounts the same rules, which the ruler docs name as the way to shard with
``local`` rule storage). The compactor needs no setting to stay single: Loki elects one compactor through
its own ring (``pkg/compactor/compactor.go``, ``ringKeyOfLeader``), and its deletion markers go to the object
store (``deletion_marker_object_store_prefix``) so a new leader sweeps what an old one marked.

``ingester.wal.replay_memory_ceiling`` is sized from the container's memory limit (Loki's 4GB default would
OOM a small pod replaying its WAL after a crash); see :data:`WAL_REPLAY_MEMORY_PERCENT`.

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

from vaultaio_constructs.objectstore import (
    AZURE_KEY_ENV,
    AzureStorage,
    GcsStorage,
    ObjectStorage,
    S3Storage,
)
from vaultaio_constructs.rendering import dump_yaml
from vaultaio_constructs.replication import replication_factor

#: HTTP API (push, query, ``/ready``, ``/metrics``).
LOKI_HTTP_PORT: Final = 3100
#: gRPC between Loki's modules: inside the pod, and between replicas (distributor to ingesters, queriers
#: to ingesters, ruler sharding) through the headless peers Service only.
LOKI_GRPC_PORT: Final = 9095
#: Memberlist gossip of the rings between replicas (dskit's memberlist transport is TCP only).
LOKI_MEMBERLIST_PORT: Final = 7946
#: ``ingester.wal.replay_memory_ceiling`` as a share of the container memory limit. The WAL docs
#: (``docs/sources/operations/storage/wal.md``) suggest ~75% of an ingester's memory; a monolithic pod also
#: runs the query path, compactor and ruler in the same heap, so half leaves them room.
WAL_REPLAY_MEMORY_PERCENT: Final = 50
#: ``compactor.deletion_marker_object_store_prefix`` with object storage (must end with ``/``).
DELETION_MARKER_PREFIX: Final = "loki-compactor/deletion-markers/"
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
#: Added when the config references an environment variable (the Azure account key).
LOKI_EXPAND_ENV_ARG: Final = "-config.expand-env=true"


def wal_replay_memory_ceiling_mib(memory_limit_mib: int) -> int:
    """:data:`WAL_REPLAY_MEMORY_PERCENT` of the memory limit, in MiB (at least 1)."""
    return max(1, memory_limit_mib * WAL_REPLAY_MEMORY_PERCENT // 100)


class LokiLogLevel(StrEnum):
    """``server.log_level`` values Loki accepts."""

    DEBUG = "debug"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"


class LokiDeletionMode(StrEnum):
    """``limits_config.deletion_mode`` values of Loki 3.7.6 (``pkg/compactor/deletionmode/mode.go``).

    With ``retention_enabled`` (this stack's compactor has it) anything but ``disabled`` serves the log
    deletion API (``/loki/api/v1/delete``); ``disabled`` answers it 403 (``deletion.TenantMiddleware``).
    Loki's own default is ``filter-and-delete``.
    """

    #: The deletion API is refused: logs leave Loki only through retention.
    DISABLED = "disabled"
    #: Delete requests hide matching lines from queries; the chunks keep them.
    FILTER_ONLY = "filter-only"
    #: Delete requests hide matching lines and the compactor removes them from storage.
    FILTER_AND_DELETE = "filter-and-delete"


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
    #: Chunk and index store: ``None`` for the filesystem PVC, else an object store.
    storage: ObjectStorage | None = None
    #: Loki pods sharing the ring (more than one needs object storage and ``memberlist_join``).
    replicas: int = 1
    #: Memberlist seed, ``dns+<headless service>:<port>`` (from the wiring); required with replicas.
    memberlist_join: str | None = None
    #: ``ingester.wal.replay_memory_ceiling`` in MiB (``None``: Loki's 4GB default).
    wal_replay_memory_ceiling_mib: int | None = None
    #: ``limits_config.deletion_mode``: whether the log deletion API is served.
    deletion_mode: LokiDeletionMode = LokiDeletionMode.DISABLED

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise ValueError(f"'replicas' must be >= 1, got {self.replicas}")
        if self.replicas > 1 and self.storage is None:
            raise ValueError(
                f"'replicas' ({self.replicas}) needs object storage: filesystem chunks live on one pod's "
                "volume"
            )
        if self.replicas > 1 and self.memberlist_join is None:
            raise ValueError(f"'replicas' ({self.replicas}) needs 'memberlist_join' for the shared ring")
        if self.wal_replay_memory_ceiling_mib is not None and self.wal_replay_memory_ceiling_mib < 1:
            raise ValueError(
                f"'wal_replay_memory_ceiling_mib' must be >= 1, got {self.wal_replay_memory_ceiling_mib}"
            )
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


def _object_store(storage: ObjectStorage) -> dict[str, Any]:
    """``common.storage`` for an object store (credentials come from the environment, never the file)."""
    if isinstance(storage, S3Storage):
        s3: dict[str, Any] = {
            "bucketnames": storage.bucket,
            "endpoint": storage.host,
            "s3forcepathstyle": storage.force_path_style,
        }
        if storage.region is not None:
            s3["region"] = storage.region
        if storage.insecure:
            s3["insecure"] = True
        if storage.ca_file is not None:
            s3["http_config"] = {"ca_file": storage.ca_file}
        return {"s3": s3}
    if isinstance(storage, GcsStorage):
        return {"gcs": {"bucket_name": storage.bucket}}
    assert isinstance(storage, AzureStorage)
    azure: dict[str, Any] = {"account_name": storage.account_name, "container_name": storage.container}
    if storage.workload_identity:
        azure["use_federated_token"] = True
    else:
        # Loki reads the key only from its config: expanded from the Secret-backed variable at start.
        azure["account_key"] = f"${{{AZURE_KEY_ENV}}}"
    if storage.endpoint_suffix is not None:
        azure["endpoint_suffix"] = storage.endpoint_suffix
    return {"azure": azure}


def needs_expand_env(config: LokiConfig) -> bool:
    """Whether the config references an environment variable (run with ``-config.expand-env=true``)."""
    return isinstance(config.storage, AzureStorage) and not config.storage.workload_identity


def loki_config_dict(config: LokiConfig) -> dict[str, Any]:
    """The Loki configuration as a plain mapping (the YAML document :func:`render_loki_config` dumps)."""
    data = LOKI_DATA_DIR
    limits = config.limits
    store = "filesystem" if config.storage is None else str(config.storage.type)
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
    common: dict[str, Any] = {"path_prefix": data, "replication_factor": replication_factor(config.replicas)}
    if config.replicas == 1:
        # Loki advertises this address in its rings; a single process talks to itself.
        common["instance_addr"] = "127.0.0.1"
        common["ring"] = {"kvstore": {"store": "inmemory"}}
    else:
        # Every ring (ingester, distributor, compactor, ruler, scheduler, index gateway) gossips over
        # memberlist and advertises the pod's own address (Loki's default: its private interface).
        common["ring"] = {"kvstore": {"store": "memberlist"}}
        ruler["enable_sharding"] = True
    storage_config: dict[str, Any] = {
        "tsdb_shipper": {
            "active_index_directory": f"{data}/tsdb-index",
            "cache_location": f"{data}/tsdb-cache",
        },
    }
    compactor: dict[str, Any] = {
        "working_directory": f"{data}/compactor",
        "compaction_interval": "10m",
        "retention_enabled": True,
        "retention_delete_delay": "2h",
        "delete_request_store": store,
    }
    if config.storage is None:
        storage_config["filesystem"] = {"directory": f"{data}/chunks"}
    else:
        common["storage"] = _object_store(config.storage)
        compactor["deletion_marker_object_store_prefix"] = DELETION_MARKER_PREFIX
    ingester: dict[str, Any] = {"wal": {"enabled": True, "dir": f"{data}/wal"}}
    if config.wal_replay_memory_ceiling_mib is not None:
        # flagext.ByteSize parses with c2h5oh/datasize, where MB is 1024 * 1024 bytes.
        ingester["wal"]["replay_memory_ceiling"] = f"{config.wal_replay_memory_ceiling_mib}MB"
    doc: dict[str, Any] = {
        "target": "all",
        "auth_enabled": False,
        "server": {
            "http_listen_port": LOKI_HTTP_PORT,
            "grpc_listen_port": LOKI_GRPC_PORT,
            "log_level": str(config.log_level),
        },
        "common": common,
        "ingester": ingester,
        "schema_config": {
            "configs": [
                {
                    "from": LOKI_SCHEMA_FROM,
                    "store": "tsdb",
                    "object_store": store,
                    "schema": "v13",
                    "index": {"prefix": "index_", "period": "24h"},
                }
            ]
        },
        "storage_config": storage_config,
        "compactor": compactor,
        "limits_config": {
            "retention_period": f"{config.retention_days * 24}h",
            "ingestion_rate_mb": limits.ingestion_rate_mb,
            "ingestion_burst_size_mb": limits.ingestion_burst_size_mb,
            "max_global_streams_per_user": limits.max_global_streams,
            "reject_old_samples": True,
            "reject_old_samples_max_age": f"{limits.reject_old_samples_max_age_hours}h",
            "allow_structured_metadata": True,
            "volume_enabled": True,
            # the audit trail must not be erasable through the API by any pod that reaches 3100
            "deletion_mode": str(config.deletion_mode),
        },
        "ruler": ruler,
        "analytics": {"reporting_enabled": False},
    }
    if config.replicas > 1 and config.memberlist_join is not None:
        doc["memberlist"] = {"join_members": [config.memberlist_join], "bind_port": LOKI_MEMBERLIST_PORT}
    return doc


def render_loki_config(config: LokiConfig) -> str:
    """Loki's ``loki.yaml`` (sorted keys, no timestamps)."""
    return dump_yaml(loki_config_dict(config))
