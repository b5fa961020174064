"""Settings for monitoring the cluster already runs: a Prometheus Operator (kube-prometheus-stack) that
scrapes Vault and evaluates its alert rules.

Kept free of cdk8s and custom-resource code: the settings schema imports it on every synth.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.common import (
    PROPS_CONFIG,
    DnsLabel,
    check_annotations,
    check_host_credentials,
    shown,
)
from vaultaio_constructs.fielddocs import document_fields

_HOST_PORT = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?:[0-9]{1,5}$")
_MODULE = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9_.-]*$")
_LABEL_VALUE = re.compile(r"^(?:[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def check_labels(value: dict[str, str]) -> dict[str, str]:
    """Label keys and values the API server accepts (it refuses others at apply time)."""
    check_annotations(value)
    for key, label in value.items():
        if not _LABEL_VALUE.fullmatch(label):
            raise ValueError(
                f"label {key!r} has an invalid value {label!r}: at most 63 letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit"
            )
    return value


Labels = Annotated[dict[str, str], AfterValidator(check_labels)]
NonEmptyLabels = Annotated[dict[str, str], Field(min_length=1), AfterValidator(check_labels)]


def _check_prober_url(value: str) -> str:
    check_host_credentials(value)
    if not _HOST_PORT.fullmatch(value) or not 1 <= int(value.rsplit(":", 1)[1]) <= 65535:
        raise ValueError(
            f"'prober_url' must be 'host:port' of the blackbox exporter's Service, e.g. "
            f"'blackbox-exporter.monitoring.svc:9115', got {shown(value)}"
        )
    return value


def _check_module(value: str) -> str:
    if not _MODULE.fullmatch(value):
        raise ValueError(f"'module' must be a blackbox exporter module name, got {value!r}")
    return value


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class BlackboxProbeProps:
    """Probe Vault's TLS listener through a blackbox exporter you run (a Prometheus Operator ``Probe``).

    Only needed when Alloy's own probe does not reach your Prometheus (see
    :class:`PrometheusOperatorProps`). ``module`` must be an ``http`` module of your exporter that verifies
    Vault's certificate with Vault's CA (``ca.crt`` of the TLS Secret) and sends a TLS request; with
    ``insecure_skip_verify`` the certificate-expiry alerts still work but ``VaultApiProbeFailing`` no longer
    catches an untrusted certificate. The probe's series get ``job="blackbox"``, which the alert rules select.
    """

    prober_url: Annotated[str, AfterValidator(_check_prober_url)] = Field(
        description="``host:port`` of the blackbox exporter's Service.",
    )
    module: Annotated[str, AfterValidator(_check_module)] = Field(
        description="Module of the exporter's configuration to probe with.",
    )
    namespace_labels: NonEmptyLabels = Field(
        description=(
            "Labels of the exporter's namespace: its pods may reach Vault's API port (8200) and nothing else."
        ),
    )
    pod_labels: Labels = Field(
        default_factory=dict,
        description="Labels of the exporter's pods in that namespace (empty: any pod there).",
    )
    interval_seconds: Annotated[int, Field(ge=5, le=3600)] | None = Field(
        default=None,
        description="Probe interval in seconds (``None``: the Prometheus' default scrape interval).",
    )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class PrometheusOperatorProps:
    """Emit Prometheus Operator custom resources for a Prometheus you run (kube-prometheus-stack).

    Objects (``monitoring/``): PodMonitor ``vault`` (every Vault pod, sealed and standby included, on the
    unauthenticated metrics port 8202 with the path, parameters, TLS and ``job="vault"`` label the stack's
    own Prometheus uses), PrometheusRule ``vault`` (the ``vault`` rule group, rendered from the same rules
    and thresholds as the stack's own rule file), and with ``blackbox_probe`` a Probe ``vault-tls``. A
    NetworkPolicy admits the Prometheus pods (``prometheus_*_labels``) to port 8202 only.

    The defaults fit kube-prometheus-stack installed as release ``kube-prometheus-stack`` in namespace
    ``monitoring``: its Prometheus selects monitors and rules labelled ``release: <release>``, and the
    operator labels Prometheus pods ``app.kubernetes.io/name: prometheus``.
    """

    resource_labels: Labels = Field(
        default_factory=lambda: {"release": "kube-prometheus-stack"},
        description=(
            "Labels on the PodMonitor, PrometheusRule and Probe: what your Prometheus' "
            "``podMonitorSelector``, ``ruleSelector`` and ``probeSelector`` match (kube-prometheus-stack: "
            "``release: <release name>``)."
        ),
    )
    prometheus_namespace_labels: NonEmptyLabels = Field(
        default_factory=lambda: {"kubernetes.io/metadata.name": "monitoring"},
        description="Labels of the namespace your Prometheus runs in.",
    )
    prometheus_pod_labels: Labels = Field(
        default_factory=lambda: {"app.kubernetes.io/name": "prometheus"},
        description="Labels of your Prometheus pods in that namespace (empty: any pod there).",
    )
    scrape_interval_seconds: Annotated[int, Field(ge=5, le=300)] | None = Field(
        default=None,
        description="Scrape interval of Vault in seconds (``None``: your Prometheus' default).",
    )
    blackbox_probe: BlackboxProbeProps | None = Field(
        default=None,
        description=(
            "Also probe Vault's TLS listener through your blackbox exporter (a ``Probe``); ``None``: no "
            "Probe."
        ),
    )
    name: DnsLabel = Field(
        default="cluster-prometheus",
        description="Name of the NetworkPolicy source for your Prometheus (``allow-vault-from-<name>``).",
    )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class MonitoringProps:
    """How the stack plugs into monitoring the cluster already runs (nothing by default)."""

    prometheus_operator: PrometheusOperatorProps | None = Field(
        default=None,
        description="Prometheus Operator custom resources for your Prometheus (``None``: none are emitted).",
    )


__all__ = ["BlackboxProbeProps", "MonitoringProps", "PrometheusOperatorProps"]
