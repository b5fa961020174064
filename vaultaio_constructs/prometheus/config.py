"""Render ``prometheus.yml`` from typed scrape jobs, and Prometheus' command line.

Plain inputs only (DNS names, ports, paths, in-pod file paths), so the renderer is testable without a chart.

Targets:

* Vault: every pod is discovered with a DNS A lookup of the headless Service (``vault-internal``), which
  publishes not-ready addresses, so sealed and standby pods are scraped too and no Kubernetes API access is
  needed. ``instance`` is ``<pod IP>:<port>``; TLS is verified against the mounted CA with the Service name
  as server name (pods are reached by IP).
* Single-replica components: static targets ``<service>.<namespace>.svc:<port>``.
* Content-Type: Prometheus 3 fails a scrape whose ``Content-Type`` is missing or not a metrics format unless
  the job sets ``fallback_scrape_protocol`` (:class:`ScrapeProtocol`). No job of this stack needs one: Vault
  answers ``/v1/sys/metrics?format=prometheus`` with ``text/plain; version=0.0.4`` (``helper/metricsutil``
  encodes with ``expfmt`` and ``http/sys_metrics.go`` sets the header before the status; releases that set it
  after the status still sent a sniffed ``text/plain``), and Prometheus, Alertmanager, Grafana, Loki and
  Tempo serve ``/metrics`` through ``client_golang``'s content negotiation. A target added through
  :class:`~vaultaio_constructs.scrape.ScrapeTarget` can set one.
* Node, Alloy and blackbox-probe metrics are not scraped here: Grafana Alloy collects them on every node
  and pushes them to Prometheus' remote-write receiver (``--web.enable-remote-write-receiver``, path
  :data:`REMOTE_WRITE_PATH`). Kubelet and cAdvisor are not scraped: that needs cluster-wide RBAC on
  ``nodes/metrics``; volume usage comes from the node's mount table instead (see the PVC alerts).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final
from urllib.parse import urlsplit

from vaultaio_constructs.rendering import dump_yaml

#: Where Alloy pushes samples (Prometheus' remote-write receiver, enabled by :data:`REMOTE_WRITE_FLAG`).
REMOTE_WRITE_PATH: Final = "/api/v1/write"
#: Command-line flag that enables the remote-write receiver (Prometheus v3).
REMOTE_WRITE_FLAG: Final = "--web.enable-remote-write-receiver"

_JOB = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_-]*$")
_HOST_PORT = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?:[0-9]{1,5}$")
_DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class ScrapeProtocol(StrEnum):
    """Exposition formats Prometheus 3 can fall back to (``fallback_scrape_protocol``)."""

    PROMETHEUS_TEXT_0_0_4 = "PrometheusText0.0.4"
    PROMETHEUS_TEXT_1_0_0 = "PrometheusText1.0.0"
    OPENMETRICS_TEXT_0_0_1 = "OpenMetricsText0.0.1"
    OPENMETRICS_TEXT_1_0_0 = "OpenMetricsText1.0.0"
    PROMETHEUS_PROTO = "PrometheusProto"


def _check_port(port: int, setting: str) -> None:
    if not 1 <= port <= 65535:
        raise ValueError(f"'{setting}' must be a port between 1 and 65535, got {port}")


def _check_host_port(value: str, setting: str) -> None:
    if not _HOST_PORT.fullmatch(value):
        raise ValueError(f"'{setting}' must be 'host:port' (e.g. 'loki.vault-aio.svc:3100'), got {value!r}")
    _check_port(int(value.rsplit(":", 1)[1]), setting)


@dataclass(frozen=True, kw_only=True)
class ScrapeTls:
    """Verify the target's certificate: scraping uses ``https`` when this is set."""

    #: In-pod path of the CA bundle (a Secret key mounted into Prometheus); "" trusts the system roots.
    ca_file: str = ""
    #: Name to verify on the certificate when targets are addressed by IP ("": the target's host).
    server_name: str = ""

    def __post_init__(self) -> None:
        if self.ca_file and not self.ca_file.startswith("/"):
            raise ValueError(f"'ca_file' must be an absolute in-pod path, got {self.ca_file!r}")
        if self.server_name and not _DNS_NAME.fullmatch(self.server_name):
            raise ValueError(f"'server_name' must be a DNS name, got {self.server_name!r}")


@dataclass(frozen=True, kw_only=True)
class ScrapeJob:
    """One scrape job: static ``host:port`` targets or DNS A discovery of a (headless) Service."""

    #: Job name; becomes the ``job`` label every alert and dashboard selects on.
    job: str
    #: Static targets, ``host:port`` (exclusive with ``dns_names``).
    static_targets: tuple[str, ...] = ()
    #: Names resolved with DNS A queries; every address becomes a target on ``dns_port``.
    dns_names: tuple[str, ...] = ()
    #: Port of DNS-discovered targets (required with ``dns_names``).
    dns_port: int | None = None
    #: HTTP path of the metrics endpoint.
    metrics_path: str = "/metrics"
    #: URL query parameters, e.g. ``{"format": ("prometheus",)}`` for Vault.
    params: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: TLS verification; ``None`` scrapes over plain http.
    tls: ScrapeTls | None = None
    #: In-pod path of a bearer token file sent as ``Authorization: Bearer`` ("" for none).
    bearer_token_file: str = ""
    #: Per-job scrape interval in seconds (``None``: the global interval).
    scrape_interval_seconds: int | None = None
    #: Format to parse a response with when its ``Content-Type`` is missing or unknown (``None``: such a
    #: scrape fails, which is right for every target that sends a proper type).
    fallback_scrape_protocol: ScrapeProtocol | None = None

    def __post_init__(self) -> None:
        if not _JOB.fullmatch(self.job):
            raise ValueError(f"'job' must be letters, digits, '_' or '-', got {self.job!r}")
        if bool(self.static_targets) == bool(self.dns_names):
            raise ValueError(
                f"scrape job {self.job!r}: set exactly one of 'static_targets' or 'dns_names', "
                f"got {len(self.static_targets)} static targets and {len(self.dns_names)} DNS names"
            )
        for target in self.static_targets:
            _check_host_port(target, "static_targets")
        for name in self.dns_names:
            if not _DNS_NAME.fullmatch(name):
                raise ValueError(f"scrape job {self.job!r}: 'dns_names' entry {name!r} is not a DNS name")
        if self.dns_names and self.dns_port is None:
            raise ValueError(f"scrape job {self.job!r}: 'dns_port' is required with 'dns_names'")
        if self.dns_port is not None:
            _check_port(self.dns_port, "dns_port")
        if not self.metrics_path.startswith("/"):
            raise ValueError(
                f"scrape job {self.job!r}: 'metrics_path' must start with '/', got {self.metrics_path!r}"
            )
        if self.bearer_token_file and not self.bearer_token_file.startswith("/"):
            raise ValueError(
                f"scrape job {self.job!r}: 'bearer_token_file' must be an absolute path, "
                f"got {self.bearer_token_file!r}"
            )
        if self.scrape_interval_seconds is not None and self.scrape_interval_seconds < 1:
            raise ValueError(f"'scrape_interval_seconds' must be >= 1, got {self.scrape_interval_seconds}")

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    def to_config(self) -> dict[str, Any]:
        """The job's ``scrape_configs`` entry."""
        job: dict[str, Any] = {"job_name": self.job, "metrics_path": self.metrics_path, "scheme": self.scheme}
        if self.static_targets:
            job["static_configs"] = [{"targets": sorted(self.static_targets)}]
        else:
            job["dns_sd_configs"] = [{"names": list(self.dns_names), "type": "A", "port": self.dns_port}]
        if self.params:
            job["params"] = {key: list(values) for key, values in sorted(self.params.items())}
        if self.tls:
            tls: dict[str, Any] = {"insecure_skip_verify": False}
            if self.tls.ca_file:
                tls["ca_file"] = self.tls.ca_file
            if self.tls.server_name:
                tls["server_name"] = self.tls.server_name
            job["tls_config"] = tls
        if self.bearer_token_file:
            job["authorization"] = {"type": "Bearer", "credentials_file": self.bearer_token_file}
        if self.scrape_interval_seconds is not None:
            job["scrape_interval"] = f"{self.scrape_interval_seconds}s"
        if self.fallback_scrape_protocol is not None:
            job["fallback_scrape_protocol"] = str(self.fallback_scrape_protocol)
        return job


def vault_scrape_job(
    *,
    headless_service_fqdn: str,
    port: int,
    ca_file: str | None,
    server_name: str,
    job: str = "vault",
) -> ScrapeJob:
    """Vault's job: every pod by DNS A lookup, ``/v1/sys/metrics?format=prometheus``, TLS when ``ca_file``."""
    return ScrapeJob(
        job=job,
        dns_names=(headless_service_fqdn,),
        dns_port=port,
        metrics_path="/v1/sys/metrics",
        params={"format": ("prometheus",)},
        tls=ScrapeTls(ca_file=ca_file, server_name=server_name) if ca_file else None,
    )


@dataclass(frozen=True, kw_only=True)
class PrometheusConfig:
    """Everything ``prometheus.yml`` contains."""

    jobs: tuple[ScrapeJob, ...]
    #: Alertmanager base URLs (``http://alertmanager.<ns>.svc:9093``, API v2); the scheme and path of
    #: each become its ``scheme`` and ``path_prefix``.
    alertmanagers: tuple[str, ...] = ()
    #: In-pod paths (or globs) of rule files.
    rule_files: tuple[str, ...] = ()
    #: Default scrape interval in seconds.
    scrape_interval_seconds: int = 30
    #: Default scrape timeout in seconds; must not exceed the interval.
    scrape_timeout_seconds: int = 10
    #: Rule evaluation interval in seconds.
    evaluation_interval_seconds: int = 30
    #: Labels added to every series and alert leaving this Prometheus (e.g. ``{"cluster": "prod"}``).
    #: Prometheus 3 expands ``$VAR``/``${VAR}`` in the values (environment variables, e.g. the pod name of
    #: an HA replica); a literal ``$`` is written ``$$``.
    external_labels: Mapping[str, str] = field(default_factory=dict)
    #: Labels removed from alerts before they reach Alertmanager (``alert_relabel_configs`` ``labeldrop``):
    #: the replica label of an HA pair, so both replicas' copies of an alert are one alert to Alertmanager.
    alert_drop_labels: tuple[str, ...] = ()
    #: ``remote_write`` entries, already rendered (:meth:`RemoteWrite.to_config
    #: <vaultaio_constructs.prometheus.remote_write.RemoteWrite.to_config>`).
    remote_write: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        names = [job.job for job in self.jobs]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"scrape job names must be unique, got duplicates {duplicates}")
        for setting in ("scrape_interval_seconds", "scrape_timeout_seconds", "evaluation_interval_seconds"):
            if getattr(self, setting) < 1:
                raise ValueError(f"'{setting}' must be >= 1, got {getattr(self, setting)}")
        if self.scrape_timeout_seconds > self.scrape_interval_seconds:
            raise ValueError(
                f"'scrape_timeout_seconds' ({self.scrape_timeout_seconds}) must be <= "
                f"'scrape_interval_seconds' ({self.scrape_interval_seconds})"
            )
        for job in self.jobs:
            interval = job.scrape_interval_seconds
            if interval is not None and interval < self.scrape_timeout_seconds:
                raise ValueError(
                    f"scrape job {job.job!r}: 'scrape_interval_seconds' ({interval}) must be >= "
                    f"'scrape_timeout_seconds' ({self.scrape_timeout_seconds})"
                )
        for url in self.alertmanagers:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or parts.query or parts.fragment:
                raise ValueError(f"'alertmanagers' entries must be http(s):// base URLs, got {url!r}")
            _check_host_port(parts.netloc, "alertmanagers")
        for name in (*self.external_labels, *self.alert_drop_labels):
            if not _LABEL_NAME.fullmatch(name):
                raise ValueError(f"'external_labels' key {name!r} is not a valid label name")
        names = [str(entry.get("name", "")) for entry in self.remote_write]
        if len(set(names)) != len(names) or not all(names):
            raise ValueError(f"every 'remote_write' entry needs a unique name, got {names}")

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "global": {
                "scrape_interval": f"{self.scrape_interval_seconds}s",
                "scrape_timeout": f"{self.scrape_timeout_seconds}s",
                "evaluation_interval": f"{self.evaluation_interval_seconds}s",
            },
            "scrape_configs": [job.to_config() for job in sorted(self.jobs, key=lambda job: job.job)],
        }
        if self.external_labels:
            document["global"]["external_labels"] = dict(self.external_labels)
        if self.rule_files:
            document["rule_files"] = list(self.rule_files)
        if self.alertmanagers:
            groups: dict[tuple[str, str], list[str]] = {}
            for url in self.alertmanagers:
                parts = urlsplit(url)
                groups.setdefault((parts.scheme, parts.path.rstrip("/")), []).append(parts.netloc)
            document["alerting"] = {
                "alertmanagers": [
                    {
                        "api_version": "v2",
                        "scheme": scheme,
                        **({"path_prefix": path} if path else {}),
                        "static_configs": [{"targets": sorted(targets)}],
                    }
                    for (scheme, path), targets in sorted(groups.items())
                ]
            }
            if self.alert_drop_labels:
                document["alerting"]["alert_relabel_configs"] = [
                    {"action": "labeldrop", "regex": "|".join(self.alert_drop_labels)}
                ]
        if self.remote_write:
            document["remote_write"] = [dict(entry) for entry in self.remote_write]
        return document


def render_prometheus_config(config: PrometheusConfig) -> str:
    """``prometheus.yml`` (sorted keys, deterministic)."""
    return dump_yaml(config.to_dict())


def prometheus_args(
    *,
    config_file: str,
    storage_path: str,
    retention_days: int,
    retention_size_gib: int | None,
    port: int,
) -> list[str]:
    """Prometheus' command line: config, TSDB path and retention, listen port, remote-write receiver."""
    if retention_days < 1:
        raise ValueError(f"'retention_days' must be >= 1, got {retention_days}")
    if retention_size_gib is not None and retention_size_gib < 1:
        raise ValueError(f"'retention_size_gib' must be >= 1, got {retention_size_gib}")
    _check_port(port, "port")
    args = [
        f"--config.file={config_file}",
        f"--storage.tsdb.path={storage_path}",
        f"--storage.tsdb.retention.time={retention_days}d",
        f"--web.listen-address=:{port}",
        REMOTE_WRITE_FLAG,
    ]
    if retention_size_gib is not None:
        args.append(f"--storage.tsdb.retention.size={retention_size_gib}GB")
    return args
