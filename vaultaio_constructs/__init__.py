"""vault-aio: typed cdk8s constructs for an all-in-one HashiCorp Vault stack with observability.

Everything an importer needs is here, at the top level (``dir(vaultaio_constructs)`` lists it):

* the complete stack: :class:`VaultAioChart` and its settings :class:`VaultAioProps`, which nest one props
  class per component (:class:`VaultProps`, :class:`PrometheusProps`, ...) and every block inside them
  (seals, object stores, receivers, remote-write destinations...), the same keys as the settings file
  (``docs/SETTINGS.md``); :func:`load_settings` / :func:`parse_settings` read a settings file or mapping,
  :func:`settings_schema` gives its JSON Schema;
* the components, usable alone in a :class:`StackChart` (``examples/vault_only.py``), and the wiring that
  connects them (:class:`Endpoint`, :class:`ExternalService`, the ``*Api`` protocols, ``External*``
  stand-ins for stores you already run);
* what a stack can be extended with: :class:`Policy` (Vault ACL policies), :class:`GrafanaDashboard`,
  :class:`ScrapeTarget`, your own :class:`Component` built with the hardened builders of :mod:`workload`
  (``docs/EXTENDING.md``);
* output: :func:`synth` (props to a ``dist/``-style folder, as ``make synth`` writes it), or :func:`render`
  and :func:`write` for a chart built in your own cdk8s App.

Names are loaded on first use (PEP 562), so importing a pure-Python submodule (``vaultaio_constructs.
loglabels``, the config renderers) does not start the jsii runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vaultaio_constructs import workload
    from vaultaio_constructs.alertmanager.config import (
        AlertmanagerConfigSettings,
        EmailReceiver,
        PagerDutyReceiver,
        SeverityRoute,
        SlackReceiver,
        WebhookReceiver,
    )
    from vaultaio_constructs.alertmanager.construct import Alertmanager, AlertmanagerApi, ExternalAlertmanager
    from vaultaio_constructs.alertmanager.props import AlertmanagerProps
    from vaultaio_constructs.alerts.model import Severity
    from vaultaio_constructs.alerts.settings import AlertSettings, AlertThresholds
    from vaultaio_constructs.alloy.construct import Alloy
    from vaultaio_constructs.alloy.props import AlloyProps, OtlpClientsProps
    from vaultaio_constructs.chart import ComponentDisabledError, VaultAioChart
    from vaultaio_constructs.chrony.config import LeapSecondSource, SourceKind
    from vaultaio_constructs.chrony.construct import Chrony
    from vaultaio_constructs.chrony.props import ChronyProps, NtpServerProps
    from vaultaio_constructs.common import (
        ExternalBasicAuth,
        ExternalEndpoint,
        ExternalServiceProps,
        LokiBasicAuth,
        Protocol,
        Resources,
        SecretKeyRef,
    )
    from vaultaio_constructs.component import Component, StackChart
    from vaultaio_constructs.grafana.construct import Grafana
    from vaultaio_constructs.grafana.dashboards import GrafanaDashboard
    from vaultaio_constructs.grafana.database import MysqlDatabase, PostgresDatabase, SqliteDatabase
    from vaultaio_constructs.grafana.props import (
        GrafanaDashboardSidecarProps,
        GrafanaIngressProps,
        GrafanaProps,
    )
    from vaultaio_constructs.integrations.props import (
        BlackboxProbeProps,
        MonitoringProps,
        PrometheusOperatorProps,
    )
    from vaultaio_constructs.loki.config import LokiDeletionMode, LokiLogLevel
    from vaultaio_constructs.loki.construct import ExternalLoki, Loki, LokiApi
    from vaultaio_constructs.loki.props import (
        LokiExternalProps,
        LokiFilesystemStorage,
        LokiProps,
    )
    from vaultaio_constructs.network import NetworkPolicies
    from vaultaio_constructs.network_props import DnsProps, IngressControllerProps, KubeApiProps, NetworkProps
    from vaultaio_constructs.objectstore import AzureStorage, GcsStorage, S3Storage
    from vaultaio_constructs.output import Manifest, build, render, synth, write
    from vaultaio_constructs.placement import Area, Placement, PodSecurity
    from vaultaio_constructs.profiles import Profile
    from vaultaio_constructs.prometheus.construct import ExternalPrometheus, Prometheus, PrometheusApi
    from vaultaio_constructs.prometheus.props import PrometheusExternalProps, PrometheusProps
    from vaultaio_constructs.prometheus.remote_write import (
        BasicAuth,
        BearerAuth,
        OAuth2Auth,
        RelabelAction,
        RelabelRule,
        RemoteWrite,
        RemoteWriteQueue,
        RemoteWriteTls,
        SigV4Auth,
    )
    from vaultaio_constructs.schema import settings_schema
    from vaultaio_constructs.scrape import ScrapeTarget
    from vaultaio_constructs.settings import (
        SettingsError,
        VaultAioProps,
        load_settings,
        locate_settings,
        parse_settings,
        read_settings,
    )
    from vaultaio_constructs.tempo.config import TempoLogLevel
    from vaultaio_constructs.tempo.construct import ExternalTempo, Tempo, TempoApi
    from vaultaio_constructs.tempo.props import TempoExternalProps, TempoLocalStorage, TempoProps
    from vaultaio_constructs.vault.config import LogLevel
    from vaultaio_constructs.vault.construct import Vault
    from vaultaio_constructs.vault.policies import Capability, PathRule, Policy
    from vaultaio_constructs.vault.props import (
        AntiAffinity,
        IssuerKind,
        VaultBackupProps,
        VaultClientProps,
        VaultIngressProps,
        VaultProps,
        VaultTlsIssuerProps,
        VaultTlsProps,
    )
    from vaultaio_constructs.vault.seals import (
        AwsKmsSeal,
        AzureKeyVaultSeal,
        GcpCkmsSeal,
        ShamirSeal,
        TransitSeal,
    )
    from vaultaio_constructs.wiring import Endpoint, ExternalService, Scheme, Wiring

#: Public name -> module that defines it.
_EXPORTS: dict[str, str] = {
    "AlertSettings": "vaultaio_constructs.alerts.settings",
    "AlertThresholds": "vaultaio_constructs.alerts.settings",
    "Alertmanager": "vaultaio_constructs.alertmanager.construct",
    "AlertmanagerApi": "vaultaio_constructs.alertmanager.construct",
    "AlertmanagerConfigSettings": "vaultaio_constructs.alertmanager.config",
    "AlertmanagerProps": "vaultaio_constructs.alertmanager.props",
    "Alloy": "vaultaio_constructs.alloy.construct",
    "AlloyProps": "vaultaio_constructs.alloy.props",
    "AntiAffinity": "vaultaio_constructs.vault.props",
    "Area": "vaultaio_constructs.placement",
    "AwsKmsSeal": "vaultaio_constructs.vault.seals",
    "AzureKeyVaultSeal": "vaultaio_constructs.vault.seals",
    "AzureStorage": "vaultaio_constructs.objectstore",
    "BasicAuth": "vaultaio_constructs.prometheus.remote_write",
    "BearerAuth": "vaultaio_constructs.prometheus.remote_write",
    "BlackboxProbeProps": "vaultaio_constructs.integrations.props",
    "Capability": "vaultaio_constructs.vault.policies",
    "Chrony": "vaultaio_constructs.chrony.construct",
    "ChronyProps": "vaultaio_constructs.chrony.props",
    "Component": "vaultaio_constructs.component",
    "ComponentDisabledError": "vaultaio_constructs.chart",
    "DnsProps": "vaultaio_constructs.network_props",
    "EmailReceiver": "vaultaio_constructs.alertmanager.config",
    "Endpoint": "vaultaio_constructs.wiring",
    "ExternalAlertmanager": "vaultaio_constructs.alertmanager.construct",
    "ExternalBasicAuth": "vaultaio_constructs.common",
    "ExternalEndpoint": "vaultaio_constructs.common",
    "ExternalLoki": "vaultaio_constructs.loki.construct",
    "ExternalPrometheus": "vaultaio_constructs.prometheus.construct",
    "ExternalService": "vaultaio_constructs.wiring",
    "ExternalServiceProps": "vaultaio_constructs.common",
    "ExternalTempo": "vaultaio_constructs.tempo.construct",
    "GcpCkmsSeal": "vaultaio_constructs.vault.seals",
    "GcsStorage": "vaultaio_constructs.objectstore",
    "Grafana": "vaultaio_constructs.grafana.construct",
    "GrafanaDashboard": "vaultaio_constructs.grafana.dashboards",
    "GrafanaDashboardSidecarProps": "vaultaio_constructs.grafana.props",
    "GrafanaIngressProps": "vaultaio_constructs.grafana.props",
    "GrafanaProps": "vaultaio_constructs.grafana.props",
    "IngressControllerProps": "vaultaio_constructs.network_props",
    "IssuerKind": "vaultaio_constructs.vault.props",
    "KubeApiProps": "vaultaio_constructs.network_props",
    "LeapSecondSource": "vaultaio_constructs.chrony.config",
    "LogLevel": "vaultaio_constructs.vault.config",
    "Loki": "vaultaio_constructs.loki.construct",
    "LokiApi": "vaultaio_constructs.loki.construct",
    "LokiBasicAuth": "vaultaio_constructs.common",
    "LokiExternalProps": "vaultaio_constructs.loki.props",
    "LokiFilesystemStorage": "vaultaio_constructs.loki.props",
    "LokiDeletionMode": "vaultaio_constructs.loki.config",
    "LokiLogLevel": "vaultaio_constructs.loki.config",
    "LokiProps": "vaultaio_constructs.loki.props",
    "Manifest": "vaultaio_constructs.output",
    "MonitoringProps": "vaultaio_constructs.integrations.props",
    "MysqlDatabase": "vaultaio_constructs.grafana.database",
    "NetworkPolicies": "vaultaio_constructs.network",
    "NetworkProps": "vaultaio_constructs.network_props",
    "NtpServerProps": "vaultaio_constructs.chrony.props",
    "OAuth2Auth": "vaultaio_constructs.prometheus.remote_write",
    "OtlpClientsProps": "vaultaio_constructs.alloy.props",
    "PagerDutyReceiver": "vaultaio_constructs.alertmanager.config",
    "PathRule": "vaultaio_constructs.vault.policies",
    "Placement": "vaultaio_constructs.placement",
    "PodSecurity": "vaultaio_constructs.placement",
    "Policy": "vaultaio_constructs.vault.policies",
    "PostgresDatabase": "vaultaio_constructs.grafana.database",
    "Profile": "vaultaio_constructs.profiles",
    "Prometheus": "vaultaio_constructs.prometheus.construct",
    "PrometheusApi": "vaultaio_constructs.prometheus.construct",
    "PrometheusExternalProps": "vaultaio_constructs.prometheus.props",
    "PrometheusOperatorProps": "vaultaio_constructs.integrations.props",
    "PrometheusProps": "vaultaio_constructs.prometheus.props",
    "Protocol": "vaultaio_constructs.common",
    "RelabelAction": "vaultaio_constructs.prometheus.remote_write",
    "RelabelRule": "vaultaio_constructs.prometheus.remote_write",
    "RemoteWrite": "vaultaio_constructs.prometheus.remote_write",
    "RemoteWriteQueue": "vaultaio_constructs.prometheus.remote_write",
    "RemoteWriteTls": "vaultaio_constructs.prometheus.remote_write",
    "Resources": "vaultaio_constructs.common",
    "S3Storage": "vaultaio_constructs.objectstore",
    "Scheme": "vaultaio_constructs.wiring",
    "ScrapeTarget": "vaultaio_constructs.scrape",
    "SecretKeyRef": "vaultaio_constructs.common",
    "SettingsError": "vaultaio_constructs.settings",
    "Severity": "vaultaio_constructs.alerts.model",
    "SeverityRoute": "vaultaio_constructs.alertmanager.config",
    "ShamirSeal": "vaultaio_constructs.vault.seals",
    "SigV4Auth": "vaultaio_constructs.prometheus.remote_write",
    "SlackReceiver": "vaultaio_constructs.alertmanager.config",
    "SourceKind": "vaultaio_constructs.chrony.config",
    "SqliteDatabase": "vaultaio_constructs.grafana.database",
    "StackChart": "vaultaio_constructs.component",
    "Tempo": "vaultaio_constructs.tempo.construct",
    "TempoApi": "vaultaio_constructs.tempo.construct",
    "TempoExternalProps": "vaultaio_constructs.tempo.props",
    "TempoLocalStorage": "vaultaio_constructs.tempo.props",
    "TempoLogLevel": "vaultaio_constructs.tempo.config",
    "TempoProps": "vaultaio_constructs.tempo.props",
    "TransitSeal": "vaultaio_constructs.vault.seals",
    "Vault": "vaultaio_constructs.vault.construct",
    "VaultAioChart": "vaultaio_constructs.chart",
    "VaultAioProps": "vaultaio_constructs.settings",
    "VaultBackupProps": "vaultaio_constructs.vault.props",
    "VaultClientProps": "vaultaio_constructs.vault.props",
    "VaultIngressProps": "vaultaio_constructs.vault.props",
    "VaultProps": "vaultaio_constructs.vault.props",
    "VaultTlsIssuerProps": "vaultaio_constructs.vault.props",
    "VaultTlsProps": "vaultaio_constructs.vault.props",
    "WebhookReceiver": "vaultaio_constructs.alertmanager.config",
    "Wiring": "vaultaio_constructs.wiring",
    "build": "vaultaio_constructs.output",
    "load_settings": "vaultaio_constructs.settings",
    "locate_settings": "vaultaio_constructs.settings",
    "parse_settings": "vaultaio_constructs.settings",
    "read_settings": "vaultaio_constructs.settings",
    "render": "vaultaio_constructs.output",
    "settings_schema": "vaultaio_constructs.schema",
    "synth": "vaultaio_constructs.output",
    "write": "vaultaio_constructs.output",
}
#: Public submodules (builders for components of your own).
_MODULES: dict[str, str] = {
    "workload": "vaultaio_constructs.workload",
}


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    else:
        raise AttributeError(f"module 'vaultaio_constructs' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public API and the module's own attributes (``dir()`` and completion see the lazy names)."""
    return sorted({*globals(), *__all__})


__all__ = [
    "AlertSettings",
    "AlertThresholds",
    "Alertmanager",
    "AlertmanagerApi",
    "AlertmanagerConfigSettings",
    "AlertmanagerProps",
    "Alloy",
    "AlloyProps",
    "AntiAffinity",
    "Area",
    "AwsKmsSeal",
    "AzureKeyVaultSeal",
    "AzureStorage",
    "BasicAuth",
    "BearerAuth",
    "BlackboxProbeProps",
    "Capability",
    "Chrony",
    "ChronyProps",
    "Component",
    "ComponentDisabledError",
    "DnsProps",
    "EmailReceiver",
    "Endpoint",
    "ExternalAlertmanager",
    "ExternalBasicAuth",
    "ExternalEndpoint",
    "ExternalLoki",
    "ExternalPrometheus",
    "ExternalService",
    "ExternalServiceProps",
    "ExternalTempo",
    "GcpCkmsSeal",
    "GcsStorage",
    "Grafana",
    "GrafanaDashboard",
    "GrafanaDashboardSidecarProps",
    "GrafanaIngressProps",
    "GrafanaProps",
    "IngressControllerProps",
    "IssuerKind",
    "KubeApiProps",
    "LeapSecondSource",
    "LogLevel",
    "Loki",
    "LokiApi",
    "LokiBasicAuth",
    "LokiDeletionMode",
    "LokiExternalProps",
    "LokiFilesystemStorage",
    "LokiLogLevel",
    "LokiProps",
    "Manifest",
    "MonitoringProps",
    "MysqlDatabase",
    "NetworkPolicies",
    "NetworkProps",
    "NtpServerProps",
    "OAuth2Auth",
    "OtlpClientsProps",
    "PagerDutyReceiver",
    "PathRule",
    "Placement",
    "PodSecurity",
    "Policy",
    "PostgresDatabase",
    "Profile",
    "Prometheus",
    "PrometheusApi",
    "PrometheusExternalProps",
    "PrometheusOperatorProps",
    "PrometheusProps",
    "Protocol",
    "RelabelAction",
    "RelabelRule",
    "RemoteWrite",
    "RemoteWriteQueue",
    "RemoteWriteTls",
    "Resources",
    "S3Storage",
    "Scheme",
    "ScrapeTarget",
    "SecretKeyRef",
    "SettingsError",
    "Severity",
    "SeverityRoute",
    "ShamirSeal",
    "SigV4Auth",
    "SlackReceiver",
    "SourceKind",
    "SqliteDatabase",
    "StackChart",
    "Tempo",
    "TempoApi",
    "TempoExternalProps",
    "TempoLocalStorage",
    "TempoLogLevel",
    "TempoProps",
    "TransitSeal",
    "Vault",
    "VaultAioChart",
    "VaultAioProps",
    "VaultBackupProps",
    "VaultClientProps",
    "VaultIngressProps",
    "VaultProps",
    "VaultTlsIssuerProps",
    "VaultTlsProps",
    "WebhookReceiver",
    "Wiring",
    "build",
    "load_settings",
    "locate_settings",
    "parse_settings",
    "read_settings",
    "render",
    "settings_schema",
    "synth",
    "workload",
    "write",
]
