"""Alertmanager: a StatefulSet on PVCs (silences and notification log survive restarts) that routes the
stack's alerts by severity to the receivers declared in settings.

Receiver credentials are Secret keys mounted as files (the config names the files, never the values); each
receiver's endpoint becomes an explicit egress rule to its CIDRs, the only traffic Alertmanager may send out
of the cluster.

One replica (the default): gossip is switched off (``--cluster.listen-address=``), no cluster port is opened.

``replicas`` 2-5: a gossip cluster, the topology of the Alertmanager README's "High Availability" section
and of kube-prometheus (3 replicas):

* headless Service ``alertmanager-internal`` (``publishNotReadyAddresses``, so peers find each other while
  starting) governs the StatefulSet, giving every pod a DNS name; it carries ``web`` 9093 and the mesh
  ports ``mesh-tcp``/``mesh-udp`` 9094 (memberlist gossips over both protocols);
* every pod listens on ``[$(POD_IP)]:9094`` (the address it advertises; no guessing among interfaces) and
  is given every pod as ``--cluster.peer=alertmanager-<i>.alertmanager-internal.<ns>.svc:9094``;
  Alertmanager re-resolves the names, so a rescheduled peer is found again;
* alert senders must reach **every** replica, never one behind a load-balancing Service (the cluster
  deduplicates notifications, it does not forward alerts): :attr:`Alertmanager.alert_endpoints` lists the
  per-pod addresses that Prometheus (``static_configs``) and the Loki ruler (one ``alertmanager_url`` each)
  send to; Grafana's data source keeps the ``alertmanager`` Service, since silences are gossiped;
* NetworkPolicy: Alertmanager pods may reach each other on 9094 TCP and UDP, nobody else may;
* a PodDisruptionBudget (``maxUnavailable: 1``), preferred anti-affinity across nodes and a zone spread
  (``ScheduleAnyway``); Prometheus scrapes each pod through the headless Service.

Going from one replica to several changes the StatefulSet's ``serviceName``, which Kubernetes does not let
change in place: delete the StatefulSet with ``--cascade=orphan`` first (docs/SCALING.md).

``alertmanager.enabled: false`` leaves it out; ``alertmanager.external`` names an existing Alertmanager
(:class:`ExternalAlertmanager`) that Prometheus, the Loki ruler and Grafana use instead.
"""

from __future__ import annotations

from typing import Final
from typing import Protocol as TypingProtocol

from constructs import Construct

from vaultaio_constructs.alertmanager.config import (
    render_alertmanager_config,
)
from vaultaio_constructs.alertmanager.props import AlertmanagerProps
from vaultaio_constructs.alerts import default_inhibit_rules
from vaultaio_constructs.common import (
    ExternalServiceProps,
    Protocol,
)
from vaultaio_constructs.component import Component
from vaultaio_constructs.placement import Area, refuse_disabled
from vaultaio_constructs.scrape import ScrapeTarget
from vaultaio_constructs.wiring import Endpoint, ExternalService, Scheme, Target
from vaultaio_constructs.workload import (
    CONFIG_CHECKSUM_ANNOTATION,
    anti_affinity,
    config_checksum,
    config_map,
    config_map_volume,
    container,
    env_from_field,
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

ALERTMANAGER_PORT: Final = 9093
#: Gossip (memberlist) port, TCP and UDP; Alertmanager's default ``--cluster.listen-address`` port.
MESH_PORT: Final = 9094
#: Headless Service of a clustered Alertmanager: per-pod DNS names for peers and alert senders.
PEERS_SERVICE_NAME: Final = "alertmanager-internal"
#: Environment variable holding the pod's IP (downward API), the address it listens on and advertises.
POD_IP_ENV: Final = "POD_IP"
#: The image's ``nobody`` user.
ALERTMANAGER_UID: Final = 65534
CONFIG_DIR: Final = "/etc/alertmanager"
CONFIG_FILE: Final = "alertmanager.yml"
SECRETS_DIR: Final = "/etc/alertmanager/secrets"
DATA_DIR: Final = "/alertmanager"
CONFIG_MAP_NAME: Final = "alertmanager-config"


class AlertmanagerApi(TypingProtocol):
    """What senders of alerts and Grafana need: the stack's :class:`Alertmanager` or an
    :class:`ExternalAlertmanager`."""

    #: The UI and API (Grafana's data source).
    @property
    def web(self) -> Target: ...

    #: Where alert senders deliver: every one of them (each replica of a cluster).
    @property
    def alert_endpoints(self) -> tuple[Target, ...]: ...


class ExternalAlertmanager:
    """An existing Alertmanager (``alertmanager.external``): its API is at the URL's path."""

    def __init__(self, props: ExternalServiceProps) -> None:
        """The Alertmanager that ``props`` (``alertmanager.external`` in the settings) describes: pass it
        where a consumer takes an ``AlertmanagerApi`` (``connect()`` then records egress to exactly its
        pods or networks)."""
        #: API and UI; alerts are posted to ``<url>/api/v2/alerts``.
        self.web = ExternalService.from_props("alertmanager", props)

    @property
    def alert_endpoints(self) -> tuple[ExternalService, ...]:
        """One URL: an existing Alertmanager cluster is reached through its own load balancing (give the
        URL of a service that reaches every replica, or let it deduplicate through its gossip)."""
        return (self.web,)


def _secret_volume_name(secret: str) -> str:
    return f"secret-{secret}"[:63].rstrip("-")


class Alertmanager(Component):
    """Alertmanager (alerting): StatefulSet on a PVC, severity routing, receivers from Secret files."""

    area = Area.MONITORING

    def __init__(self, scope: Construct, id: str, props: AlertmanagerProps | None = None) -> None:
        """Create Alertmanager (StatefulSet, config with the receivers of ``props.notifications``) in
        ``scope`` (a :class:`~vaultaio_constructs.component.StackChart`, or a construct inside one) from
        ``props`` (default: every setting at its default, see ``docs/SETTINGS.md``); ``id`` is the
        construct id."""
        props = props or AlertmanagerProps()
        refuse_disabled("alertmanager", props.enabled)
        super().__init__(
            scope,
            id,
            name="alertmanager",
            role="alerting",
            workload=props,
        )
        self.resources = self.resolve_resources(props.resources)
        self.storage_gib = self.resolve_storage_gib(props.storage_gib)
        self.data_retention_hours = props.data_retention_hours
        self.notifications = props.notifications
        self.replicas = props.replicas

        #: API and UI, ``/metrics``; people and Grafana use it (any replica will do).
        self.web = self.endpoint(port_name="web", port=ALERTMANAGER_PORT)
        #: The same port on each pod, through the headless peers Service (alert senders, scraping).
        self.peer_web = self.endpoint(
            port_name="web", port=ALERTMANAGER_PORT, service=PEERS_SERVICE_NAME, per_pod=True
        )
        #: Gossip between replicas (memberlist uses TCP and UDP on the same port).
        self.mesh = tuple(
            self.endpoint(
                port_name=f"mesh-{protocol.lower()}",
                port=MESH_PORT,
                scheme=Scheme.TCP,
                protocol=protocol,
                service=PEERS_SERVICE_NAME,
                per_pod=True,
            )
            for protocol in (Protocol.TCP, Protocol.UDP)
        )
        service_account(self)
        service(self, [self.web])
        if self.clustered:
            service(
                self,
                [self.peer_web, *self.mesh],
                name=PEERS_SERVICE_NAME,
                headless=True,
                publish_not_ready=True,
            )
            for mesh in self.mesh:
                self.connect(mesh, reason="gossip: shared silences and deduplicated notifications")
            pod_disruption_budget(self, max_unavailable=1)
        for endpoint in self.notifications.endpoints():
            self.connect_external(endpoint, reason=f"send notifications to receiver {endpoint.name}")

    @property
    def clustered(self) -> bool:
        """More than one replica: a gossip cluster."""
        return self.replicas > 1

    @property
    def pod_names(self) -> tuple[str, ...]:
        """``alertmanager-0`` .. ``alertmanager-<replicas-1>``."""
        return tuple(f"{self.name}-{i}" for i in range(self.replicas))

    @property
    def web_endpoint(self) -> Endpoint:
        """Where people open the UI (the Service: any replica)."""
        return self.web

    @property
    def alert_endpoints(self) -> tuple[Endpoint, ...]:
        """Where alert senders deliver: every replica (its own pod address when clustered), so each
        replica knows every alert and the cluster can deduplicate the notifications."""
        if not self.clustered:
            return (self.web,)
        return tuple(self.peer_web.for_pod(pod) for pod in self.pod_names)

    @property
    def metrics_target(self) -> ScrapeTarget:
        """Every replica (DNS discovery of the peers Service when clustered)."""
        return ScrapeTarget(job="alertmanager", endpoint=self.peer_web if self.clustered else self.web)

    def _cluster_args(self) -> list[str]:
        if not self.clustered:
            # Single replica: no gossip mesh, so no cluster port to open or protect.
            return ["--cluster.listen-address="]
        peer = self.mesh[0]
        return [
            f"--cluster.listen-address=[$({POD_IP_ENV})]:{MESH_PORT}",
            *(f"--cluster.peer={peer.pod_host(pod)}:{MESH_PORT}" for pod in self.pod_names),
        ]

    @property
    def config_text(self) -> str:
        """The rendered ``alertmanager.yml`` (no secret values: receivers read mounted files)."""
        return render_alertmanager_config(self.notifications, default_inhibit_rules(), SECRETS_DIR)

    def _secret_keys(self) -> dict[str, tuple[str, ...]]:
        keys: dict[str, set[str]] = {}
        for ref in self.notifications.secrets():
            keys.setdefault(ref.name, set()).add(ref.key)
        return {secret: tuple(sorted(keys[secret])) for secret in sorted(keys)}

    def finalize(self) -> None:
        """Render the configuration and create the StatefulSet."""
        config_text = self.config_text
        self.config_map = config_map(self, CONFIG_MAP_NAME, {CONFIG_FILE: config_text})
        checksum = config_checksum(config_text)
        secrets = self._secret_keys()
        alertmanager = container(
            name="alertmanager",
            image=self.image,
            resources=self.resources,
            ports=[self.web, *(self.mesh if self.clustered else ())],
            args=[
                f"--config.file={CONFIG_DIR}/{CONFIG_FILE}",
                f"--storage.path={DATA_DIR}",
                f"--data.retention={self.data_retention_hours}h",
                f"--web.listen-address=:{ALERTMANAGER_PORT}",
                *self._cluster_args(),
            ],
            env=[env_from_field(POD_IP_ENV, "status.podIP")] if self.clustered else (),
            volume_mounts=[
                mount("config", CONFIG_DIR, read_only=True),
                mount("data", DATA_DIR),
                *(
                    mount(_secret_volume_name(secret), f"{SECRETS_DIR}/{secret}", read_only=True)
                    for secret in secrets
                ),
            ],
            readiness=http_probe("/-/ready", self.web.port_name),
            liveness=http_probe("/-/healthy", self.web.port_name, period_seconds=30, failure_threshold=5),
        )
        template = pod_template(
            self,
            containers=[alertmanager],
            security_context=pod_security_context(
                user=ALERTMANAGER_UID, group=ALERTMANAGER_UID, fs_group=ALERTMANAGER_UID
            ),
            volumes=[
                config_map_volume("config", CONFIG_MAP_NAME),
                *(
                    secret_volume(_secret_volume_name(secret), secret, {key: key for key in keys})
                    for secret, keys in secrets.items()
                ),
            ],
            annotations={CONFIG_CHECKSUM_ANNOTATION: checksum},
            affinity=anti_affinity(self) if self.clustered else None,
            topology_spread_constraints=zone_spread(self) if self.clustered else (),
        )
        self.stateful_set = stateful_set(
            self,
            template=template,
            claims=[storage_claim(self, "data", self.storage_gib)],
            # per-pod DNS names (the peers and alert senders use them) need a headless governing Service
            service_name=PEERS_SERVICE_NAME if self.clustered else self.name,
            replicas=self.replicas,
            # peers do not wait for each other: any of them can start first and join the others later
            pod_management_policy="Parallel" if self.clustered else "OrderedReady",
        )
