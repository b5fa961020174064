"""``VaultAioChart``: the complete stack, and the only place that knows every component.

It creates one construct per enabled component, wires them together through typed endpoints (each call
records the NetworkPolicy edge it needs), then finishes the stack: the Namespaces (Pod Security labels
derived from the components in each) and the NetworkPolicies generated from that wiring.

Every component but Vault can be switched off (``<component>.enabled: false``), and Prometheus,
Alertmanager, Loki and Tempo can be replaced by an existing service (``<component>.external``). Each
consumer edge then goes to the replacement, or is left out when there is none:

=============================== ============================ ===================================
edge                            provider external            provider absent
=============================== ============================ ===================================
Prometheus -> Alertmanager      alerts to the external one   settings error (alerts go nowhere)
Prometheus scrapes X            (X is not ours: not scraped) not scraped
Loki ruler -> Alertmanager      alerts to the external one   settings error (alerts go nowhere)
Alloy -> Loki (logs)            pushed there (tenant)        no log pipelines, no API access
Alloy -> Prometheus (metrics)   remote-written there         no node metrics, no TLS probe
Alloy -> Tempo (spans)          forwarded there              no OTLP receiver, no open OTLP port
Tempo -> Prometheus             remote-written there         metrics-generator off
Grafana -> Prometheus           data source                  settings error (nothing to show)
Grafana -> Loki/Tempo/AM        data source                  data source and panels left out
=============================== ============================ ===================================

``alloy.ship_logs`` / ``ship_metrics`` / ``ship_traces`` set to ``true`` without the store is a settings
error as well (see :meth:`VaultAioProps._impossible_combinations`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from constructs import Construct

from vaultaio_constructs.alertmanager.construct import Alertmanager, AlertmanagerApi, ExternalAlertmanager
from vaultaio_constructs.alerts.loki import BACKUP_GROUP, render_backup_rules
from vaultaio_constructs.alloy.construct import Alloy
from vaultaio_constructs.chrony.construct import Chrony
from vaultaio_constructs.component import Component, StackChart
from vaultaio_constructs.grafana.construct import Grafana
from vaultaio_constructs.loki.construct import ExternalLoki, Loki, LokiApi
from vaultaio_constructs.prometheus.construct import (
    ExternalPrometheus,
    Prometheus,
    PrometheusApi,
    loki_rule_file,
)
from vaultaio_constructs.settings import VaultAioProps
from vaultaio_constructs.tempo.construct import ExternalTempo, Tempo, TempoApi
from vaultaio_constructs.vault.construct import BACKUP_SUCCESS_MARKER, Vault

if TYPE_CHECKING:
    from vaultaio_constructs.integrations.prometheus_operator import PrometheusOperatorResources

C = TypeVar("C", bound=Component)


class ComponentDisabledError(ValueError):
    """A component of the stack was asked for, but the settings leave it out."""


class VaultAioChart(StackChart):
    """Vault with Prometheus, Alertmanager, Grafana, Loki, Alloy, Tempo and Chrony; each but Vault optional.

    The components are attributes (``chart.vault``, ``chart.prometheus``, ...); asking for a disabled one
    raises :class:`ComponentDisabledError` naming its setting. What consumers use, the stack's own store or
    its external replacement, is ``chart.prometheus_api``, ``alertmanager_api``, ``loki_api`` and
    ``tempo_api`` (``None`` when there is none). To add to the stack, subclass and override :meth:`extend`;
    the chart is complete (policies generated) when the constructor returns.
    """

    def __init__(self, scope: Construct, id: str, props: VaultAioProps | None = None) -> None:
        """Create the complete stack in ``scope`` (a cdk8s App or chart) from ``props`` (default: every
        setting at its default, see ``docs/SETTINGS.md``): every enabled component, wired, then
        :meth:`extend` (override it to add dashboards, scrape targets, policies or rules), then
        ``finish()``. ``id`` is the chart's construct id."""
        props = props or VaultAioProps()
        super().__init__(
            scope,
            id,
            namespace=props.namespace,
            node_namespace=props.node_namespace,
            instance=props.instance,
            cluster_domain=props.cluster_domain,
            storage_class=props.storage_class,
            profile=props.profile,
            network=props.network,
            kubernetes_version=props.kubernetes_version,
        )
        self.props = props
        self.vault = Vault(self, "Vault", props.vault)
        self._alertmanager = (
            Alertmanager(self, "Alertmanager", props.alertmanager) if props.alertmanager.enabled else None
        )
        self._prometheus = (
            Prometheus(self, "Prometheus", props.prometheus) if props.prometheus.enabled else None
        )
        self._loki = Loki(self, "Loki", props.loki) if props.loki.enabled else None
        self._tempo = Tempo(self, "Tempo", props.tempo) if props.tempo.enabled else None
        self._alloy = Alloy(self, "Alloy", props.alloy) if props.alloy.enabled else None
        self._grafana = Grafana(self, "Grafana", props.grafana) if props.grafana.enabled else None
        self._chrony = Chrony(self, "Chrony", props.chrony) if props.chrony.enabled else None

        # what consumers use: the stack's own store, the external one that replaces it, or nothing
        am_ext, prom_ext = props.alertmanager.external, props.prometheus.external
        loki_ext, tempo_ext = props.loki.external, props.tempo.external
        self.alertmanager_api: AlertmanagerApi | None = self._alertmanager or (
            ExternalAlertmanager(am_ext) if am_ext else None
        )
        self.prometheus_api: PrometheusApi | None = self._prometheus or (
            ExternalPrometheus(prom_ext) if prom_ext else None
        )
        self.loki_api: LokiApi | None = self._loki or (ExternalLoki(loki_ext) if loki_ext else None)
        self.tempo_api: TempoApi | None = self._tempo or (ExternalTempo(tempo_ext) if tempo_ext else None)
        self._wire()
        # a Prometheus Operator the cluster runs: PodMonitor, PrometheusRule (the Vault rules) and Probe
        self.prometheus_operator = self._prometheus_operator(props)
        # no Grafana of its own: the dashboards for the sidecar of the Grafana the cluster runs
        if self._grafana is None and props.grafana.dashboard_sidecar.without_grafana:
            from vaultaio_constructs.grafana.dashboards import DatasourceUid
            from vaultaio_constructs.grafana.sidecar import SidecarDashboards

            external = (
                (props.prometheus.external, DatasourceUid.PROMETHEUS),
                (props.loki.external, DatasourceUid.LOKI),
                (props.tempo.external, DatasourceUid.TEMPO),
            )
            SidecarDashboards(
                self,
                "SidecarDashboards",
                props.grafana.dashboard_sidecar,
                sources=[uid for store, uid in external if store is not None],
            )
        self.extend()
        self.network_policies = self.finish()

    def _wire(self) -> None:
        props = self.props
        # metrics: Prometheus scrapes every component of the stack that serves metrics; alerts go to
        # Alertmanager (settings validation guarantees one exists while Prometheus or Loki runs)
        if self._prometheus is not None:
            assert self.alertmanager_api is not None
            self._prometheus.use_alertmanager(self.alertmanager_api)
            for component in (
                self._prometheus,
                self.vault,
                self._alertmanager,
                self._grafana,
                self._loki,
                self._tempo,
            ):
                if component is not None:
                    self._prometheus.add_scrape_target(component.metrics_target)
        # logs, traces and node metrics flow through Alloy, to whichever stores the stack has
        if self._alloy is not None:
            pipelines = props.alloy_pipelines
            if pipelines.logs:
                assert self.loki_api is not None
                self._alloy.ship_logs_to(self.loki_api)
            if pipelines.traces:
                assert self.tempo_api is not None
                self._alloy.ship_traces_to(self.tempo_api)
            if pipelines.metrics:
                assert self.prometheus_api is not None
                self._alloy.remote_write_to(self.prometheus_api)
                self._alloy.probe_tls(self.vault.api, ca=self.vault.tls_ca_in(self._alloy.namespace))
        # Tempo's metrics-generator writes service-graph and span metrics (for Grafana's service map)
        if self._tempo is not None and self.prometheus_api is not None:
            self._tempo.remote_write_to(self.prometheus_api)
        # log-based alerts (Vault login failures from the audit log) run in the stack's own Loki's ruler
        if self._loki is not None:
            assert self.alertmanager_api is not None
            self._loki.use_alertmanager(self.alertmanager_api)
            self._loki.add_rules(*loki_rule_file(props.prometheus.alerts, self.vault.namespace))
            if self.vault.backup_schedule is not None:
                # a failed or missing scheduled backup is visible only in the job's log
                self._loki.add_rules(
                    f"{BACKUP_GROUP}.yaml",
                    render_backup_rules(
                        props.prometheus.alerts,
                        self.vault.namespace,
                        self.vault.backup_schedule,
                        self._loki.retention_days,
                        BACKUP_SUCCESS_MARKER,
                    ),
                )
        # Grafana reads from every store there is (validation guarantees a Prometheus)
        if self._grafana is not None:
            assert self.prometheus_api is not None
            self._grafana.use_prometheus(self.prometheus_api)
            if self.loki_api is not None:
                self._grafana.use_loki(self.loki_api)
            if self.tempo_api is not None:
                self._grafana.use_tempo(self.tempo_api)
            if self.alertmanager_api is not None:
                self._grafana.use_alertmanager(self.alertmanager_api)

    # -- the components ---------------------------------------------------------------------------------
    @staticmethod
    def _require(component: C | None, name: str) -> C:
        if component is None:
            raise ComponentDisabledError(
                f"{name} is not part of this stack ({name}.enabled is false): there is no {name} to "
                f"extend; check chart.props.{name}.enabled first, or use the *_api attribute for what "
                "consumers connect to (the stack's own store or its external replacement)"
            )
        return component

    @property
    def alertmanager(self) -> Alertmanager:
        return self._require(self._alertmanager, "alertmanager")

    @property
    def prometheus(self) -> Prometheus:
        return self._require(self._prometheus, "prometheus")

    @property
    def loki(self) -> Loki:
        return self._require(self._loki, "loki")

    @property
    def tempo(self) -> Tempo:
        return self._require(self._tempo, "tempo")

    @property
    def alloy(self) -> Alloy:
        return self._require(self._alloy, "alloy")

    @property
    def grafana(self) -> Grafana:
        return self._require(self._grafana, "grafana")

    @property
    def chrony(self) -> Chrony:
        return self._require(self._chrony, "chrony")

    def _prometheus_operator(self, props: VaultAioProps) -> PrometheusOperatorResources | None:
        settings = props.monitoring.prometheus_operator
        if settings is None:
            return None
        # loaded only when asked for: the custom-resource code stays off the default synth path
        from vaultaio_constructs.alerts import prometheus_rule_groups
        from vaultaio_constructs.alerts.rules import VAULT_GROUP
        from vaultaio_constructs.integrations.prometheus_operator import PrometheusOperatorResources

        resources = PrometheusOperatorResources(self, "PrometheusOperator", settings)
        resources.add_scrape_target(self.vault.metrics_target)
        alerts = props.prometheus.alerts
        for group in prometheus_rule_groups(alerts.thresholds):
            if group.name == VAULT_GROUP:
                resources.add_rule_group(group, alerts.runbook_base_url)
        resources.probe_tls(self.vault.api)
        return resources

    def extend(self) -> None:
        """Hook for subclasses: add dashboards, scrape targets, Vault policies or Loki rules here.

        It runs after every component exists and is wired, and before the deferred configuration and
        the NetworkPolicies are rendered, so whatever it adds (including new ``connect`` edges) is in
        the output. The default adds nothing. See ``examples/extended_stack.py``.
        """
