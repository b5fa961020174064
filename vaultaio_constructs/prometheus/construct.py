"""Prometheus: a server on a PVC that scrapes the stack, receives Alloy's remote write and evaluates the
alert rules of :mod:`vaultaio_constructs.alerts`; optionally as an HA pair, writing on to long-term stores.

Targets come from the wiring (:meth:`Prometheus.add_scrape_target`), so every scrape has its NetworkPolicy
edge; Vault pods are discovered by DNS (no Kubernetes API access, no RBAC). Configuration and rules are
ConfigMaps rendered in :meth:`Prometheus.finalize`; their checksum is a pod annotation, so a change rolls
the pod. Data lives on the ``data`` PVC and outlives the pod and the StatefulSet.

``remote_write`` (:mod:`.remote_write`) sends every sample on to long-term stores; each destination is one
egress NetworkPolicy to the CIDRs its settings name, and its credentials are Secret files.

``replicas: 2`` runs an HA pair the way kube-prometheus does: two identical, independent servers that each
scrape everything, evaluate every rule and alert the same Alertmanagers (every replica of a cluster). What
the pair needs beyond a second pod:

* ``external_labels`` gain ``<replica_label>: <pod name>`` (``replica`` by default), so a long-term store
  can tell the copies apart: Thanos deduplicates on it at query time, Mimir/Cortex's HA tracker accepts one
  replica's samples (set ``replica_label: __replica__`` and a ``cluster`` external label there);
* the same label is dropped from alerts (``alert_relabel_configs`` ``labeldrop``), so both copies of an
  alert carry identical labels and Alertmanager groups and deduplicates them as one;
* the agents that push into Prometheus (Alloy, Tempo's metrics-generator) write to **each** replica by its
  own address (:attr:`Prometheus.remote_write_endpoints`), never through the load-balancing Service, so
  both replicas hold the same series; each writer queues per replica, so a restarted replica is refilled
  from the writer's WAL for as long as the writer retains it;
* Grafana and people query the ``prometheus`` Service, which keeps ``sessionAffinity: ClientIP``: one
  Grafana pod's queries stay on one replica (no panel flickering between two slightly different copies)
  and move to the other when that replica is not ready. Merging both at query time needs a deduplicating
  querier (Thanos Query, or the long-term store itself), which this stack does not run;
* a headless Service ``prometheus-internal`` governs the StatefulSet (per-pod DNS names for the writers
  and for Prometheus scraping each replica), a PodDisruptionBudget (``maxUnavailable: 1``), preferred
  anti-affinity across nodes and a zone spread (``ScheduleAnyway``).

Going from one replica to two changes the StatefulSet's ``serviceName``, which Kubernetes does not let
change in place: delete the StatefulSet with ``--cascade=orphan`` first (docs/SCALING.md).

``prometheus.enabled: false`` leaves it out; ``prometheus.external`` names an existing Prometheus
(:class:`ExternalPrometheus`, with its remote-write receiver on) that Alloy and Tempo write to and Grafana
queries instead. The stack's alert rules and scrape jobs then need that Prometheus to load them. Its
``basic_auth`` and ``ca`` go with every client: Grafana's queries, Alloy's and Tempo's remote-writes.
"""

from __future__ import annotations

from typing import Final, Protocol

from constructs import Construct

from vaultaio_constructs.alertmanager.construct import AlertmanagerApi
from vaultaio_constructs.alerts import AlertSettings, prometheus_rule_groups, render_loki_rules, render_rules
from vaultaio_constructs.common import (
    ExternalBasicAuth,
    SecretKeyRef,
)
from vaultaio_constructs.component import Component
from vaultaio_constructs.placement import Area, refuse_disabled
from vaultaio_constructs.prometheus.config import (
    REMOTE_WRITE_PATH,
    PrometheusConfig,
    ScrapeJob,
    ScrapeTls,
    prometheus_args,
    render_prometheus_config,
)
from vaultaio_constructs.prometheus.props import (
    PrometheusExternalProps,
    PrometheusProps,
)
from vaultaio_constructs.prometheus.remote_write import (
    aws_environment,
    irsa_role,
)
from vaultaio_constructs.scrape import ScrapeTarget
from vaultaio_constructs.wiring import Endpoint, ExternalService, Target
from vaultaio_constructs.workload import (
    CONFIG_CHECKSUM_ANNOTATION,
    anti_affinity,
    config_checksum,
    config_map,
    config_map_volume,
    container,
    env_from_field,
    env_from_secret,
    http_probe,
    mount,
    pod_disruption_budget,
    pod_security_context,
    pod_template,
    secret_volume,
    service,
    service_account,
    stateful_set,
    storage_claim,
    zone_spread,
)

PROMETHEUS_PORT: Final = 9090
#: The image's ``nobody`` user.
PROMETHEUS_UID: Final = 65534
CONFIG_DIR: Final = "/etc/prometheus"
CONFIG_FILE: Final = "prometheus.yml"
RULES_DIR: Final = "/etc/prometheus/rules"
RULES_FILE: Final = "vault-aio.yaml"
SECRETS_DIR: Final = "/etc/prometheus/secrets"
DATA_DIR: Final = "/prometheus"
CONFIG_MAP_NAME: Final = "prometheus-config"
RULES_CONFIG_MAP_NAME: Final = "prometheus-rules"
#: File name of the Loki ruler's rule file produced from the same alert settings.
LOKI_RULES_FILE: Final = "vault-audit.yaml"
#: Headless Service of an HA pair: per-pod DNS names for remote-write agents and scraping.
PEERS_SERVICE_NAME: Final = "prometheus-internal"
#: Environment variable holding the pod name (downward API): the value of the replica external label.
POD_NAME_ENV: Final = "POD_NAME"


def _secret_volume_name(secret: str) -> str:
    return f"secret-{secret}"[:63].rstrip("-")


def loki_rule_file(alerts: AlertSettings, namespace: str) -> tuple[str, str]:
    """``(file name, content)`` of the Loki ruler's rules, built from the same alert settings as Prometheus'
    (failed logins exist only in Vault's audit log); ``namespace`` is Vault's."""
    return LOKI_RULES_FILE, render_loki_rules(alerts, namespace)


class PrometheusApi(Protocol):
    """What consumers of metrics need: the stack's :class:`Prometheus` or an :class:`ExternalPrometheus`."""

    @property
    def query_endpoint(self) -> Target: ...

    #: Where agents push samples: every replica of an HA pair.
    @property
    def remote_write_endpoints(self) -> tuple[Target, ...]: ...

    #: The Prometheus version when known (Grafana's data source uses it for feature detection).
    @property
    def version(self) -> str | None: ...

    #: HTTP basic authentication for queries (the password as a Secret key), if the Prometheus needs it.
    @property
    def basic_auth(self) -> ExternalBasicAuth | None: ...

    #: Secret key of the CA bundle that verifies the query URL's https certificate; ``None``: system CAs.
    @property
    def ca(self) -> SecretKeyRef | None: ...


class ExternalPrometheus:
    """An existing Prometheus (``prometheus.external``)."""

    version: str | None = None

    def __init__(self, props: PrometheusExternalProps) -> None:
        """The Prometheus that ``props`` (``prometheus.external`` in the settings) describes: pass it where a
        consumer takes a ``PrometheusApi`` (``connect()`` then records egress to exactly its pods or
        networks)."""
        self._service = ExternalService.from_props("prometheus", props)
        self._remote_write_path = props.remote_write_path
        #: Sent by every client: Grafana's data source, Alloy's and Tempo's remote-writes.
        self.basic_auth = props.basic_auth
        self.ca = props.ca

    @property
    def query_endpoint(self) -> ExternalService:
        return self._service

    @property
    def remote_write_endpoint(self) -> ExternalService:
        return self._service.with_origin_path(self._remote_write_path)

    @property
    def remote_write_endpoints(self) -> tuple[ExternalService, ...]:
        """One receiver: an existing store spreads what it receives itself."""
        return (self.remote_write_endpoint,)


class Prometheus(Component):
    """Prometheus (metrics): StatefulSet on a PVC, remote-write receiver, alert rules, DNS discovery."""

    area = Area.MONITORING

    def __init__(self, scope: Construct, id: str, props: PrometheusProps | None = None) -> None:
        """Create Prometheus (StatefulSet, config, alert rules) in ``scope`` (a
        :class:`~vaultaio_constructs.component.StackChart`, or a construct inside one) from ``props``
        (default: every setting at its default, see ``docs/SETTINGS.md``); ``id`` is the construct id.
        Scrape more with :meth:`add_scrape_target`; send alerts with :meth:`use_alertmanager`."""
        props = props or PrometheusProps()
        refuse_disabled("prometheus", props.enabled)
        super().__init__(
            scope,
            id,
            name="prometheus",
            role="metrics",
            workload=props,
        )
        self.resources = self.resolve_resources(props.resources)
        self.storage_gib = self.resolve_storage_gib(props.storage_gib)
        self.retention_days = props.retention_days
        self.retention_size_gib = props.retention_size_gib or max(1, self.storage_gib * 4 // 5)
        if self.retention_size_gib >= self.storage_gib:
            raise ValueError(
                f"prometheus: 'retention_size_gib' ({self.retention_size_gib}) must be < 'storage_gib' "
                f"({self.storage_gib}): the volume also holds the WAL and blocks being compacted"
            )
        self.scrape_interval_seconds = props.scrape_interval_seconds
        self.evaluation_interval_seconds = props.evaluation_interval_seconds
        self.external_labels = dict(props.external_labels)
        self.alerts = props.alerts
        self.replicas = props.replicas
        self.replica_label = props.replica_label
        self.remote_write = props.remote_write
        self.targets: list[ScrapeTarget] = []
        self._alertmanagers: list[str] = []

        #: HTTP API and UI, ``/metrics``, and the remote-write receiver, through the Service.
        self.web = self.endpoint(port_name="web", port=PROMETHEUS_PORT)
        #: The same port on each pod of an HA pair (headless ``prometheus-internal``).
        self.peer_web = self.endpoint(
            port_name="web", port=PROMETHEUS_PORT, service=PEERS_SERVICE_NAME, per_pod=True
        )
        role = irsa_role(self.remote_write)
        service_account(self, annotations={"eks.amazonaws.com/role-arn": role} if role else None)
        # an HA pair: each client sticks to one replica while it is ready (consistent query results)
        service(self, [self.web], session_affinity=self.ha)
        if self.ha:
            service(self, [self.peer_web], name=PEERS_SERVICE_NAME, headless=True, publish_not_ready=True)
            pod_disruption_budget(self, max_unavailable=1)
        for destination in self.remote_write:
            for external in destination.endpoints():
                self.connect_external(external, reason=f"remote write to {destination.name}")

    # -- public API --------------------------------------------------------------------------------------
    #: The stack's own Prometheus serves queries without authentication or TLS (NetworkPolicies guard it).
    basic_auth: ExternalBasicAuth | None = None
    ca: SecretKeyRef | None = None

    @property
    def query_endpoint(self) -> Endpoint:
        """Where Grafana and people query Prometheus."""
        return self.web

    @property
    def ha(self) -> bool:
        """More than one replica."""
        return self.replicas > 1

    @property
    def pod_names(self) -> tuple[str, ...]:
        """``prometheus-0`` .. ``prometheus-<replicas-1>``."""
        return tuple(f"{self.name}-{i}" for i in range(self.replicas))

    @property
    def remote_write_endpoint(self) -> Endpoint:
        """Where agents push samples (remote-write receiver) through the Service: one replica's worth.

        Writers of an HA pair use :attr:`remote_write_endpoints` instead.
        """
        return self.web.with_path(REMOTE_WRITE_PATH)

    @property
    def remote_write_endpoints(self) -> tuple[Endpoint, ...]:
        """Where agents push samples: every replica by its own address, so each holds every series."""
        if not self.ha:
            return (self.remote_write_endpoint,)
        return tuple(self.peer_web.with_path(REMOTE_WRITE_PATH).for_pod(pod) for pod in self.pod_names)

    @property
    def metrics_target(self) -> ScrapeTarget:
        """Every replica (DNS discovery of the headless Service in an HA pair)."""
        return ScrapeTarget(job="prometheus", endpoint=self.peer_web if self.ha else self.web)

    def add_scrape_target(self, target: ScrapeTarget) -> None:
        """Scrape ``target``; refuses a second target with the same job name."""
        if any(t.job == target.job for t in self.targets):
            raise ValueError(
                f"prometheus already scrapes a job named {target.job!r}: choose another job name"
            )
        if not target.https and target.ca is not None:
            raise ValueError(f"scrape target {target.job!r} has a CA but is scraped over http")
        self.connect(target.endpoint, reason=f"scrape {target.job} metrics")
        self.targets.append(target)

    def use_alertmanager(self, alertmanager: AlertmanagerApi) -> None:
        """Send alerts to ``alertmanager`` (the stack's or an external one): to every replica of a cluster,
        each by its own address."""
        for target in alertmanager.alert_endpoints:
            endpoint = self.connect(target, reason="send alerts")
            url = f"{endpoint.scheme}://{endpoint.address}{endpoint.path}"  # targets need an explicit port
            if url not in self._alertmanagers:
                self._alertmanagers.append(url)

    @property
    def loki_rule_file(self) -> tuple[str, str]:
        """``(file name, content)`` of the Loki ruler rules built from the same alert settings.

        For ``Loki.add_rules(*prometheus.loki_rule_file)``: failed logins exist only in Vault's audit log.
        """
        return loki_rule_file(self.alerts, self.namespace)

    # -- rendering ---------------------------------------------------------------------------------------
    def _secret_path(self, ref: SecretKeyRef) -> str:
        return f"{SECRETS_DIR}/{ref.name}/{ref.key}"

    def _job(self, target: ScrapeTarget) -> ScrapeJob:
        endpoint = target.endpoint
        tls = None
        if target.https:
            tls = ScrapeTls(
                ca_file=self._secret_path(target.ca) if target.ca else "",
                server_name=target.server_name or "",
            )
        if endpoint.per_pod:
            return ScrapeJob(
                job=target.job,
                dns_names=(endpoint.fqdn,),
                dns_port=endpoint.port,
                metrics_path=target.metrics_path,
                params=target.params,
                tls=tls,
                scrape_interval_seconds=target.scrape_interval_seconds,
                fallback_scrape_protocol=target.fallback_scrape_protocol,
            )
        return ScrapeJob(
            job=target.job,
            static_targets=(endpoint.address,),
            metrics_path=target.metrics_path,
            params=target.params,
            tls=tls,
            scrape_interval_seconds=target.scrape_interval_seconds,
            fallback_scrape_protocol=target.fallback_scrape_protocol,
        )

    @property
    def config(self) -> PrometheusConfig:
        """The configuration Prometheus runs with (final once the stack is finished)."""
        # Prometheus 3 expands $VAR in external label values: keep the user's values literal
        labels = {name: value.replace("$", "$$") for name, value in self.external_labels.items()}
        if self.ha:
            labels[self.replica_label] = f"${{{POD_NAME_ENV}}}"
        return PrometheusConfig(
            jobs=tuple(self._job(target) for target in self.targets),
            alertmanagers=tuple(self._alertmanagers),
            rule_files=(f"{RULES_DIR}/*.yaml",),
            scrape_interval_seconds=self.scrape_interval_seconds,
            scrape_timeout_seconds=min(10, self.scrape_interval_seconds),
            evaluation_interval_seconds=self.evaluation_interval_seconds,
            external_labels=labels,
            alert_drop_labels=(self.replica_label,) if self.ha else (),
            remote_write=tuple(rw.to_config(self._secret_path) for rw in self.remote_write),
        )

    @property
    def rules(self) -> str:
        """The alert rule file (``vault-aio.yaml``)."""
        return render_rules(prometheus_rule_groups(self.alerts.thresholds), self.alerts.runbook_base_url)

    def _secret_keys(self) -> dict[str, tuple[tuple[str, ...], bool]]:
        """Secret name -> (keys mounted, optional): the CA bundles of TLS targets (optional, so Prometheus
        starts and alerts before a peer's TLS Secret exists) and the remote-write credentials (required:
        Prometheus refuses a configuration whose TLS files are missing)."""
        keys: dict[str, set[str]] = {}
        required: set[str] = set()
        for target in self.targets:
            if target.ca is not None:
                keys.setdefault(target.ca.name, set()).add(target.ca.key)
        for destination in self.remote_write:
            for ref in destination.secrets():
                keys.setdefault(ref.name, set()).add(ref.key)
                required.add(ref.name)
        return {secret: (tuple(sorted(keys[secret])), secret not in required) for secret in sorted(keys)}

    def finalize(self) -> None:
        """Render config and rules (after every target is added) and create the StatefulSet."""
        config_text = render_prometheus_config(self.config)
        rules_text = self.rules
        self.config_map = config_map(self, CONFIG_MAP_NAME, {CONFIG_FILE: config_text})
        self.rules_config_map = config_map(self, RULES_CONFIG_MAP_NAME, {RULES_FILE: rules_text})
        checksum = config_checksum(config_text, rules_text)
        secrets = self._secret_keys()
        prometheus = container(
            name="prometheus",
            image=self.image,
            resources=self.resources,
            ports=[self.web],
            args=prometheus_args(
                config_file=f"{CONFIG_DIR}/{CONFIG_FILE}",
                storage_path=DATA_DIR,
                retention_days=self.retention_days,
                retention_size_gib=self.retention_size_gib,
                port=PROMETHEUS_PORT,
            ),
            volume_mounts=[
                mount("config", CONFIG_DIR, read_only=True),
                mount("rules", RULES_DIR, read_only=True),
                mount("data", DATA_DIR),
                *(
                    mount(_secret_volume_name(secret), f"{SECRETS_DIR}/{secret}", read_only=True)
                    for secret in secrets
                ),
            ],
            env=[
                *([env_from_field(POD_NAME_ENV, "metadata.name")] if self.ha else []),
                *(env_from_secret(var, ref.name, ref.key) for var, ref in aws_environment(self.remote_write)),
            ],
            readiness=http_probe("/-/ready", self.web.port_name, period_seconds=10, failure_threshold=6),
            # WAL replay after a restart can take minutes on a full volume: only restart a hung server.
            liveness=http_probe("/-/healthy", self.web.port_name, period_seconds=30, failure_threshold=10),
        )
        template = pod_template(
            self,
            containers=[prometheus],
            security_context=pod_security_context(
                user=PROMETHEUS_UID, group=PROMETHEUS_UID, fs_group=PROMETHEUS_UID
            ),
            volumes=[
                config_map_volume("config", CONFIG_MAP_NAME),
                config_map_volume("rules", RULES_CONFIG_MAP_NAME),
                *(
                    # CA bundles of scrape targets: optional, so Prometheus starts (and alerts) before a
                    # peer's TLS Secret exists; the kubelet adds the files once it is created
                    secret_volume(_secret_volume_name(name), name, {k: k for k in keys}, optional=optional)
                    for name, (keys, optional) in secrets.items()
                ),
            ],
            # Prometheus writes out its head block on SIGTERM; give it time on a busy volume.
            termination_grace_period_seconds=120,
            annotations={CONFIG_CHECKSUM_ANNOTATION: checksum},
            affinity=anti_affinity(self) if self.ha else None,
            topology_spread_constraints=zone_spread(self) if self.ha else (),
        )
        self.stateful_set = stateful_set(
            self,
            template=template,
            claims=[storage_claim(self, "data", self.storage_gib)],
            # per-pod DNS names (the remote-write agents use them) need a headless governing Service
            service_name=PEERS_SERVICE_NAME if self.ha else self.name,
            replicas=self.replicas,
            pod_management_policy="Parallel" if self.ha else "OrderedReady",
        )
