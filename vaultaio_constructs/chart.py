"""``VaultAioChart``: the complete stack, and the only place that knows every component.

It creates one construct per component, wires them together through typed endpoints (each call records the
NetworkPolicy edge it needs), then finishes the stack: the Namespaces (Pod Security labels derived from the
components in each) and the NetworkPolicies generated from that wiring.
"""

from __future__ import annotations

from constructs import Construct

from vaultaio_constructs.alertmanager.construct import Alertmanager
from vaultaio_constructs.alloy.construct import Alloy
from vaultaio_constructs.chrony.construct import Chrony
from vaultaio_constructs.component import StackChart
from vaultaio_constructs.grafana.construct import Grafana
from vaultaio_constructs.loki.construct import Loki
from vaultaio_constructs.prometheus.construct import Prometheus
from vaultaio_constructs.settings import VaultAioProps
from vaultaio_constructs.tempo.construct import Tempo
from vaultaio_constructs.vault.construct import Vault


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
            node_namespace=props.node_namespace,
            instance=props.instance,
            cluster_domain=props.cluster_domain,
            storage_class=props.storage_class,
            profile=props.profile,
            network=props.network,
        )
        self.props = props
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
        # Grafana reads from every store
        self.grafana.use_prometheus(self.prometheus)
        self.grafana.use_loki(self.loki)
        self.grafana.use_tempo(self.tempo)
        self.grafana.use_alertmanager(self.alertmanager)

        self.extend()
        self.network_policies = self.finish()

    def extend(self) -> None:
        """Hook for subclasses: add dashboards, scrape targets, Vault policies or Loki rules here.

        It runs after every component exists and is wired, and before the deferred configuration and
        the NetworkPolicies are rendered, so whatever it adds (including new ``connect`` edges) is in
        the output. The default adds nothing. See ``examples/extended_stack.py``.
        """
