"""Loki: the stack's log store, monolithic Loki (``-target=all``) with a local ruler.

Objects (all called ``loki`` unless noted): ServiceAccount; Service (``http`` 3100, the only port other
components may use); ConfigMap ``loki-config`` (:mod:`.config`); ConfigMap ``loki-rules`` (rule files added
with :meth:`Loki.add_rules`, mounted as tenant ``fake``'s rule directory); StatefulSet with PVC ``data`` at
``/var/loki`` (WAL, TSDB index cache, compactor and ruler working directories, and the chunks themselves with
filesystem storage).

Storage (``storage``): ``filesystem`` (default: chunks on the PVC of one pod) or an object store (``s3``
including S3-compatible stores, ``gcs``, ``azure``; :mod:`vaultaio_constructs.objectstore`), reached through
one egress NetworkPolicy to ``egress_cidrs``. Credentials are environment variables from Secret references or
workload identity on the ServiceAccount; nothing secret is in the config.

Replicas (``replicas`` > 1, object storage only): every pod runs the whole of Loki, the pods share their
rings over memberlist (headless Service ``loki-peers``: ``memberlist`` 7946 and ``grpc`` 9095, published
before readiness so peers find each other at start) and each write is replicated to
``min(replicas, 3)`` ingesters. Loki pods reach each other on those two ports only (a NetworkPolicy edge of
Loki to itself); the StatefulSet keeps its pods on different nodes (``anti_affinity``) and spread over
zones, a PodDisruptionBudget allows one eviction at a time, and its immutable fields do not depend on
``replicas``, so changing it scales an existing StatefulSet in place.

Why monolithic replicas and not the simple scalable (read/write/backend) split: Loki 3.7's deployment-modes
page (``docs/sources/get-started/deployment-modes.md``) deprecates SSD ("will be removed with the Loki 4.0
release ... plan to migrate from SSD to microservices or HA monolithic deployment") and names the way to
scale monolithic mode: "a shared object store" and the ``ring`` section "to share state between all
instances"; the monolithic Helm guide (``setup/install/helm/install-monolithic``) runs replicas the same way
and recommends three for high availability. A split would also need the reverse proxy that SSD requires in
front of the read and write paths. Replicas here keep one Service and one config, and survive what the ring
survives: with 3 or more replicas one pod down loses neither writes nor queries (quorum 2 of 3); with 2
replicas (replication factor 2) queries survive one pod down but writes wait for it (a quorum of 2 of 2;
Alloy retries), so use 3 for HA. Scaling *down* must flush the leaving ingesters first
(``/ingester/shutdown?flush=true``, see ``docs/SCALING.md``).

No authentication (``auth_enabled: false``, single tenant ``fake``): the NetworkPolicies admit only Alloy
(push), Grafana (queries) and Prometheus (``/metrics``) to 3100, and each of them can use the whole API
there, so the log deletion API is off (``deletion_mode: disabled``): the audit trail leaves Loki only through
retention.

Pod Security ``restricted`` without exception: the image's ``loki`` user (10001), read-only root
filesystem (``/tmp`` is an emptyDir), no capability, no ServiceAccount token (workload identity webhooks
project their own token).

``loki.enabled: false`` leaves it out; ``loki.external`` names an existing Loki (:class:`ExternalLoki`)
that Alloy pushes to and Grafana queries instead, in its ``tenant_id``, with its ``basic_auth`` and trusting
its ``ca`` (both Secret references, mounted read-only by each consumer in its own namespace: Grafana's is
the stack's namespace, Alloy's the node namespace, so the Secrets must exist in both). The audit-log alert
rule runs only in the stack's own Loki's ruler: rules cannot be loaded into a Loki the stack does not run.
"""

from __future__ import annotations

from typing import Final, Protocol

import yaml
from constructs import Construct

from vaultaio_constructs.alertmanager.construct import AlertmanagerApi
from vaultaio_constructs.common import (
    ExternalBasicAuth,
    SecretKeyRef,
)
from vaultaio_constructs.component import Component
from vaultaio_constructs.loki.config import (
    LOKI_ARGS,
    LOKI_CONFIG_DIR,
    LOKI_CONFIG_FILE,
    LOKI_DATA_DIR,
    LOKI_EXPAND_ENV_ARG,
    LOKI_GRPC_PORT,
    LOKI_HTTP_PORT,
    LOKI_MEMBERLIST_PORT,
    LOKI_PUSH_PATH,
    LOKI_READY_PATH,
    LOKI_TENANT_RULES_DIR,
    LokiConfig,
    LokiLimits,
    needs_expand_env,
    render_loki_config,
    wal_replay_memory_ceiling_mib,
)
from vaultaio_constructs.loki.props import (
    LokiExternalProps,
    LokiFilesystemStorage,
    LokiProps,
)
from vaultaio_constructs.objectstore import ObjectStorePlan
from vaultaio_constructs.objectstore_pod import add_pod_labels, storage_env, storage_volumes
from vaultaio_constructs.placement import Area, refuse_disabled
from vaultaio_constructs.replication import RingPeers, spread
from vaultaio_constructs.scrape import ScrapeTarget
from vaultaio_constructs.wiring import Endpoint, ExternalService, Target
from vaultaio_constructs.workload import (
    CONFIG_CHECKSUM_ANNOTATION,
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

#: The ``loki`` user and group of the ``grafana/loki`` image (``cmd/loki/Dockerfile``: ``USER 10001``).
LOKI_UID: Final = 10001
CONTAINER_NAME: Final = "loki"
CONFIG_MAP_NAME: Final = "loki-config"
RULES_CONFIG_MAP_NAME: Final = "loki-rules"
#: Headless Service through which replicas find each other (memberlist seed) and talk gRPC.
PEERS_SERVICE_NAME: Final = "loki-peers"


class LokiApi(Protocol):
    """What log shippers and Grafana need: the stack's :class:`Loki` or an :class:`ExternalLoki`."""

    @property
    def push_endpoint(self) -> Target: ...

    @property
    def query_endpoint(self) -> Target: ...

    #: Tenant (``X-Scope-OrgID``) to push to and query, if the Loki needs one.
    @property
    def tenant_id(self) -> str | None: ...

    #: HTTP basic authentication (the password as a Secret key), if the Loki needs it.
    @property
    def basic_auth(self) -> ExternalBasicAuth | None: ...

    #: Secret key of the CA bundle that verifies the Loki's https certificate; ``None``: system CAs.
    @property
    def ca(self) -> SecretKeyRef | None: ...


class ExternalLoki:
    """An existing Loki (``loki.external``)."""

    def __init__(self, props: LokiExternalProps) -> None:
        """The Loki that ``props`` (``loki.external`` in the settings) describes: pass it where a
        consumer takes a ``LokiApi`` (``connect()`` then records egress to exactly its pods or
        networks)."""
        self._service = ExternalService.from_props("loki", props)
        self.tenant_id = props.tenant_id
        self.basic_auth = props.basic_auth
        self.ca = props.ca

    @property
    def push_endpoint(self) -> ExternalService:
        return self._service.with_path(LOKI_PUSH_PATH)

    @property
    def query_endpoint(self) -> ExternalService:
        return self._service


class Loki(Component):
    """Loki (logs): single binary, filesystem storage on a PVC, compactor retention, local ruler."""

    area = Area.LOGGING

    def __init__(self, scope: Construct, id: str, props: LokiProps | None = None) -> None:
        """Create Loki (StatefulSet, config, log-based alert rules) in ``scope`` (a
        :class:`~vaultaio_constructs.component.StackChart`, or a construct inside one) from ``props``
        (default: every setting at its default, see ``docs/SETTINGS.md``); ``id`` is the construct id. Add
        rule files with :meth:`add_rules`; send alerts with :meth:`use_alertmanager`."""
        props = props or LokiProps()
        refuse_disabled("loki", props.enabled)
        super().__init__(
            scope,
            id,
            name="loki",
            role="logs",
            workload=props,
        )
        self.retention_days = props.retention_days
        self.log_level = props.log_level
        self.deletion_mode = props.deletion_mode
        self.resources = self.resolve_resources(props.resources)
        self.storage_gib = self.resolve_storage_gib(props.storage_gib)
        self.limits = LokiLimits(
            ingestion_rate_mb=props.ingestion_rate_mb,
            ingestion_burst_size_mb=props.ingestion_burst_size_mb,
            max_global_streams=props.max_global_streams,
            reject_old_samples_max_age_hours=props.reject_old_samples_max_age_hours,
        )
        self.replicas = props.replicas
        self.anti_affinity = props.anti_affinity
        #: The object store, or ``None`` for the filesystem PVC.
        self.storage = None if isinstance(props.storage, LokiFilesystemStorage) else props.storage
        self.storage_plan: ObjectStorePlan | None = self.storage.plan() if self.storage else None
        self._alertmanager_url: str | None = None
        self._memberlist_join: str | None = None
        self._rules: dict[str, str] = {}

        #: HTTP API: push, query, ``/ready`` and ``/metrics``.
        self.http = self.endpoint(port_name="http", port=LOKI_HTTP_PORT)
        #: Per-pod HTTP, memberlist and gRPC through the headless ``loki-peers`` (replicas only): Prometheus
        #: scrapes every pod rather than whichever one the Service picks.
        self.peers = RingPeers.of(
            self,
            service=PEERS_SERVICE_NAME,
            http_port=LOKI_HTTP_PORT,
            memberlist_port=LOKI_MEMBERLIST_PORT,
            grpc_port=LOKI_GRPC_PORT,
        )
        plan = self.storage_plan
        service_account(self, annotations=dict(plan.service_account_annotations) if plan else None)
        service(self, [self.http])
        if self.replicas > 1:
            self._memberlist_join, _ = self.peers.wire(
                self,
                program="Loki",
                grpc_reason="distributor to ingesters, queriers to ingesters and ruler sharding",
            )
        if plan is not None:
            for destination in plan.endpoints:
                self.connect_external(destination, reason=f"chunks and index in {plan.type} object storage")

    # -- public API --------------------------------------------------------------------------------------
    @property
    def push_endpoint(self) -> Endpoint:
        """Where agents push logs (``/loki/api/v1/push``)."""
        return self.http.with_path(LOKI_PUSH_PATH)

    @property
    def query_endpoint(self) -> Endpoint:
        """Where Grafana queries logs."""
        return self.http

    @property
    def metrics_target(self) -> ScrapeTarget:
        """Every pod: through ``loki-peers`` with replicas, else the Service."""
        return ScrapeTarget(job="loki", endpoint=self.peers.http if self.replicas > 1 else self.http)

    #: The stack's own Loki runs single-tenant (``auth_enabled: false``), without authentication or TLS.
    tenant_id: str | None = None
    basic_auth: ExternalBasicAuth | None = None
    ca: SecretKeyRef | None = None

    def use_alertmanager(self, alertmanager: AlertmanagerApi) -> None:
        """The ruler sends log-based alerts to ``alertmanager``: every replica of a cluster, each its own
        ``alertmanager_url`` entry (the ruler treats each URL as a group and sends every alert to each)."""
        urls = [
            self.connect(endpoint, reason="send log-based alerts from the ruler").url
            for endpoint in alertmanager.alert_endpoints
        ]
        self._alertmanager_url = ",".join(urls)

    def add_rules(self, file_name: str, content: str) -> None:
        """Add a rule file (Prometheus rule-group YAML with LogQL expressions) for the ruler.

        Refuses a second file with the same name and a file that is not a ``groups:`` document.
        """
        if not file_name.endswith((".yaml", ".yml")) or "/" in file_name:
            raise ValueError(f"rule file name must be a plain *.yaml or *.yml name, got {file_name!r}")
        if file_name in self._rules:
            raise ValueError(f"loki already has a rule file named {file_name!r}: choose another name")
        try:
            parsed = yaml.safe_load(content)
        except yaml.YAMLError as err:
            raise ValueError(f"rule file {file_name!r} is not valid YAML: {err}") from None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("groups"), list):
            raise ValueError(f"rule file {file_name!r} must be a mapping with a 'groups' list")
        self._rules[file_name] = content

    @property
    def config(self) -> LokiConfig:
        """The configuration Loki runs with (final once the stack is finished)."""
        return LokiConfig(
            alertmanager_url=self._alertmanager_url,
            retention_days=self.retention_days,
            limits=self.limits,
            log_level=self.log_level,
            storage=self.storage,
            replicas=self.replicas,
            memberlist_join=self._memberlist_join,
            wal_replay_memory_ceiling_mib=wal_replay_memory_ceiling_mib(self.resources.memory_limit_mib),
            deletion_mode=self.deletion_mode,
        )

    def finalize(self) -> None:
        """Render the configuration and rules (after wiring and additions) and create the StatefulSet."""
        config = self.config
        config_text = render_loki_config(config)
        plan = self.storage_plan
        self.config_map = config_map(self, CONFIG_MAP_NAME, {LOKI_CONFIG_FILE: config_text})
        self.rules_config_map = config_map(self, RULES_CONFIG_MAP_NAME, self._rules)
        checksum = config_checksum(config_text, *(f"{k}\n{v}" for k, v in sorted(self._rules.items())))
        loki = container(
            name=CONTAINER_NAME,
            image=self.image,
            resources=self.resources,
            ports=[self.http, self.peers.memberlist, self.peers.grpc] if self.replicas > 1 else [self.http],
            args=(*LOKI_ARGS, LOKI_EXPAND_ENV_ARG) if needs_expand_env(config) else LOKI_ARGS,
            env=storage_env(plan),
            volume_mounts=[
                mount("config", LOKI_CONFIG_DIR, read_only=True),
                mount("rules", LOKI_TENANT_RULES_DIR, read_only=True),
                mount("data", LOKI_DATA_DIR),
                mount("tmp", "/tmp"),
                *storage_volumes(plan)[1],
            ],
            # Loki answers /ready only once its ring and modules are up; give the WAL replay time.
            readiness=http_probe(
                LOKI_READY_PATH, self.http.port_name, period_seconds=10, failure_threshold=6
            ),
            # /ready waits for the ring and the WAL replay; the process is alive while it accepts connections
            liveness=tcp_probe(self.http.port_name),
        )
        affinity, spread_constraints = spread(self, self.anti_affinity) if self.replicas > 1 else (None, [])
        template = pod_template(
            self,
            containers=[loki],
            security_context=pod_security_context(user=LOKI_UID, group=LOKI_UID, fs_group=LOKI_UID),
            volumes=[
                config_map_volume("config", CONFIG_MAP_NAME),
                config_map_volume("rules", RULES_CONFIG_MAP_NAME),
                empty_dir("tmp", size_mib=256),
                *storage_volumes(plan)[0],
            ],
            annotations={CONFIG_CHECKSUM_ANNOTATION: checksum},
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
