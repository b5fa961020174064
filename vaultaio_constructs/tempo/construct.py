"""Tempo: the stack's trace store, monolithic Tempo 2.10 with its blocks on a PVC or in object storage.

Objects (all called ``tempo`` unless noted): ServiceAccount; Service (``http`` 3200 for queries,
``otlp-grpc`` 4317 and ``otlp-http`` 4318 for spans); ConfigMap ``tempo-config`` (:mod:`.config`);
StatefulSet with PVC ``data`` at ``/var/tempo`` (WAL, metrics-generator WAL, and the blocks themselves with
local storage).

Storage (``storage``): ``local`` (default, the PVC of one pod) or an object store (``s3`` including
S3-compatible stores, ``gcs``, ``azure``; :mod:`vaultaio_constructs.objectstore`), reached through one egress
NetworkPolicy to ``egress_cidrs``; credentials from Secret references or workload identity.

Replicas (``replicas`` > 1, object storage only) run ``-target=scalable-single-binary`` (see
:mod:`.config` for why ``all`` cannot): the pods share the ingester, metrics-generator and compactor rings
over memberlist through the headless Service ``tempo-peers`` (``http`` for per-pod scrapes, ``memberlist``
7946, ``grpc`` 9095), each span goes to ``min(replicas, 3)`` ingesters, and queriers connect to every
query-frontend found behind ``tempo-peers``. Tempo pods reach each other on 7946 and 9095 only; pods keep to
different nodes (``anti_affinity``), spread over zones, and a PodDisruptionBudget allows one eviction at a
time. The StatefulSet's immutable fields do not depend on ``replicas``, so changing it scales in place.
Scaling down must flush the leaving ingesters first (``/shutdown``, see ``docs/SCALING.md``).

Where traces come from: Vault 2.x open source does not export OpenTelemetry traces of its requests, so
Tempo receives spans from OTLP clients in the cluster, sent to Alloy (``alloy:4317``/``4318``), which
batches them to Tempo. With :meth:`Tempo.remote_write_to` the metrics-generator also turns spans into
service-graph and span-metric series in Prometheus; an external Prometheus' password and CA
(``prometheus.external``) are Secret volumes mounted read-only under
:data:`~vaultaio_constructs.tempo.config.PROMETHEUS_SECRETS_DIR` (the Secrets must exist in Tempo's
namespace).

Pod Security ``restricted`` without exception: the image's ``tempo`` user (10001), read-only root
filesystem, no capability, no ServiceAccount token.

``tempo.enabled: false`` leaves it out; ``tempo.external`` names an existing Tempo (:class:`ExternalTempo`)
that Alloy forwards spans to and Grafana queries instead.
"""

from __future__ import annotations

import dataclasses
from typing import Final, Protocol

from constructs import Construct

from vaultaio_constructs.common import ExternalBasicAuth, SecretKeyRef
from vaultaio_constructs.component import Component
from vaultaio_constructs.objectstore import ObjectStorePlan
from vaultaio_constructs.objectstore_pod import add_pod_labels, storage_env, storage_volumes
from vaultaio_constructs.placement import Area, refuse_disabled
from vaultaio_constructs.prometheus.construct import PrometheusApi
from vaultaio_constructs.replication import RingPeers, spread
from vaultaio_constructs.scrape import ScrapeTarget
from vaultaio_constructs.tempo.config import (
    PROMETHEUS_SECRETS_DIR,
    TEMPO_ARGS,
    TEMPO_CONFIG_DIR,
    TEMPO_CONFIG_FILE,
    TEMPO_DATA_DIR,
    TEMPO_GRPC_PORT,
    TEMPO_HTTP_PORT,
    TEMPO_MEMBERLIST_PORT,
    TEMPO_OTLP_GRPC_PORT,
    TEMPO_OTLP_HTTP_PORT,
    TEMPO_READY_PATH,
    TEMPO_UID,
    TempoConfig,
    render_tempo_config,
)
from vaultaio_constructs.tempo.props import TempoExternalProps, TempoLocalStorage, TempoProps
from vaultaio_constructs.wiring import Endpoint, ExternalService, Scheme, Target
from vaultaio_constructs.workload import (
    CONFIG_CHECKSUM_ANNOTATION,
    ClientFiles,
    client_files,
    config_checksum,
    config_map,
    config_map_volume,
    container,
    empty_dir,
    http_probe,
    mount,
    pod_security_context,
    pod_template,
    service,
    service_account,
    stateful_set,
    storage_claim,
    tcp_probe,
)

CONTAINER_NAME: Final = "tempo"
CONFIG_MAP_NAME: Final = "tempo-config"
#: Headless Service through which replicas find each other (memberlist seed, query-frontends) and talk gRPC.
PEERS_SERVICE_NAME: Final = "tempo-peers"


class TempoApi(Protocol):
    """What span senders and Grafana need: the stack's :class:`Tempo` or an :class:`ExternalTempo`."""

    @property
    def otlp_grpc(self) -> Target: ...

    @property
    def query_endpoint(self) -> Target: ...

    #: Whether it writes service-graph metrics to the Prometheus Grafana uses (its service map).
    @property
    def writes_metrics(self) -> bool: ...


class ExternalTempo:
    """An existing Tempo (``tempo.external``)."""

    #: Unknown for a Tempo the stack does not configure: Grafana's service map stays off unless
    #: ``grafana.tempo_service_graph`` turns it on.
    writes_metrics = False

    def __init__(self, props: TempoExternalProps) -> None:
        """The Tempo that ``props`` (``tempo.external`` in the settings) describes: pass it where a
        consumer takes a ``TempoApi`` (``connect()`` then records egress to exactly its pods or
        networks)."""
        self._query = ExternalService.from_props("tempo", props)
        if props.otlp_grpc is not None:
            self._otlp = ExternalService.from_props("tempo", props.otlp_grpc)
        else:
            self._otlp = dataclasses.replace(
                self._query,
                url=f"http://{self._query.host}:{TEMPO_OTLP_GRPC_PORT}",
                peer_ports=(TEMPO_OTLP_GRPC_PORT,),
            )

    @property
    def query_endpoint(self) -> ExternalService:
        return self._query

    @property
    def otlp_grpc(self) -> ExternalService:
        return self._otlp


class Tempo(Component):
    """Tempo (traces): monolithic, local blocks on a PVC, OTLP receivers, compactor retention."""

    area = Area.TRACING

    def __init__(self, scope: Construct, id: str, props: TempoProps | None = None) -> None:
        """Create Tempo (StatefulSet, config) in ``scope`` (a
        :class:`~vaultaio_constructs.component.StackChart`, or a construct inside one) from ``props``
        (default: every setting at its default, see ``docs/SETTINGS.md``); ``id`` is the construct id.
        Receive traces on :attr:`otlp_grpc`; :meth:`remote_write_to` turns its metrics-generator on."""
        props = props or TempoProps()
        refuse_disabled("tempo", props.enabled)
        super().__init__(
            scope,
            id,
            name="tempo",
            role="traces",
            workload=props,
        )
        self.retention_hours = props.retention_hours
        self.metrics_generator = props.metrics_generator
        self.log_level = props.log_level
        self.resources = self.resolve_resources(props.resources)
        self.storage_gib = self.resolve_storage_gib(props.storage_gib)
        self.replicas = props.replicas
        self.anti_affinity = props.anti_affinity
        #: The object store, or ``None`` for the local PVC.
        self.storage = None if isinstance(props.storage, TempoLocalStorage) else props.storage
        self.storage_plan: ObjectStorePlan | None = self.storage.plan() if self.storage else None
        self._remote_write_urls: tuple[str, ...] = ()
        self._remote_write_basic_auth: ExternalBasicAuth | None = None
        self._remote_write_ca: SecretKeyRef | None = None
        self._memberlist_join: str | None = None
        self._frontend_address: str | None = None

        #: Query API, ``/ready`` and ``/metrics``.
        self.http = self.endpoint(port_name="http", port=TEMPO_HTTP_PORT)
        #: OTLP receivers (Alloy forwards over gRPC).
        self.otlp_grpc = self.endpoint(port_name="otlp-grpc", port=TEMPO_OTLP_GRPC_PORT, scheme=Scheme.GRPC)
        self.otlp_http = self.endpoint(port_name="otlp-http", port=TEMPO_OTLP_HTTP_PORT)
        #: Per-pod HTTP (scrapes), memberlist and gRPC through the headless ``tempo-peers`` (replicas only).
        self.peers = RingPeers.of(
            self,
            service=PEERS_SERVICE_NAME,
            http_port=TEMPO_HTTP_PORT,
            memberlist_port=TEMPO_MEMBERLIST_PORT,
            grpc_port=TEMPO_GRPC_PORT,
        )
        plan = self.storage_plan
        service_account(self, annotations=dict(plan.service_account_annotations) if plan else None)
        service(self, [self.http, self.otlp_grpc, self.otlp_http])
        if self.replicas > 1:
            self._memberlist_join, self._frontend_address = self.peers.wire(
                self,
                program="Tempo",
                grpc_reason="distributor to ingesters and metrics-generators, queriers to ingesters and "
                "query-frontends",
            )
        if plan is not None:
            for destination in plan.endpoints:
                self.connect_external(destination, reason=f"trace blocks in {plan.type} object storage")

    # -- public API --------------------------------------------------------------------------------------
    @property
    def query_endpoint(self) -> Endpoint:
        """Where Grafana queries traces."""
        return self.http

    @property
    def metrics_target(self) -> ScrapeTarget:
        """Every pod: through ``tempo-peers`` with replicas, else the Service."""
        return ScrapeTarget(job="tempo", endpoint=self.peers.http if self.replicas > 1 else self.http)

    @property
    def writes_metrics(self) -> bool:
        """Whether the metrics-generator is on and wired to a Prometheus (service graph available)."""
        return bool(self._remote_write_urls)

    def remote_write_to(self, prometheus: PrometheusApi) -> None:
        """Write the metrics-generator's series to ``prometheus`` (needs its remote-write receiver), to each
        replica of an HA pair.

        Does nothing when the ``metrics_generator`` setting is off.
        """
        if not self.metrics_generator:
            return
        self._remote_write_urls = tuple(
            self.connect(endpoint, reason="remote-write service-graph and span metrics").url
            for endpoint in prometheus.remote_write_endpoints
        )
        self._remote_write_basic_auth = prometheus.basic_auth
        self._remote_write_ca = prometheus.ca

    @property
    def prometheus_client(self) -> ClientFiles:
        """The external Prometheus' credentials (password, CA) as files in Tempo's namespace, read-only (group
        readable through the pod's ``fsGroup``); the Secrets must exist there."""
        return client_files(
            "prometheus-secret", PROMETHEUS_SECRETS_DIR, self._remote_write_basic_auth, self._remote_write_ca
        )

    @property
    def config(self) -> TempoConfig:
        """The configuration Tempo runs with (final once the stack is finished)."""
        client = self.prometheus_client
        return TempoConfig(
            retention_hours=self.retention_hours,
            metrics_remote_write_urls=self._remote_write_urls,
            metrics_remote_write_username=client.username,
            metrics_remote_write_password_file=client.password_file,
            metrics_remote_write_ca_file=client.ca_file,
            log_level=self.log_level,
            storage=self.storage,
            replicas=self.replicas,
            memberlist_join=self._memberlist_join,
            frontend_address=self._frontend_address,
        )

    def finalize(self) -> None:
        """Render the configuration (after wiring) and create the StatefulSet."""
        config_text = render_tempo_config(self.config)
        plan = self.storage_plan
        secrets = self.prometheus_client.files
        self.config_map = config_map(self, CONFIG_MAP_NAME, {TEMPO_CONFIG_FILE: config_text})
        peer_ports = [self.peers.memberlist, self.peers.grpc] if self.replicas > 1 else []
        tempo = container(
            name=CONTAINER_NAME,
            image=self.image,
            resources=self.resources,
            ports=[self.http, self.otlp_grpc, self.otlp_http, *peer_ports],
            args=TEMPO_ARGS,
            env=storage_env(plan),
            volume_mounts=[
                mount("config", TEMPO_CONFIG_DIR, read_only=True),
                mount("data", TEMPO_DATA_DIR),
                mount("tmp", "/tmp"),
                *storage_volumes(plan)[1],
                *secrets.mounts,
            ],
            readiness=http_probe(
                TEMPO_READY_PATH, self.http.port_name, period_seconds=10, failure_threshold=6
            ),
            # /ready waits for the ring and the WAL replay; the process is alive while it accepts connections
            liveness=tcp_probe(self.http.port_name),
        )
        affinity, spread_constraints = spread(self, self.anti_affinity) if self.replicas > 1 else (None, [])
        template = pod_template(
            self,
            containers=[tempo],
            security_context=pod_security_context(user=TEMPO_UID, group=TEMPO_UID, fs_group=TEMPO_UID),
            volumes=[
                config_map_volume("config", CONFIG_MAP_NAME),
                empty_dir("tmp", size_mib=128),
                *storage_volumes(plan)[0],
                *secrets.volumes,
            ],
            annotations={CONFIG_CHECKSUM_ANNOTATION: config_checksum(config_text)},
            affinity=affinity,
            topology_spread_constraints=spread_constraints,
        )
        self.stateful_set = stateful_set(
            self,
            template=template,
            claims=[storage_claim(self, "data", self.storage_gib)],
            # serviceName and podManagementPolicy are immutable: they stay the same for every replica count so
            # that changing 'replicas' scales the StatefulSet in place (new pods join the ring one by one)
            service_name=self.name,
            replicas=self.replicas,
        )
        add_pod_labels(self.stateful_set, plan)
