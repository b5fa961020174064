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

import re
from typing import Annotated, Final, Literal, Protocol

import yaml
from constructs import Construct
from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.alertmanager.construct import AlertmanagerApi
from vaultaio_constructs.common import (
    PROPS_CONFIG,
    ExternalServiceProps,
    SecretKeyRef,
    SecretRef,
    StatefulWorkloadProps,
    check_replacement,
    has_control_characters,
)
from vaultaio_constructs.component import Area, Component, refuse_disabled
from vaultaio_constructs.fielddocs import document_fields
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
    LokiDeletionMode,
    LokiLimits,
    LokiLogLevel,
    needs_expand_env,
    render_loki_config,
    wal_replay_memory_ceiling_mib,
)
from vaultaio_constructs.objectstore import AzureStorage, GcsStorage, ObjectStorePlan, S3Storage
from vaultaio_constructs.objectstore_pod import add_pod_labels, storage_env, storage_volumes
from vaultaio_constructs.replication import AntiAffinity, RingPeers, spread
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


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class LokiFilesystemStorage:
    """Chunks and index on the pod's PVC (default): one replica only."""

    type: Literal["filesystem"] = Field(
        default="filesystem", description="Selects this type: ``filesystem``."
    )


#: Where Loki keeps chunks and index, by ``type``: ``filesystem`` (default), ``s3``, ``gcs``, ``azure``.
LokiStorage = Annotated[
    LokiFilesystemStorage | S3Storage | GcsStorage | AzureStorage, Field(discriminator="type")
]


#: Characters Loki accepts in a tenant ID (``pkg/tenant``), at most 150 of them.
_TENANT_ID = re.compile(r"^[A-Za-z0-9!\-_.*'()]{1,150}$")


def check_tenant_id(value: str) -> str:
    if not _TENANT_ID.fullmatch(value) or value in (".", ".."):
        raise ValueError(
            f"{value!r} is not a Loki tenant ID: 1-150 letters, digits and !-_.*'() (not '.' or '..')"
        )
    return value


#: Where the Secrets of ``loki.external`` must exist: Secrets are namespaced, and each consumer mounts them in
#: its own namespace.
EXTERNAL_SECRETS_NAMESPACES: Final = (
    "in every namespace whose pods use it: the stack's namespace (Grafana) and the node namespace (Alloy, "
    "``<namespace>-node`` unless ``node_namespace`` says otherwise), under the same name and key"
)


def check_basic_auth_username(value: str) -> str:
    """A user name HTTP basic authentication can carry: non-empty, at most 256 characters, no ``:`` (it
    separates the user from the password, RFC 7617) and no control character (it would split a config
    line or the header)."""
    if not value or len(value) > 256 or ":" in value or has_control_characters(value):
        raise ValueError(
            "'basic_auth.username' must be 1-256 characters without ':' (RFC 7617 separates user and "
            "password with it) or control characters; the password goes into 'basic_auth.password' as a "
            "Secret reference"
        )
    return value


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class LokiBasicAuth:
    """HTTP basic authentication to an external Loki (a gateway's ``.htpasswd``, a reverse proxy): the user
    name is written into Alloy's and Grafana's configuration, the password is read from a Secret."""

    username: Annotated[str, AfterValidator(check_basic_auth_username)] = Field(
        description="User name (not a secret: it is written into Alloy's config and Grafana's data source).",
    )
    password: SecretRef = Field(
        description=(
            "Secret key holding the password (never the value), "
            + EXTERNAL_SECRETS_NAMESPACES
            + ". Alloy reads the file on every push; Grafana reads it when it starts."
        ),
    )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class LokiExternalProps(ExternalServiceProps):
    """An existing Loki used instead of the stack's own: ``url`` is its base (a gateway that serves both
    push and query, such as the Loki chart's ``loki-gateway``). Alloy (push) and Grafana (queries) use the
    same tenant, credentials and CA; the audit-log alert rule stays with the stack's own Loki's ruler."""

    tenant_id: Annotated[str, AfterValidator(check_tenant_id)] | None = Field(
        default=None,
        description=(
            "Tenant the logs are pushed to and queried from (``X-Scope-OrgID``), for a Loki with "
            "``auth_enabled: true`` (the Loki Helm chart's default). ``None``: no tenant header."
        ),
    )
    basic_auth: LokiBasicAuth | None = Field(
        default=None,
        description=(
            "HTTP basic authentication (``username`` and a ``password`` Secret reference) for a Loki behind "
            "an authenticating gateway; with an ``http://`` URL the password crosses the network in clear "
            "text (prefer ``https://``). ``None``: no credentials are sent."
        ),
    )
    ca: SecretRef | None = Field(
        default=None,
        description=(
            "Secret key holding the PEM CA bundle that verifies an ``https`` ``url`` (a private CA), "
            + EXTERNAL_SECRETS_NAMESPACES
            + ". Needs an ``https://`` URL. ``None``: the consumers' system CAs."
        ),
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.ca is not None and not self.url.startswith("https://"):
            raise ValueError(
                f"'ca' verifies the certificate of an https:// Loki, but 'url' is {self.url!r}: use the "
                "https:// URL of the Loki, or remove 'ca'"
            )

    def secrets(self) -> tuple[SecretKeyRef, ...]:
        """Every Secret key the consumers read as a file."""
        return tuple(
            ref for ref in (self.basic_auth.password if self.basic_auth else None, self.ca) if ref is not None
        )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class LokiProps(StatefulWorkloadProps):
    """Settings of Loki. Defaults keep two weeks of logs on the profile's PVC size."""

    enabled: bool = Field(
        default=True,
        description=(
            "Run Loki in the stack. ``False``: Alloy pushes logs to ``external`` and Grafana queries it; "
            "without one, no logs are shipped and the log dashboards and the audit-log alert are left out."
        ),
    )
    external: LokiExternalProps | None = Field(
        default=None,
        description="An existing Loki used instead of the stack's own (only with ``enabled: false``).",
    )

    retention_days: Annotated[int, Field(ge=1)] = Field(
        default=14,
        description="Days of logs kept; the compactor deletes older chunks.",
    )
    ingestion_rate_mb: Annotated[float, Field(gt=0)] = Field(
        default=8.0,
        description="Sustained push rate per tenant in MB/s (``ingestion_rate_mb``).",
    )
    ingestion_burst_size_mb: Annotated[float, Field(gt=0)] = Field(
        default=16.0,
        description="Burst allowance in MB (``ingestion_burst_size_mb``); must be >= the rate.",
    )
    max_global_streams: Annotated[int, Field(ge=1)] = Field(
        default=5000,
        description="Active streams allowed (``max_global_streams_per_user``).",
    )
    reject_old_samples_max_age_hours: Annotated[int, Field(ge=1)] = Field(
        default=168,
        description="Entries older than this many hours are refused; must fit in the retention.",
    )
    log_level: LokiLogLevel = Field(default=LokiLogLevel.INFO, description="Loki's own log level.")
    deletion_mode: LokiDeletionMode = Field(
        default=LokiDeletionMode.DISABLED,
        description=(
            "The log deletion API (``limits_config.deletion_mode``): ``disabled`` (default) refuses it, so "
            "no pod that reaches Loki (it has no authentication) can erase Vault's audit trail; "
            "``filter-only`` hides the lines a delete request matches, ``filter-and-delete`` also removes "
            "them from storage (Loki's own default). Retention deletes old logs either way."
        ),
    )
    storage: LokiStorage = Field(
        default_factory=LokiFilesystemStorage,
        description=(
            "Chunk and index store: ``filesystem`` (the PVC) or an object store (``s3``, ``gcs``, "
            "``azure``), see :mod:`vaultaio_constructs.objectstore`."
        ),
    )
    replicas: Annotated[int, Field(ge=1, le=9)] = Field(
        default=1,
        description=(
            "Loki pods; more than one shares a memberlist ring, replicates each write to ``min(replicas, "
            "3)`` ingesters and needs object storage. 3 survives one pod down; 2 keeps queries but not "
            "writes."
        ),
    )
    anti_affinity: AntiAffinity = Field(
        default=AntiAffinity.REQUIRED,
        description=(
            "With replicas, how strictly pods are kept on different nodes (``required`` needs as many nodes)."
        ),
    )

    def __post_init__(self) -> None:
        check_replacement("Loki", self.enabled, self.external)
        if self.replicas > 1 and isinstance(self.storage, LokiFilesystemStorage):
            raise ValueError(
                f"'replicas' ({self.replicas}) needs object storage: set 'storage.type' to s3, gcs or azure "
                "(filesystem chunks live on one pod's volume, which no other replica can read)"
            )
        if self.ingestion_burst_size_mb < self.ingestion_rate_mb:
            raise ValueError(
                f"'ingestion_burst_size_mb' ({self.ingestion_burst_size_mb}) must be >= "
                f"'ingestion_rate_mb' ({self.ingestion_rate_mb})"
            )
        if self.reject_old_samples_max_age_hours > self.retention_days * 24:
            raise ValueError(
                f"'reject_old_samples_max_age_hours' ({self.reject_old_samples_max_age_hours}) must be <= "
                f"'retention_days' * 24 ({self.retention_days * 24}): older entries would be accepted and "
                "deleted at once"
            )


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
    def basic_auth(self) -> LokiBasicAuth | None: ...

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
    basic_auth: LokiBasicAuth | None = None
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
