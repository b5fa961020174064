"""Prometheus Operator custom resources (``monitoring.coreos.com/v1``): the fields this stack sets.

* :class:`PodMonitorSpec`: scrape pods selected by labels, one named container port each; the operator
  discovers pods whatever their readiness (only ``Failed``/``Succeeded`` pods are dropped), which is what a
  sealed Vault needs.
* :class:`PrometheusRuleSpec`: rule groups in Prometheus' own rule-file format.
* :class:`ProbeSpec`: a blackbox-exporter probe of static targets.

Field names follow the v0.93.0 CRDs; the tests validate every rendered object against their schemas.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

API_VERSION: Final = "monitoring.coreos.com/v1"

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
#: Prometheus Operator's ``Duration`` pattern, restricted to the one-unit forms the stack writes.
_DURATION = re.compile(r"^[1-9][0-9]*(ms|s|m|h)$")
_HOST_PORT = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?:[0-9]{1,5}$")


def _check_duration(value: str | None, setting: str) -> None:
    if value is not None and not _DURATION.fullmatch(value):
        raise ValueError(f"'{setting}' must be a duration like '30s' or '1m', got {value!r}")


@dataclass(frozen=True, kw_only=True)
class SecretKeySelector:
    """A key of a Secret in the monitor's namespace (the operator reads it and hands it to Prometheus)."""

    name: str
    key: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "key": self.key}


@dataclass(frozen=True, kw_only=True)
class SafeTlsConfig:
    """How Prometheus verifies the target: the CA from a Secret and the name to verify."""

    #: CA bundle that signed the target's certificate (``None``: the system roots).
    ca: SecretKeySelector | None = None
    #: Name to verify on the certificate (targets are addressed by pod IP).
    server_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        tls: dict[str, Any] = {"insecureSkipVerify": False}
        if self.ca is not None:
            tls["ca"] = {"secret": self.ca.to_dict()}
        if self.server_name:
            tls["serverName"] = self.server_name
        return tls


@dataclass(frozen=True, kw_only=True)
class Relabeling:
    """A ``replace`` relabeling that sets ``target_label`` to a fixed ``replacement``."""

    target_label: str
    replacement: str

    def __post_init__(self) -> None:
        if not _LABEL_NAME.fullmatch(self.target_label):
            raise ValueError(f"relabeling 'target_label' must be a label name, got {self.target_label!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"action": "replace", "targetLabel": self.target_label, "replacement": self.replacement}


@dataclass(frozen=True, kw_only=True)
class PodMetricsEndpoint:
    """One scrape endpoint of a PodMonitor: a named container port, path, parameters and TLS."""

    #: Name of the container port.
    port: str
    path: str = "/metrics"
    #: URL query parameters (``{"format": ("prometheus",)}`` for Vault).
    params: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: TLS verification; the scheme is ``https`` exactly when this is set.
    tls: SafeTlsConfig | None = None
    #: Scrape interval (``None``: the Prometheus' default).
    interval: str | None = None
    relabelings: tuple[Relabeling, ...] = ()

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"'path' must start with '/', got {self.path!r}")
        _check_duration(self.interval, "interval")

    def to_dict(self) -> dict[str, Any]:
        endpoint: dict[str, Any] = {
            "port": self.port,
            "path": self.path,
            "scheme": "https" if self.tls else "http",
        }
        if self.params:
            endpoint["params"] = {key: list(values) for key, values in sorted(self.params.items())}
        if self.tls:
            endpoint["tlsConfig"] = self.tls.to_dict()
        if self.interval:
            endpoint["interval"] = self.interval
        if self.relabelings:
            endpoint["relabelings"] = [r.to_dict() for r in self.relabelings]
        return endpoint


@dataclass(frozen=True, kw_only=True)
class PodMonitorSpec:
    """Scrape every pod in ``namespace`` matching ``selector`` on each endpoint."""

    namespace: str
    selector: Mapping[str, str]
    endpoints: tuple[PodMetricsEndpoint, ...]

    def __post_init__(self) -> None:
        if not self.selector:
            raise ValueError("a PodMonitor needs a non-empty pod selector: an empty one selects every pod")
        if not self.endpoints:
            raise ValueError("a PodMonitor needs at least one endpoint")

    def to_dict(self) -> dict[str, Any]:
        return {
            "namespaceSelector": {"matchNames": [self.namespace]},
            "selector": {"matchLabels": dict(sorted(self.selector.items()))},
            "podMetricsEndpoints": [e.to_dict() for e in self.endpoints],
        }


@dataclass(frozen=True, kw_only=True)
class PrometheusRuleSpec:
    """Rule groups, exactly as a Prometheus rule file's ``groups`` (``{"name": ..., "rules": [...]}``)."""

    groups: Sequence[Mapping[str, Any]]

    def __post_init__(self) -> None:
        names = [group.get("name") for group in self.groups]
        if not self.groups or any(not isinstance(n, str) or not n for n in names):
            raise ValueError("a PrometheusRule needs at least one group, each with a name")
        if len(set(names)) != len(names):
            raise ValueError(f"rule group names must be unique, got {names}")

    def to_dict(self) -> dict[str, Any]:
        return {"groups": [dict(group) for group in self.groups]}


@dataclass(frozen=True, kw_only=True)
class ProbeSpec:
    """A blackbox-exporter probe of static targets, under a fixed ``job`` label."""

    #: ``job`` label of the probe's series (what alert rules select on).
    job_name: str
    #: ``host:port`` of the blackbox exporter.
    prober_url: str
    #: Module of the blackbox exporter's configuration.
    module: str
    targets: tuple[str, ...]
    interval: str | None = None

    def __post_init__(self) -> None:
        if not _HOST_PORT.fullmatch(self.prober_url):
            raise ValueError(
                f"'prober_url' must be 'host:port' of the blackbox exporter, got {self.prober_url!r}"
            )
        if not self.targets:
            raise ValueError("a Probe needs at least one target")
        _check_duration(self.interval, "interval")

    def to_dict(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "jobName": self.job_name,
            "module": self.module,
            "prober": {"url": self.prober_url, "scheme": "http", "path": "/probe"},
            "targets": {"staticConfig": {"static": list(self.targets)}},
        }
        if self.interval:
            spec["interval"] = self.interval
        return spec


__all__ = [
    "API_VERSION",
    "PodMetricsEndpoint",
    "PodMonitorSpec",
    "ProbeSpec",
    "PrometheusRuleSpec",
    "Relabeling",
    "SafeTlsConfig",
    "SecretKeySelector",
]
