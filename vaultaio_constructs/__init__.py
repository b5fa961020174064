"""vault-aio: typed cdk8s constructs for an all-in-one HashiCorp Vault stack with observability.

The public API is re-exported here; see README.md for how to use it.
"""

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
