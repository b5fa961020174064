"""vault-aio: typed cdk8s constructs for an all-in-one HashiCorp Vault stack with observability.

The public API is re-exported here lazily (PEP 562): ``from vaultaio_constructs import VaultAioChart``
works as usual, while importing a pure-Python submodule (``vaultaio_constructs.loglabels``, the config
renderers) does not start the jsii runtime. Everything an importer needs is here: the complete chart and
its settings, each component with its props, the stack scope (``StackChart``), the wiring types
(endpoints, external services, the consumer protocols), Vault policies, dashboards, and ``render`` /
``write`` to turn a stack into a ``dist/``-style folder.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vaultaio_constructs.alertmanager.construct import (
        Alertmanager,
        AlertmanagerApi,
        AlertmanagerProps,
        ExternalAlertmanager,
    )
    from vaultaio_constructs.alloy.construct import Alloy, AlloyProps
    from vaultaio_constructs.chart import ComponentDisabledError, VaultAioChart
    from vaultaio_constructs.chrony.construct import Chrony, ChronyProps
    from vaultaio_constructs.common import (
        ExternalEndpoint,
        ExternalServiceProps,
        Protocol,
        Resources,
        SecretKeyRef,
    )
    from vaultaio_constructs.component import Area, Component, Placement, PodSecurity, StackChart
    from vaultaio_constructs.grafana.construct import Grafana, GrafanaProps
    from vaultaio_constructs.grafana.dashboards import GrafanaDashboard
    from vaultaio_constructs.loki.construct import ExternalLoki, Loki, LokiApi, LokiExternalProps, LokiProps
    from vaultaio_constructs.network import NetworkPolicies, NetworkProps
    from vaultaio_constructs.output import render, write
    from vaultaio_constructs.profiles import Profile
    from vaultaio_constructs.prometheus.construct import (
        ExternalPrometheus,
        Prometheus,
        PrometheusApi,
        PrometheusExternalProps,
        PrometheusProps,
    )
    from vaultaio_constructs.scrape import ScrapeTarget
    from vaultaio_constructs.settings import SettingsError, VaultAioProps, load_settings, parse_settings
    from vaultaio_constructs.tempo.construct import (
        ExternalTempo,
        Tempo,
        TempoApi,
        TempoExternalProps,
        TempoProps,
    )
    from vaultaio_constructs.vault.construct import Vault, VaultProps
    from vaultaio_constructs.vault.policies import Capability, PathRule, Policy
    from vaultaio_constructs.wiring import Endpoint, ExternalService, Scheme, Wiring

_EXPORTS: dict[str, str] = {
    "Alertmanager": "vaultaio_constructs.alertmanager.construct",
    "AlertmanagerApi": "vaultaio_constructs.alertmanager.construct",
    "AlertmanagerProps": "vaultaio_constructs.alertmanager.construct",
    "Alloy": "vaultaio_constructs.alloy.construct",
    "AlloyProps": "vaultaio_constructs.alloy.construct",
    "Area": "vaultaio_constructs.component",
    "Capability": "vaultaio_constructs.vault.policies",
    "Chrony": "vaultaio_constructs.chrony.construct",
    "ChronyProps": "vaultaio_constructs.chrony.construct",
    "Component": "vaultaio_constructs.component",
    "ComponentDisabledError": "vaultaio_constructs.chart",
    "Endpoint": "vaultaio_constructs.wiring",
    "ExternalAlertmanager": "vaultaio_constructs.alertmanager.construct",
    "ExternalEndpoint": "vaultaio_constructs.common",
    "ExternalLoki": "vaultaio_constructs.loki.construct",
    "ExternalPrometheus": "vaultaio_constructs.prometheus.construct",
    "ExternalService": "vaultaio_constructs.wiring",
    "ExternalServiceProps": "vaultaio_constructs.common",
    "ExternalTempo": "vaultaio_constructs.tempo.construct",
    "Grafana": "vaultaio_constructs.grafana.construct",
    "GrafanaDashboard": "vaultaio_constructs.grafana.dashboards",
    "GrafanaProps": "vaultaio_constructs.grafana.construct",
    "Loki": "vaultaio_constructs.loki.construct",
    "LokiApi": "vaultaio_constructs.loki.construct",
    "LokiExternalProps": "vaultaio_constructs.loki.construct",
    "LokiProps": "vaultaio_constructs.loki.construct",
    "NetworkPolicies": "vaultaio_constructs.network",
    "NetworkProps": "vaultaio_constructs.network",
    "PathRule": "vaultaio_constructs.vault.policies",
    "Placement": "vaultaio_constructs.component",
    "PodSecurity": "vaultaio_constructs.component",
    "Policy": "vaultaio_constructs.vault.policies",
    "Profile": "vaultaio_constructs.profiles",
    "Prometheus": "vaultaio_constructs.prometheus.construct",
    "PrometheusApi": "vaultaio_constructs.prometheus.construct",
    "PrometheusExternalProps": "vaultaio_constructs.prometheus.construct",
    "PrometheusProps": "vaultaio_constructs.prometheus.construct",
    "Protocol": "vaultaio_constructs.common",
    "Resources": "vaultaio_constructs.common",
    "Scheme": "vaultaio_constructs.wiring",
    "ScrapeTarget": "vaultaio_constructs.scrape",
    "SecretKeyRef": "vaultaio_constructs.common",
    "SettingsError": "vaultaio_constructs.settings",
    "StackChart": "vaultaio_constructs.component",
    "Tempo": "vaultaio_constructs.tempo.construct",
    "TempoApi": "vaultaio_constructs.tempo.construct",
    "TempoExternalProps": "vaultaio_constructs.tempo.construct",
    "TempoProps": "vaultaio_constructs.tempo.construct",
    "Vault": "vaultaio_constructs.vault.construct",
    "VaultAioChart": "vaultaio_constructs.chart",
    "VaultAioProps": "vaultaio_constructs.settings",
    "VaultProps": "vaultaio_constructs.vault.construct",
    "Wiring": "vaultaio_constructs.wiring",
    "load_settings": "vaultaio_constructs.settings",
    "parse_settings": "vaultaio_constructs.settings",
    "render": "vaultaio_constructs.output",
    "write": "vaultaio_constructs.output",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'vaultaio_constructs' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Alertmanager",
    "AlertmanagerApi",
    "AlertmanagerProps",
    "Alloy",
    "AlloyProps",
    "Area",
    "Capability",
    "Chrony",
    "ChronyProps",
    "Component",
    "ComponentDisabledError",
    "Endpoint",
    "ExternalAlertmanager",
    "ExternalEndpoint",
    "ExternalLoki",
    "ExternalPrometheus",
    "ExternalService",
    "ExternalServiceProps",
    "ExternalTempo",
    "Grafana",
    "GrafanaDashboard",
    "GrafanaProps",
    "Loki",
    "LokiApi",
    "LokiExternalProps",
    "LokiProps",
    "NetworkPolicies",
    "NetworkProps",
    "PathRule",
    "Placement",
    "PodSecurity",
    "Policy",
    "Profile",
    "Prometheus",
    "PrometheusApi",
    "PrometheusExternalProps",
    "PrometheusProps",
    "Protocol",
    "Resources",
    "Scheme",
    "ScrapeTarget",
    "SecretKeyRef",
    "SettingsError",
    "StackChart",
    "Tempo",
    "TempoApi",
    "TempoExternalProps",
    "TempoProps",
    "Vault",
    "VaultAioChart",
    "VaultAioProps",
    "VaultProps",
    "Wiring",
    "load_settings",
    "parse_settings",
    "render",
    "write",
]
