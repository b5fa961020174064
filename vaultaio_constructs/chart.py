"""``VaultAioChart``: the complete stack, and the only place that knows every component.

It creates the Namespace, one construct per component, wires them together through typed endpoints (each
call records the NetworkPolicy edge it needs), then generates the NetworkPolicies from that wiring.
"""

from __future__ import annotations

from cdk8s_plus_27 import k8s
from constructs import Construct

from vaultaio_constructs.alertmanager.construct import Alertmanager
from vaultaio_constructs.alerts.loki import BACKUP_GROUP, render_backup_rules
from vaultaio_constructs.alloy.construct import Alloy
from vaultaio_constructs.chrony.construct import Chrony
from vaultaio_constructs.component import Area, Component, StackChart
from vaultaio_constructs.grafana.construct import Grafana
from vaultaio_constructs.loki.construct import Loki
from vaultaio_constructs.prometheus.construct import Prometheus
from vaultaio_constructs.settings import VaultAioProps
from vaultaio_constructs.tempo.construct import Tempo
from vaultaio_constructs.vault.construct import BACKUP_SUCCESS_MARKER, Vault

#: Pod Security admission labels of the namespace. ``enforce: privileged`` because two DaemonSets need
#: host access (Alloy: read-only hostPath for node logs and metrics; Chrony: SYS_TIME); ``warn`` and
#: ``audit`` at ``restricted`` so any other pod that drifts from restricted is reported.
POD_SECURITY_LABELS = {
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
}


class Namespace(Component):
    """The stack's Namespace, with Pod Security admission labels (written to ``dist/setup/``)."""

    area = Area.SETUP

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id, name="namespace", role="namespace", version="1")
        meta = self.meta(self.namespace, labels=POD_SECURITY_LABELS, namespaced=False)
        self.track(k8s.KubeNamespace(self, "Namespace", metadata=meta))


class VaultAioChart(StackChart):
    """Vault with Prometheus, Alertmanager, Grafana, Loki, Alloy, Tempo and Chrony in one namespace.

    The components are attributes (``chart.vault``, ``chart.prometheus``, ...). To add to them, subclass
    and override :meth:`extend`; the chart is complete (policies generated) when the constructor returns.
    """

    def __init__(self, scope: Construct, id: str, props: VaultAioProps | None = None) -> None:
        props = props or VaultAioProps()
        super().__init__(
            scope,
            id,
            namespace=props.namespace,
            instance=props.instance,
            cluster_domain=props.cluster_domain,
            storage_class=props.storage_class,
            profile=props.profile,
            kubernetes_version=props.kubernetes_version,
        )
        self.props = props
        self.namespace_object = Namespace(self, "Namespace")
        self.vault = Vault(self, "Vault", props.vault)
        self.alertmanager = Alertmanager(self, "Alertmanager", props.alertmanager)
        self.prometheus = Prometheus(self, "Prometheus", props.prometheus)
        self.loki = Loki(self, "Loki", props.loki)
        self.tempo = Tempo(self, "Tempo", props.tempo)
        self.alloy = Alloy(self, "Alloy", props.alloy)
        self.grafana = Grafana(self, "Grafana", props.grafana)
        self.chrony = Chrony(self, "Chrony", props.chrony)

        # metrics: Prometheus scrapes every component that serves metrics and alerts through Alertmanager
        self.prometheus.use_alertmanager(self.alertmanager)
        for target in (
            self.prometheus.metrics_target,
            self.vault.metrics_target,
            self.alertmanager.metrics_target,
            self.grafana.metrics_target,
            self.loki.metrics_target,
            self.tempo.metrics_target,
        ):
            self.prometheus.add_scrape_target(target)
        # logs, traces and node metrics flow through Alloy
        self.alloy.ship_logs_to(self.loki)
        self.alloy.ship_traces_to(self.tempo)
        self.alloy.remote_write_to(self.prometheus)
        # Tempo's metrics-generator writes service-graph and span metrics (for Grafana's service map)
        self.tempo.remote_write_to(self.prometheus)
        self.alloy.probe_tls(self.vault.api, ca=self.vault.tls_ca)
        # log-based alerts (Vault login failures from the audit log) run in Loki's ruler
        self.loki.use_alertmanager(self.alertmanager)
        self.loki.add_rules(*self.prometheus.loki_rule_file)
        if self.vault.backup_schedule is not None:
            # a failed or missing scheduled backup is visible only in the job's log
            self.loki.add_rules(
                f"{BACKUP_GROUP}.yaml",
                render_backup_rules(
                    self.prometheus.alerts,
                    self.vault.namespace,
                    self.vault.backup_schedule,
                    self.loki.retention_days,
                    BACKUP_SUCCESS_MARKER,
                ),
            )
        # Grafana reads from every store
        self.grafana.use_prometheus(self.prometheus)
        self.grafana.use_loki(self.loki)
        self.grafana.use_tempo(self.tempo)
        self.grafana.use_alertmanager(self.alertmanager)

        self.extend()
        self.network_policies = self.finish(props.network)

    def extend(self) -> None:
        """Hook for subclasses: add dashboards, scrape targets, Vault policies or Loki rules here.

        It runs after every component exists and is wired, and before the deferred configuration and
        the NetworkPolicies are rendered, so whatever it adds (including new ``connect`` edges) is in
        the output. The default adds nothing. See ``examples/extended_stack.py``.
        """
