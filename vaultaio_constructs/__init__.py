"""vault-aio: typed cdk8s constructs for an all-in-one HashiCorp Vault stack with observability.

The public API is re-exported here lazily (PEP 562): ``from vaultaio_constructs import VaultAioChart``
works as usual, while importing a pure-Python submodule (``vaultaio_constructs.loglabels``, the config
renderers) does not start the jsii runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vaultaio_constructs.alertmanager.construct import Alertmanager, AlertmanagerProps
    from vaultaio_constructs.alloy.construct import Alloy, AlloyProps
    from vaultaio_constructs.chart import VaultAioChart
    from vaultaio_constructs.chrony.construct import Chrony, ChronyProps
    from vaultaio_constructs.common import ExternalEndpoint, Protocol, Resources, SecretKeyRef
    from vaultaio_constructs.component import Area, Component, StackChart
    from vaultaio_constructs.grafana.construct import Grafana, GrafanaProps
    from vaultaio_constructs.loki.construct import Loki, LokiProps
    from vaultaio_constructs.network import NetworkPolicies, NetworkProps
    from vaultaio_constructs.profiles import Profile
    from vaultaio_constructs.prometheus.construct import Prometheus, PrometheusProps
    from vaultaio_constructs.scrape import ScrapeTarget
    from vaultaio_constructs.settings import SettingsError, VaultAioProps, load_settings, parse_settings
    from vaultaio_constructs.tempo.construct import Tempo, TempoProps
    from vaultaio_constructs.vault.construct import Vault, VaultProps
    from vaultaio_constructs.wiring import Endpoint, Scheme, Wiring

_EXPORTS: dict[str, str] = {
    "Alertmanager": "vaultaio_constructs.alertmanager.construct",
    "AlertmanagerProps": "vaultaio_constructs.alertmanager.construct",
    "Alloy": "vaultaio_constructs.alloy.construct",
    "AlloyProps": "vaultaio_constructs.alloy.construct",
    "Area": "vaultaio_constructs.component",
    "Chrony": "vaultaio_constructs.chrony.construct",
    "ChronyProps": "vaultaio_constructs.chrony.construct",
    "Component": "vaultaio_constructs.component",
    "Endpoint": "vaultaio_constructs.wiring",
    "ExternalEndpoint": "vaultaio_constructs.common",
    "Grafana": "vaultaio_constructs.grafana.construct",
    "GrafanaProps": "vaultaio_constructs.grafana.construct",
    "Loki": "vaultaio_constructs.loki.construct",
    "LokiProps": "vaultaio_constructs.loki.construct",
    "NetworkPolicies": "vaultaio_constructs.network",
    "NetworkProps": "vaultaio_constructs.network",
    "Profile": "vaultaio_constructs.profiles",
    "Prometheus": "vaultaio_constructs.prometheus.construct",
    "PrometheusProps": "vaultaio_constructs.prometheus.construct",
    "Protocol": "vaultaio_constructs.common",
    "Resources": "vaultaio_constructs.common",
    "Scheme": "vaultaio_constructs.wiring",
    "ScrapeTarget": "vaultaio_constructs.scrape",
    "SecretKeyRef": "vaultaio_constructs.common",
    "SettingsError": "vaultaio_constructs.settings",
    "StackChart": "vaultaio_constructs.component",
    "Tempo": "vaultaio_constructs.tempo.construct",
    "TempoProps": "vaultaio_constructs.tempo.construct",
    "Vault": "vaultaio_constructs.vault.construct",
    "VaultAioChart": "vaultaio_constructs.chart",
    "VaultAioProps": "vaultaio_constructs.settings",
    "VaultProps": "vaultaio_constructs.vault.construct",
    "Wiring": "vaultaio_constructs.wiring",
    "load_settings": "vaultaio_constructs.settings",
    "parse_settings": "vaultaio_constructs.settings",
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
    "AlertmanagerProps",
    "Alloy",
    "AlloyProps",
    "Area",
    "Chrony",
    "ChronyProps",
    "Component",
    "Endpoint",
    "ExternalEndpoint",
    "Grafana",
    "GrafanaProps",
    "Loki",
    "LokiProps",
    "NetworkPolicies",
    "NetworkProps",
    "Profile",
    "Prometheus",
    "PrometheusProps",
    "Protocol",
    "Resources",
    "Scheme",
    "ScrapeTarget",
    "SecretKeyRef",
    "SettingsError",
    "StackChart",
    "Tempo",
    "TempoProps",
    "Vault",
    "VaultAioChart",
    "VaultAioProps",
    "VaultProps",
    "Wiring",
    "load_settings",
    "parse_settings",
]
