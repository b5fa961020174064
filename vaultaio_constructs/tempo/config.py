"""Tempo 2.10 configuration for a monolithic Tempo: blocks on a local PVC, or in object storage with one or
more replicas sharing a memberlist ring.

Tempo 2.x still has ingesters and a compactor (3.0 replaced both with block-builders, live-stores and a
backend scheduler), so retention is ``compactor.compaction.block_retention``. Keys were checked against
the Tempo 2.x configuration manifest (``grafana/tempo:docs/sources/tempo/configuration/manifest.md``), the
2.x single-binary Helm chart (``grafana-community/helm-charts:charts/tempo``) and the 2.x docker-compose
example (``grafana/tempo:example/docker-compose/shared/tempo.yaml``).

Replicas: ``-target=all`` cannot replicate. Tempo 2.10's ``cmd/tempo/main.go`` forces, for that target,
the ingester and metrics-generator rings to ``inmemory``, the ingester ``replication_factor`` to 1 and
their addresses to ``127.0.0.1``; several such pods would be independent Tempos that each see only the
spans the Service happened to send them until their blocks reach the shared store. Tempo's documented way
to scale monolithic mode (``docs/sources/tempo/set-up-for-tracing/setup-tempo/plan/deployment-modes.md``,
"Scaling monolithic mode") is ``-target=scalable-single-binary``: the same modules, with the rings
(ingester, metrics-generator, and the compactor's, which ``initCompactor`` switches to memberlist for this
target) gossiped over ``memberlist``, and queriers that "perform a DNS lookup for the ``frontend_address``
and connect to the addresses found" (the headless peers Service). The ingester ring keeps
``min(replicas, 3)`` copies; at 2 Tempo uses its eventually consistent strategy (``pkg/ring/ring.go``: one
acknowledgement), so both 2 and 3 replicas keep accepting spans with one pod down. The compactors shard the
blocks between them over their ring, so retention runs once per block. Each metrics-generator remote-writes
its own series, told apart by the ``__metrics_gen_instance`` label Tempo adds
(``modules/generator/registry/registry.go``).

OTLP receivers bind ``0.0.0.0`` explicitly: newer OpenTelemetry receivers default to ``localhost``, which
would refuse every pod but Tempo itself.

The optional metrics-generator writes ``traces_service_graph_*`` and ``traces_spanmetrics_*`` series to
Prometheus' remote-write receiver (``/api/v1/write``); it is enabled only when the wiring supplies that
URL.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final
from urllib.parse import urlsplit

from vaultaio_constructs.common import has_control_characters
from vaultaio_constructs.objectstore import AzureStorage, GcsStorage, ObjectStorage, S3Storage
from vaultaio_constructs.rendering import dump_yaml
from vaultaio_constructs.replication import replication_factor

#: HTTP API (query, ``/ready``, ``/metrics``).
TEMPO_HTTP_PORT: Final = 3200
#: gRPC between Tempo's modules: inside the pod, and between replicas (distributor to ingesters and
#: metrics-generators, queriers to ingesters and query-frontends) through the headless peers Service only.
TEMPO_GRPC_PORT: Final = 9095
#: Memberlist gossip of the rings between replicas (TCP; dskit's transport).
TEMPO_MEMBERLIST_PORT: Final = 7946
#: ``target`` with one replica, and with several (see the module docstring).
TEMPO_TARGET_SINGLE: Final = "all"
TEMPO_TARGET_SCALABLE: Final = "scalable-single-binary"
#: OTLP/gRPC receiver (what Alloy's ``otelcol.exporter.otlp`` targets).
TEMPO_OTLP_GRPC_PORT: Final = 4317
#: OTLP/HTTP receiver.
TEMPO_OTLP_HTTP_PORT: Final = 4318
#: Mount path of the data PVC (WAL, blocks, metrics-generator WAL).
TEMPO_DATA_DIR: Final = "/var/tempo"
#: Where an external Prometheus' Secrets (basic-auth password, CA bundle) are mounted read-only, as
#: ``<dir>/<secret>/<key>``, for the metrics-generator's remote-write (outside :data:`TEMPO_CONFIG_DIR`: a
#: mount nested in a ConfigMap mount fails on some runtimes).
PROMETHEUS_SECRETS_DIR: Final = "/etc/prometheus-client"
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
    #: HTTP basic authentication to every remote-write URL: the user name and the file holding the password
    #: (``basic_auth: {username, password_file}``, read on every request); both or neither.
    metrics_remote_write_username: str | None = None
    metrics_remote_write_password_file: str | None = None
    #: PEM CA bundle that verifies the remote-write URLs' https certificate (``tls_config: {ca_file}``);
    #: ``None``: the system CAs. Only with ``https://`` URLs.
    metrics_remote_write_ca_file: str | None = None
    #: ``server.log_level``.
    log_level: TempoLogLevel = TempoLogLevel.INFO
    #: Block store: ``None`` for the local PVC, else an object store.
    storage: ObjectStorage | None = None
    #: Tempo pods sharing the rings (more than one needs object storage and the two peer addresses).
    replicas: int = 1
    #: Memberlist seed, ``dns+<headless service>:<port>`` (from the wiring); required with replicas.
    memberlist_join: str | None = None
    #: ``host:port`` of the query-frontends' gRPC through the headless Service; required with replicas.
    frontend_address: str | None = None

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise ValueError(f"'replicas' must be >= 1, got {self.replicas}")
        if self.replicas > 1 and self.storage is None:
            raise ValueError(
                f"'replicas' ({self.replicas}) needs object storage: local blocks live on one pod's volume"
            )
        if self.replicas > 1 and (self.memberlist_join is None or self.frontend_address is None):
            raise ValueError(
                f"'replicas' ({self.replicas}) needs 'memberlist_join' and 'frontend_address' for the rings"
            )
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
        if (self.metrics_remote_write_username is None) != (self.metrics_remote_write_password_file is None):
            raise ValueError(
                "'metrics_remote_write_username' and 'metrics_remote_write_password_file' must be given "
                "together (basic_auth)"
            )
        if self.metrics_remote_write_username is not None and (
            not self.metrics_remote_write_username
            or has_control_characters(self.metrics_remote_write_username)
        ):
            raise ValueError(
                f"'metrics_remote_write_username' must be a non-empty user name without control characters, "
                f"got {self.metrics_remote_write_username!r}"
            )
        for name in ("metrics_remote_write_password_file", "metrics_remote_write_ca_file"):
            path = getattr(self, name)
            if path is not None and (not posixpath.isabs(path) or has_control_characters(path)):
                raise ValueError(f"{name!r} must be an absolute path, got {path!r}")
        given = [
            name
            for name in ("metrics_remote_write_username", "metrics_remote_write_ca_file")
            if getattr(self, name) is not None
        ]
        if given and not self.metrics_remote_write_urls:
            raise ValueError(f"{given[0]!r} needs 'metrics_remote_write_urls' to send to")
        if self.metrics_remote_write_ca_file is not None and not all(
            url.startswith("https://") for url in self.metrics_remote_write_urls
        ):
            raise ValueError(
                "'metrics_remote_write_ca_file' verifies an https:// Prometheus, but "
                f"'metrics_remote_write_urls' is {list(self.metrics_remote_write_urls)!r}"
            )


def _trace_backend(storage: ObjectStorage) -> dict[str, Any]:
    """``storage.trace.<backend>`` (credentials come from the environment, never the file)."""
    if isinstance(storage, S3Storage):
        s3: dict[str, Any] = {
            "bucket": storage.bucket,
            "endpoint": storage.host,
            "forcepathstyle": storage.force_path_style,
        }
        if storage.region is not None:
            s3["region"] = storage.region
        if storage.insecure:
            s3["insecure"] = True
        if storage.ca_file is not None:
            s3["tls_ca_path"] = storage.ca_file
        return {"s3": s3}
    if isinstance(storage, GcsStorage):
        return {"gcs": {"bucket_name": storage.bucket}}
    assert isinstance(storage, AzureStorage)
    azure: dict[str, Any] = {
        "storage_account_name": storage.account_name,
        "container_name": storage.container,
    }
    if storage.workload_identity:
        azure["use_federated_token"] = True
    if storage.endpoint_suffix is not None:
        azure["endpoint_suffix"] = storage.endpoint_suffix
    return {"azure": azure}


def tempo_config_dict(config: TempoConfig) -> dict[str, Any]:
    """The Tempo configuration as a plain mapping (the YAML document :func:`render_tempo_config` dumps)."""
    data = TEMPO_DATA_DIR
    trace: dict[str, Any] = {"wal": {"path": f"{data}/wal"}}
    if config.storage is None:
        trace |= {"backend": "local", "local": {"path": f"{data}/blocks"}}
    else:
        trace |= {"backend": str(config.storage.type), **_trace_backend(config.storage)}
    scalable = config.replicas > 1
    doc: dict[str, Any] = {
        "target": TEMPO_TARGET_SCALABLE if scalable else TEMPO_TARGET_SINGLE,
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
        "ingester": {"lifecycler": {"ring": {"replication_factor": replication_factor(config.replicas)}}},
        "compactor": {"compaction": {"block_retention": f"{config.retention_hours}h"}},
        "storage": {"trace": trace},
        "usage_report": {"reporting_enabled": False},
    }
    if scalable:
        # The ingester and metrics-generator rings default to memberlist (manifest.md); set it anyway so the
        # file says how the replicas find each other. The compactor ring is switched by the target.
        doc["ingester"]["lifecycler"]["ring"]["kvstore"] = {"store": "memberlist"}
        doc["memberlist"] = {"join_members": [config.memberlist_join], "bind_port": TEMPO_MEMBERLIST_PORT}
        doc["querier"] = {"frontend_worker": {"frontend_address": config.frontend_address}}
    if config.metrics_remote_write_urls:
        doc["metrics_generator"] = {
            "registry": {"external_labels": {"source": "tempo"}},
            "storage": {
                "path": f"{data}/generator/wal",
                # Prometheus stores exemplars only with --enable-feature=exemplar-storage, which the stack
                # does not enable (no panel or data source uses them), so none are sent.
                "remote_write": [
                    {"url": url, "send_exemplars": False, **_remote_write_client(config)}
                    for url in config.metrics_remote_write_urls
                ],
            },
        }
        doc["overrides"] = {
            "defaults": {"metrics_generator": {"processors": ["service-graphs", "span-metrics"]}}
        }
    return doc


def _remote_write_client(config: TempoConfig) -> dict[str, Any]:
    """Prometheus' HTTP client settings of a remote-write entry (``basic_auth``, ``tls_config``): only file
    paths, the Secrets stay in their mounts."""
    client: dict[str, Any] = {}
    if config.metrics_remote_write_username is not None:
        client["basic_auth"] = {
            "username": config.metrics_remote_write_username,
            "password_file": config.metrics_remote_write_password_file,
        }
    if config.metrics_remote_write_ca_file is not None:
        client["tls_config"] = {"ca_file": config.metrics_remote_write_ca_file}
    return client


def render_tempo_config(config: TempoConfig) -> str:
    """Tempo's ``tempo.yaml`` (sorted keys, no timestamps)."""
    return dump_yaml(tempo_config_dict(config))
