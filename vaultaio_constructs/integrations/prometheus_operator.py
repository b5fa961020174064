"""Prometheus Operator custom resources, so a Prometheus you run (kube-prometheus-stack) monitors Vault.

Objects (``monitoring/``), all labelled with ``resource_labels`` so your Prometheus' selectors pick them:

* PodMonitor ``<job>`` per scrape target (Vault: ``vault``). It selects the component's pods by the same
  labels its NetworkPolicies use and scrapes the named container port with the path, parameters, scheme
  and TLS of the stack's own scrape job (:class:`~vaultaio_constructs.scrape.ScrapeTarget`), and a
  relabeling sets ``job`` to the target's job name, which every alert rule and dashboard selects on. A
  PodMonitor rather than a ServiceMonitor: the operator discovers pods whatever their readiness (it drops
  only ``Failed``/``Succeeded`` pods), so sealed and standby Vault pods are scraped without depending on a
  Service publishing not-ready addresses, and the selector is the one the wiring already knows.
  TLS is verified: the CA comes from the Secret key the target names (``vault-tls``/``ca.crt``, read by the
  operator in this namespace) and, as pods are addressed by IP, the server name is the Service name.
* PrometheusRule ``vault`` with the rule groups added (the chart adds the ``vault`` group, rendered by the
  same code and thresholds as the stack's own rule file, so both evaluate identical rules; the promtool
  tests prove that group).
* Probe ``vault-tls`` (optional) through a blackbox exporter you run, with ``job="blackbox"``.

NetworkPolicies: your Prometheus pods (namespace and pod labels from settings) may reach each scraped
endpoint's port and nothing else, and the blackbox exporter only Vault's API port; both through
:meth:`~vaultaio_constructs.component.Component.expose_to_namespaces`, so they come from the wiring like
every other policy.
"""

from __future__ import annotations

from typing import Final

from constructs import Construct

from vaultaio_constructs.alerts import RuleGroup
from vaultaio_constructs.alerts.render import rule_groups_document
from vaultaio_constructs.alerts.rules import PROBE_JOB
from vaultaio_constructs.alloy.config import VAULT_HEALTH_PATH
from vaultaio_constructs.component import Component
from vaultaio_constructs.crd import CustomResource
from vaultaio_constructs.crd import monitoring as mon
from vaultaio_constructs.integrations.props import PrometheusOperatorProps
from vaultaio_constructs.placement import Area
from vaultaio_constructs.scrape import ScrapeTarget
from vaultaio_constructs.wiring import Endpoint, Scheme

#: Name of the PrometheusRule and of the Probe.
RULE_NAME: Final = "vault"
PROBE_NAME: Final = "vault-tls"
#: NetworkPolicy source name of the blackbox exporter (``allow-vault-from-blackbox-exporter``).
BLACKBOX_SOURCE: Final = "blackbox-exporter"


def pod_metrics_endpoint(target: ScrapeTarget, interval_seconds: int | None = None) -> mon.PodMetricsEndpoint:
    """The PodMonitor endpoint that scrapes ``target`` exactly as the stack's own Prometheus does."""
    endpoint = target.endpoint
    tls = None
    if target.https:
        tls = mon.SafeTlsConfig(
            ca=mon.SecretKeySelector(name=target.ca.name, key=target.ca.key) if target.ca else None,
            # pods are scraped by IP: verify the name the certificate carries for the Service
            server_name=target.server_name or endpoint.host,
        )
    interval = interval_seconds or target.scrape_interval_seconds
    return mon.PodMetricsEndpoint(
        port=endpoint.port_name,
        path=target.metrics_path,
        params=target.params,
        tls=tls,
        interval=f"{interval}s" if interval else None,
        relabelings=(mon.Relabeling(target_label="job", replacement=target.job),),
    )


class PrometheusOperatorResources(Component):
    """PodMonitors, a PrometheusRule and an optional Probe for a Prometheus Operator you run."""

    area = Area.MONITORING

    def __init__(self, scope: Construct, id: str, props: PrometheusOperatorProps | None = None) -> None:
        props = props or PrometheusOperatorProps()
        super().__init__(scope, id, name="prometheus-operator-resources", role="monitoring", version="v1")
        self.resource_labels = dict(props.resource_labels)
        self.source = props.name
        self.prometheus_namespace_labels = dict(props.prometheus_namespace_labels)
        self.prometheus_pod_labels = dict(props.prometheus_pod_labels)
        self.scrape_interval_seconds = props.scrape_interval_seconds
        self.blackbox = props.blackbox_probe
        self.targets: list[ScrapeTarget] = []
        self.rule_groups: list[RuleGroup] = []
        self.runbook_base_url: str | None = None
        self._probe_url: str | None = None

    # -- public API ------------------------------------------------------------------------------------
    def add_scrape_target(self, target: ScrapeTarget) -> None:
        """Scrape ``target`` with a PodMonitor; your Prometheus may reach its port (and only that)."""
        if any(t.job == target.job for t in self.targets):
            raise ValueError(f"a PodMonitor for job {target.job!r} already exists: choose another job name")
        if not target.https and target.ca is not None:
            raise ValueError(f"scrape target {target.job!r} has a CA but is scraped over http")
        self.expose_to_namespaces(
            target.endpoint,
            source=self.source,
            namespace_labels=self.prometheus_namespace_labels,
            pod_labels=self.prometheus_pod_labels,
            reason=f"your Prometheus scrapes {target.job} metrics (PodMonitor {target.job})",
        )
        self.targets.append(target)

    def add_rule_group(self, group: RuleGroup, runbook_base_url: str) -> None:
        """Evaluate ``group`` in your Prometheus (PrometheusRule ``vault``)."""
        if any(g.name == group.name for g in self.rule_groups):
            raise ValueError(f"the PrometheusRule already has a group named {group.name!r}")
        if self.runbook_base_url not in (None, runbook_base_url):
            raise ValueError("every rule group of the PrometheusRule must use the same runbook_base_url")
        self.runbook_base_url = runbook_base_url
        self.rule_groups.append(group)

    def probe_tls(self, endpoint: Endpoint) -> None:
        """Probe ``endpoint``'s TLS certificate through the configured blackbox exporter (a ``Probe``).

        Does nothing without ``blackbox_probe`` settings or for a plain-HTTP endpoint.
        """
        if self.blackbox is None or endpoint.scheme is not Scheme.HTTPS:
            return
        self.expose_to_namespaces(
            endpoint,
            source=BLACKBOX_SOURCE,
            namespace_labels=self.blackbox.namespace_labels,
            pod_labels=self.blackbox.pod_labels,
            reason="your blackbox exporter probes the TLS certificate for expiry (Probe vault-tls)",
        )
        self._probe_url = endpoint.url.rstrip("/") + VAULT_HEALTH_PATH

    # -- rendering -------------------------------------------------------------------------------------
    def _resource(
        self, kind: str, name: str, spec: mon.PodMonitorSpec | mon.PrometheusRuleSpec | mon.ProbeSpec
    ) -> None:
        self.track(
            CustomResource(
                self,
                f"{kind}-{name}",
                api_version=mon.API_VERSION,
                kind=kind,
                name=name,
                namespace=self.namespace,
                labels={**self.labels, **self.resource_labels},
                spec=spec,
            )
        )

    def finalize(self) -> None:
        """Create the custom resources once every target and group has been added."""
        for target in self.targets:
            self._resource(
                "PodMonitor",
                target.job,
                mon.PodMonitorSpec(
                    namespace=target.endpoint.namespace,
                    selector=dict(target.endpoint.selector),
                    endpoints=(pod_metrics_endpoint(target, self.scrape_interval_seconds),),
                ),
            )
        if self.rule_groups:
            assert self.runbook_base_url is not None
            document = rule_groups_document(self.rule_groups, self.runbook_base_url)
            self._resource("PrometheusRule", RULE_NAME, mon.PrometheusRuleSpec(groups=document["groups"]))
        if self._probe_url is not None and self.blackbox is not None:
            interval = self.blackbox.interval_seconds
            self._resource(
                "Probe",
                PROBE_NAME,
                mon.ProbeSpec(
                    job_name=PROBE_JOB,
                    prober_url=self.blackbox.prober_url,
                    module=self.blackbox.module,
                    targets=(self._probe_url,),
                    interval=f"{interval}s" if interval else None,
                ),
            )


__all__ = ["PrometheusOperatorResources", "pod_metrics_endpoint"]
