"""The Vault construct: a hardened raft StatefulSet with TLS, telemetry, seals and optional HA, Ingress
and scheduled snapshots.

Objects (names are part of the contract with ``scripts/init-vault.sh`` and ``scripts/backup.sh``):

* StatefulSet ``vault`` (pods ``vault-0..n-1``, container ``vault``, ``podManagementPolicy: Parallel`` so
  sealed peers do not block each other from starting), one ``data`` PVC per pod at ``/vault/data``.
* Service ``vault`` (API, port ``https``/``http`` 8200) and headless ``vault-internal`` (8200 API, 8201
  cluster, 8202 metrics; ``publishNotReadyAddresses: true`` so raft peers and Prometheus reach sealed pods).
* Services ``vault-active`` and ``vault-standby`` (API only) select the pods service registration labels
  ``vault-active: "true"`` / ``"false"`` (the official chart's convention), so clients and the Ingress reach
  the active node without a forwarding hop. Unlike the chart they publish ready pods only: a sealed pod
  (labelled ``vault-active: "false"``) is never a standby target, and a crashed active pod whose label is
  stale drops out as soon as its readiness fails. The NetworkPolicies select pods, not Services, so these
  add no policy: whoever may reach Vault's API may reach it through any of the three Services.
* ConfigMaps ``vault-config`` (``config.json``, see :mod:`.config`) and ``vault-policies`` (``<name>.hcl``,
  see :mod:`.policies`), mounted read-only at ``/vault/config`` and ``/vault/policies``.
* ServiceAccount ``vault`` with a Role allowing exactly ``get``, ``update``, ``patch`` on its own pods, which
  is what ``service_registration "kubernetes"`` needs to maintain the ``vault-active``/``vault-sealed``
  labels; the token is mounted for that reason only.
* HA (3 or 5 replicas): ``retry_join`` for every peer, pod anti-affinity across nodes and a topology spread
  across zones (``ScheduleAnyway``: a preference, so a single-zone cluster still schedules every voter), a
  PodDisruptionBudget (``maxUnavailable: 1`` keeps quorum), NetworkPolicy edges between peers on 8200/8201.
* Optional Ingress ``vault`` and CronJob ``vault-backup`` (see :mod:`.props`).
* With ``tls.issuer``: a cert-manager Certificate that writes the TLS Secret, optionally with its own
  bootstrap CA chain (:mod:`.certificates`).

Probes: readiness ``/v1/sys/health?standbyok=true&perfstandbyok=true`` (active and standby ready; sealed 503,
uninitialised 501 and a standby cut off from the active node 474 not); liveness maps those to 204 so a
sealed pod is never restarted (a restart would only seal it again), it fails only when Vault stops answering.

Updates are ``OnDelete``: ``kubectl apply`` changes the template and restarts no pod;
``vault-aio upgrade-vault`` restarts the pods in Vault's documented order (standbys first, then the active
node after a step-down), waiting for each to be unsealed (by you with the Shamir seal:
``scripts/init-vault.sh`` unseals every sealed pod) and for autopilot to be healthy before the next one, and
stops at the first failed check.

Pod Security ``restricted``: uid 10100 (no host account) / gid 1000 (the image's ``vault`` group), seccomp
``RuntimeDefault``, all
capabilities dropped, read-only root filesystem; writable: ``/vault/data`` (PVC) and ``/tmp`` (emptyDir,
also ``HOME``). ``disable_mlock`` is set, so no ``IPC_LOCK`` (Vault >= 2.0.2 does not need it).

Audit: Vault 2.x open source cannot declare audit devices in its configuration; ``scripts/init-vault.sh``
runs ``vault audit enable -path=stdout file file_path=stdout format=json`` once, and Vault keeps it in raft.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import cdk8s
from cdk8s_plus_27 import k8s
from constructs import Construct

from vaultaio_constructs import kube
from vaultaio_constructs import labels as lbl
from vaultaio_constructs.common import SecretKeyRef
from vaultaio_constructs.component import Component
from vaultaio_constructs.placement import NAMESPACE_NAME_LABEL, Area
from vaultaio_constructs.scrape import ScrapeTarget
from vaultaio_constructs.vault.config import (
    ACTIVE_LABEL,
    ACTIVE_SERVICE_NAME,
    API_PORT,
    CLUSTER_PORT,
    CONFIG_DIR,
    CONFIG_FILE_NAME,
    CONTAINER_NAME,
    DATA_PATH,
    HEADLESS_SERVICE_NAME,
    HEALTH_READY_PATH,
    METRICS_PORT,
    POLICIES_DIR,
    STANDBY_SERVICE_NAME,
    TLS_CA_FILE,
    TLS_DIR,
    TMP_DIR,
    VaultServerConfig,
    server_command,
    server_env,
)
from vaultaio_constructs.vault.policies import Policy, default_policies, render_policies
from vaultaio_constructs.vault.props import (
    AntiAffinity,
    VaultBackupProps,
    VaultClientProps,
    VaultIngressProps,
    VaultProps,
    VaultTlsProps,
)
from vaultaio_constructs.vault.seals import EnvVar, SealPlan
from vaultaio_constructs.wiring import Scheme
from vaultaio_constructs.workload import (
    CONFIG_CHECKSUM_ANNOTATION,
    anti_affinity,
    config_checksum,
    config_map,
    config_map_volume,
    container,
    empty_dir,
    env_from_field,
    env_from_secret,
    gibibytes,
    http_probe,
    ingress,
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

__all__ = [
    "Vault",
    "VaultBackupProps",
    "VaultClientProps",
    "VaultIngressProps",
    "VaultProps",
    "VaultTlsProps",
]

#: UID of the Vault process: a high UID no host user has (the image's ``vault`` user is 100, which can be a
#: host account; the image needs neither: the command replaces its entrypoint, and every path Vault
#: writes is a volume). The group stays the image's ``vault`` group, which owns the data volume.
VAULT_UID = 10100
#: Earlier releases ran as 100 and raft creates owner-only (``0600``) files, so the volumes' group
#: permissions are re-applied at each start (``fsGroupChangePolicy: Always``) to keep those readable.
VAULT_GID = 1000
#: Liveness: 200 for active/standby, 204 for sealed, uninitialised or a standby that lost the active node's
#: heartbeat (474 since Vault 1.19; raft elects a new leader, a restart would not help): fails only when
#: Vault stops answering. A node removed from raft (530) still fails, as it needs an operator anyway.
HEALTH_LIVE_PATH = (
    "/v1/sys/health?standbyok=true&perfstandbyok=true&sealedcode=204&uninitcode=204&haunhealthycode=204"
)
#: The copy of Vault's CA certificate (key ``ca.crt``, nothing else) for pods in other namespaces.
CA_COPY_SECRET_NAME = "vault-tls-ca"
#: Name of the backup CronJob, its ServiceAccount, PVC and pod labels.
BACKUP_NAME = "vault-backup"
BACKUP_DIR = "/backup"
#: The line the backup job prints after a snapshot is saved and verified, and only then: the
#: ``VaultBackupMissing`` rule (Loki ruler) looks for it in the job's log.
BACKUP_SUCCESS_MARKER = "vault-backup: saved "
#: The backup job (POSIX sh, run with ``-e``). Before saving, so that a full volume cannot stop every later
#: run: remove ``*.snap.partial`` left by interrupted runs, prune to the newest $KEEP, then check that the
#: volume has room for a snapshot as large as the newest one plus 10 % and 1 MiB, pruning older snapshots
#: (never the newest) until it has. Then renew the token, save to a ``.partial`` name (an interrupted run
#: never leaves a truncated ``.snap``), checksum, prune to $KEEP and print :data:`BACKUP_SUCCESS_MARKER`.
#: Every failure prints ``vault-backup: error: ...`` and exits non-zero.
BACKUP_SCRIPT = """\
cd "$BACKUP_DIR"
say() { echo "vault-backup: $*"; }
fail() { echo "vault-backup: error: $*" >&2; exit 1; }
snapshots() { for f in vault-raft-*.snap; do if [ -e "$f" ]; then echo "$f"; fi; done; }
count() { snapshots | wc -l; }
drop_oldest() { f=$(snapshots | head -n 1); rm -f -- "$f" "$f.sha256"; say "pruned $f$1"; }
free_kib() { df -Pk . | awk 'NR == 2 { print $4 }'; }
for f in vault-raft-*.snap.partial; do
  if [ -e "$f" ]; then rm -f -- "$f"; say "removed $f (left by an interrupted run)"; fi
done
while [ "$(count)" -gt "$KEEP" ]; do drop_oldest ""; done
newest=$(snapshots | tail -n 1)
need=1024
if [ -n "$newest" ]; then need=$(( $(wc -c < "$newest") * 11 / 10240 + 1024 )); fi
while [ "$(free_kib)" -lt "$need" ] && [ "$(count)" -gt 1 ]; do drop_oldest " to make room"; done
free=$(free_kib)
if [ "$free" -lt "$need" ]; then
  fail "$free KiB free on the backup volume, a snapshot needs about $need KiB: raise vault.backup.storage_gib"
fi
if ! vault token renew >/dev/null 2>&1; then
  echo "vault-backup: warning: the backup token could not be renewed (use a periodic token)" >&2
fi
name="vault-raft-$(date -u +%Y%m%dT%H%M%SZ).snap"
if ! vault operator raft snapshot save "$name.partial"; then
  rm -f -- "$name.partial"
  fail "vault operator raft snapshot save failed"
fi
mv -- "$name.partial" "$name"
sha256sum "$name" > "$name.sha256"
sha256sum -c "$name.sha256" >/dev/null || fail "$name does not match its checksum"
while [ "$(count)" -gt "$KEEP" ]; do drop_oldest ""; done
say "saved $name ($(wc -c < "$name") bytes), keeping the newest $KEEP snapshots"
"""


def _k8s_env(var: EnvVar) -> k8s.EnvVar:
    if var.field_path is not None:
        return env_from_field(var.name, var.field_path)
    if var.secret is not None:
        return env_from_secret(var.name, var.secret.name, var.secret.key)
    return k8s.EnvVar(name=var.name, value=var.value)


@dataclass(frozen=True)
class _BackupPods:
    """The backup CronJob's pods as a wiring consumer (their own labels, never Vault's selector)."""

    name: str
    namespace: str
    labels: Mapping[str, str]

    @property
    def selector(self) -> Mapping[str, str]:
        return lbl.selector_labels(self.name, self.labels[lbl.INSTANCE])


class Vault(Component):
    """HashiCorp Vault with integrated raft storage (secrets-store)."""

    area = Area.VAULT

    def __init__(self, scope: Construct, id: str, props: VaultProps | None = None) -> None:
        """Create Vault (StatefulSet, Services, config, policies, optional Ingress and backup CronJob) in
        ``scope`` (a :class:`~vaultaio_constructs.component.StackChart`, or a construct inside one) from
        ``props`` (default: every setting at its default, see ``docs/SETTINGS.md``); ``id`` is the
        construct id. Connect consumers to :attr:`api` (or ``active_api``), add ACL policies with
        :meth:`add_policy`."""
        props = props or VaultProps()
        super().__init__(
            scope,
            id,
            name="vault",
            role="secrets-store",
            workload=props,
        )
        # -- resolve defaults once ------------------------------------------------------------------
        self.replicas = props.replicas
        self.tls_enabled = props.tls.enabled
        self.tls_secret_name = props.tls.secret_name
        self.resources = self.resolve_resources(props.resources)
        self.storage_gib = self.resolve_storage_gib(props.storage_gib)
        self.server_config = VaultServerConfig(
            namespace=self.namespace,
            replicas=props.replicas,
            tls_enabled=props.tls.enabled,
            log_level=props.log_level,
            prometheus_retention_time=props.prometheus_retention_time,
            ui=props.ui,
            seal=props.seal,
            trusted_proxy_cidrs=props.trusted_proxy_cidrs,
        )
        self.seal_plan: SealPlan = self.server_config.seal_plan
        self._policies: dict[str, Policy] = {p.name: p for p in default_policies(pki_role=props.pki_role)}
        scheme = Scheme.HTTPS if props.tls.enabled else Scheme.HTTP
        api_port_name = str(scheme)

        # -- endpoints -------------------------------------------------------------------------------
        #: Client API through Service ``vault`` (any ready pod). A standby forwards most requests to the
        #: active node, but answers a few paths with a redirect (307) to the active node's ``api_addr``
        #: instead (Vault's ``alwaysRedirectPaths``: raft snapshots among them), so clients of those paths
        #: use :attr:`active_api`.
        self.api = self.endpoint(port_name=api_port_name, port=API_PORT, scheme=scheme)
        #: Client API of the active node only (Service ``vault-active``); what the Ingress routes to, and the
        #: backup CronJob (a raft snapshot through a standby's redirect is known to arrive cut).
        self.active_api = self.endpoint(
            port_name=api_port_name, port=API_PORT, scheme=scheme, service=ACTIVE_SERVICE_NAME
        )
        #: Client API of the unsealed standby nodes (Service ``vault-standby``).
        self.standby_api = self.endpoint(
            port_name=api_port_name, port=API_PORT, scheme=scheme, service=STANDBY_SERVICE_NAME
        )
        #: Per-pod API, cluster and metrics ports through the headless Service ``vault-internal``.
        self.peer_api = self.endpoint(
            port_name=api_port_name, port=API_PORT, scheme=scheme, service=HEADLESS_SERVICE_NAME, per_pod=True
        )
        self.peer_cluster = self.endpoint(
            port_name="cluster",
            port=CLUSTER_PORT,
            scheme=Scheme.TCP,
            service=HEADLESS_SERVICE_NAME,
            per_pod=True,
        )
        self.metrics = self.endpoint(
            port_name="metrics", port=METRICS_PORT, scheme=scheme, service=HEADLESS_SERVICE_NAME, per_pod=True
        )

        # -- identity and RBAC -----------------------------------------------------------------------
        self.service_account = service_account(
            self, annotations=dict(self.seal_plan.service_account_annotations) or None
        )
        self._rbac()
        self.connect_kube_api(reason="service registration: Vault labels its own pod (active, sealed...)")

        # -- services ----------------------------------------------------------------------------------
        service(self, [self.api])
        service(self, [self.active_api], name=ACTIVE_SERVICE_NAME, runtime_selector={ACTIVE_LABEL: "true"})
        service(self, [self.standby_api], name=STANDBY_SERVICE_NAME, runtime_selector={ACTIVE_LABEL: "false"})
        service(
            self,
            [self.peer_api, self.peer_cluster, self.metrics],
            name=HEADLESS_SERVICE_NAME,
            headless=True,
            publish_not_ready=True,
        )

        # -- TLS certificate from cert-manager (loaded only when asked for) ------------------------------
        if props.tls.issuer is not None:
            from vaultaio_constructs.vault.certificates import add_certificates

            add_certificates(self, props.tls.issuer)

        # -- configuration -----------------------------------------------------------------------------
        config_json = self.server_config.to_json()
        self.config_map = config_map(self, "vault-config", {CONFIG_FILE_NAME: config_json})

        # -- workload ----------------------------------------------------------------------------------
        self.stateful_set = self._stateful_set(props, config_json)
        if self.server_config.ha:
            self.connect(self.peer_api, reason="raft retry_join and request forwarding between peers")
            self.connect(self.peer_cluster, reason="raft replication and request forwarding between peers")
            pod_disruption_budget(self, max_unavailable=1)
        for destination in self.seal_plan.endpoints:
            self.connect_external(destination, reason=f"{self.seal_plan.type} auto-unseal")

        # -- clients in other namespaces: the API port only ----------------------------------------------
        for client in props.clients:
            self._expose_to_client(client)

        # -- optional ----------------------------------------------------------------------------------
        self.ingress = self._ingress(props.ingress) if props.ingress is not None else None
        self.backup = self._backup(props.backup) if props.backup is not None else None
        #: Cron schedule of the backup CronJob (``None``: no CronJob); the chart adds its alert rule.
        self.backup_schedule = props.backup.schedule if props.backup is not None else None

    # -- public API --------------------------------------------------------------------------------------
    @property
    def tls_ca(self) -> SecretKeyRef | None:
        """The CA that signed Vault's certificate (``ca.crt`` of the TLS Secret), or ``None`` without TLS."""
        return SecretKeyRef(name=self.tls_secret_name, key="ca.crt") if self.tls_enabled else None

    def tls_ca_in(self, namespace: str) -> SecretKeyRef | None:
        """Where a pod in ``namespace`` finds that CA: the TLS Secret itself in Vault's namespace; elsewhere
        Secret ``vault-tls-ca`` (key ``ca.crt``), a copy holding the CA certificate only (Secrets are
        namespaced, and a copy of ``vault-tls`` would spread its private key), which
        ``scripts/init-vault.sh`` keeps equal to ``vault-tls``'s ``ca.crt`` in the node namespace."""
        if not self.tls_enabled:
            return None
        if namespace == self.namespace:
            return self.tls_ca
        return SecretKeyRef(name=CA_COPY_SECRET_NAME, key="ca.crt")

    @property
    def metrics_target(self) -> ScrapeTarget:
        """Every pod's unauthenticated metrics listener, discovered per pod (sealed and standby included)."""
        return ScrapeTarget(
            job="vault",
            endpoint=self.metrics,
            metrics_path="/v1/sys/metrics",
            params={"format": ("prometheus",)},
            ca=self.tls_ca,
            server_name=self.api.host if self.tls_enabled else None,
        )

    @property
    def policies(self) -> tuple[Policy, ...]:
        """Policies written to ``vault-policies``, sorted by name."""
        return tuple(self._policies[name] for name in sorted(self._policies))

    def add_policy(self, policy: Policy) -> None:
        """Add an ACL policy to ``vault-policies`` (applied by ``scripts/init-vault.sh``)."""
        if policy.name in self._policies:
            raise ValueError(f"a Vault policy named {policy.name!r} already exists: choose another name")
        self._policies[policy.name] = policy

    def finalize(self) -> None:
        """Render ``vault-policies`` once every policy has been added."""
        self.policies_config_map = config_map(self, "vault-policies", render_policies(self.policies))

    # -- building blocks ---------------------------------------------------------------------------------
    def _rbac(self) -> None:
        pods = list(self.server_config.pod_names())
        # the Role is named after the component (its name is known here: asking Node costs a round trip)
        role_name = self.name
        self.track(
            kube.KubeRole(
                self,
                "Role",
                metadata=self.meta(role_name),
                rules=[
                    k8s.PolicyRule(
                        api_groups=[""],
                        resources=["pods"],
                        resource_names=pods,
                        verbs=["get", "update", "patch"],
                    )
                ],
            )
        )
        self.track(
            kube.KubeRoleBinding(
                self,
                "RoleBinding",
                metadata=self.meta(),
                role_ref=k8s.RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=role_name),
                subjects=[k8s.Subject(kind="ServiceAccount", name=self.name, namespace=self.namespace)],
            )
        )

    def _volumes(self) -> tuple[list[k8s.Volume], list[k8s.VolumeMount]]:
        volumes = [
            config_map_volume("config", "vault-config"),
            config_map_volume("policies", "vault-policies"),
            # /tmp also holds raft snapshots that backup.sh saves and restores copy in: a snapshot is at
            # most the size of the data volume, so the scratch limit follows it (a limit, not a reservation)
            empty_dir("tmp", size_mib=self.storage_gib * 1024),
        ]
        mounts = [
            mount("data", DATA_PATH),
            mount("config", CONFIG_DIR, read_only=True),
            mount("policies", POLICIES_DIR, read_only=True),
            mount("tmp", TMP_DIR),
        ]
        if self.tls_enabled:
            volumes.append(secret_volume("tls", self.tls_secret_name))
            mounts.append(mount("tls", TLS_DIR, read_only=True))
        for vol in self.seal_plan.volumes:
            volumes.append(
                secret_volume(
                    vol.volume_name, vol.secret.name, {vol.secret.key: vol.file_name}, mode=vol.default_mode
                )
            )
            mounts.append(mount(vol.volume_name, vol.mount_path, read_only=True))
        return volumes, mounts

    def _affinity(self, props: VaultProps) -> k8s.Affinity | None:
        if not self.server_config.ha:
            return None
        return anti_affinity(self, required=props.anti_affinity is AntiAffinity.REQUIRED)

    def _stateful_set(self, props: VaultProps, config_json: str) -> k8s.KubeStatefulSet:
        volumes, mounts = self._volumes()
        https = self.tls_enabled
        vault = container(
            name=CONTAINER_NAME,
            image=self.image,
            resources=self.resources,
            ports=[self.peer_api, self.peer_cluster, self.metrics],
            command=server_command(self.server_config),
            env=[_k8s_env(v) for v in server_env(self.server_config)],
            volume_mounts=mounts,
            readiness=http_probe(
                HEALTH_READY_PATH, self.api.port_name, https=https, period_seconds=5, failure_threshold=2
            ),
            liveness=http_probe(
                HEALTH_LIVE_PATH,
                self.api.port_name,
                https=https,
                period_seconds=10,
                failure_threshold=6,
                initial_delay_seconds=60,
                timeout_seconds=5,
            ),
            lifecycle=k8s.Lifecycle(
                pre_stop=k8s.LifecycleHandler(exec=k8s.ExecAction(command=["/bin/sh", "-c", "sleep 5"]))
            ),
        )
        checksum = config_checksum(config_json)
        template = pod_template(
            self,
            containers=[vault],
            security_context=pod_security_context(
                user=VAULT_UID, group=VAULT_GID, fs_group=VAULT_GID, fs_group_always=True
            ),
            volumes=volumes,
            automount_token=True,
            termination_grace_period_seconds=props.termination_grace_period_seconds,
            affinity=self._affinity(props),
            topology_spread_constraints=zone_spread(self) if self.server_config.ha else (),
            annotations={CONFIG_CHECKSUM_ANNOTATION: checksum},
        )
        sts = stateful_set(
            self,
            template=template,
            claims=[storage_claim(self, "data", self.storage_gib)],
            service_name=HEADLESS_SERVICE_NAME,
            replicas=self.replicas,
            # Sealed pods are never ready: OrderedReady would keep vault-1 from starting until vault-0 is
            # unsealed, and so on. Parallel starts every peer so each can be unsealed (or auto-unsealed).
            pod_management_policy="Parallel",
            # OnDelete (as vault-helm): applying a new template restarts no pod; `vault-aio upgrade-vault`
            # then restarts them in Vault's order (standbys, then the stepped-down active node), checking
            # health in between.
            update_strategy="OnDelete",
        )
        for key, value in self.seal_plan.pod_labels:
            escaped = key.replace("~", "~0").replace("/", "~1")
            sts.add_json_patch(cdk8s.JsonPatch.add(f"/spec/template/metadata/labels/{escaped}", value))
        return sts

    def _expose_to_client(self, client: VaultClientProps) -> None:
        """Admit ``client``'s pods to the API port (``allow-vault-from-<name>``). A client in one of the
        stack's own namespaces is refused: they are dedicated to the stack, and their default-deny egress
        would block it anyway."""
        named = client.namespace_labels.get(NAMESPACE_NAME_LABEL)
        if len(client.namespace_labels) == 1 and named in (
            self.stack.stack_namespace,
            self.stack.node_namespace,
        ):
            raise ValueError(
                f"vault.clients: {client.name!r} selects the stack's own namespace {named!r}: it is "
                "dedicated to the stack and its default-deny policy would block the client's pods; run "
                "clients in a namespace of their own"
            )
        self.expose_to_namespaces(
            self.api,
            source=client.name,
            namespace_labels=client.namespace_labels,
            pod_labels=client.pod_labels,
            reason=f"clients {client.name!r} call Vault's API (vault.clients)",
        )

    def _ingress(self, props: VaultIngressProps) -> k8s.KubeIngress:
        annotations = dict(props.annotations)
        if self.tls_enabled:
            annotations.setdefault("nginx.ingress.kubernetes.io/backend-protocol", "HTTPS")
        return ingress(
            self,
            self.active_api,
            host=props.host,
            class_name=props.class_name,
            tls_secret_name=props.tls_secret_name,
            annotations=annotations,
            reason=f"Ingress {props.host} routes to the Vault API and UI",
        )

    def _backup(self, props: VaultBackupProps) -> k8s.KubeCronJob:
        labels = lbl.standard_labels(
            name=BACKUP_NAME, instance=self.instance, component="backup", version=self.version
        )
        pods = _BackupPods(BACKUP_NAME, self.namespace, labels)
        # the active node itself: a standby redirects snapshot requests instead of forwarding them
        api = self.stack.wiring.connect(pods, self.active_api, reason="scheduled raft snapshot")
        meta = self.meta(BACKUP_NAME, labels=labels)
        self.track(
            kube.KubeServiceAccount(
                self, "BackupServiceAccount", metadata=meta, automount_service_account_token=False
            )
        )
        gib = props.storage_gib or self.storage_gib
        self.track(
            kube.KubePersistentVolumeClaim(
                self,
                "BackupClaim",
                metadata=meta,
                spec=k8s.PersistentVolumeClaimSpec(
                    access_modes=["ReadWriteOnce"],
                    storage_class_name=self.stack.storage_class,
                    resources=k8s.ResourceRequirements(requests={"storage": gibibytes(gib)}),
                ),
            )
        )
        env = [
            k8s.EnvVar(name="VAULT_ADDR", value=api.url),
            env_from_secret("VAULT_TOKEN", props.token_secret.name, props.token_secret.key),
            k8s.EnvVar(name="HOME", value=TMP_DIR),
            k8s.EnvVar(name="KEEP", value=str(props.keep)),
            k8s.EnvVar(name="BACKUP_DIR", value=BACKUP_DIR),
        ]
        volumes = [
            k8s.Volume(
                name="backup",
                persistent_volume_claim=k8s.PersistentVolumeClaimVolumeSource(claim_name=BACKUP_NAME),
            ),
            empty_dir("tmp", size_mib=16),
        ]
        mounts = [mount("backup", BACKUP_DIR), mount("tmp", TMP_DIR)]
        if self.tls_enabled:
            env.append(k8s.EnvVar(name="VAULT_CACERT", value=TLS_CA_FILE))
            volumes.append(secret_volume("tls", self.tls_secret_name, {"ca.crt": "ca.crt"}))
            mounts.append(mount("tls", TLS_DIR, read_only=True))
        job = container(
            name="backup",
            image=self.image,
            resources=self.resolve_resources(props.resources, "backup"),
            command=["/bin/sh", "-ec", BACKUP_SCRIPT],
            env=env,
            volume_mounts=mounts,
        )
        template = k8s.PodTemplateSpec(
            metadata=k8s.ObjectMeta(labels=dict(labels)),
            spec=k8s.PodSpec(
                service_account_name=BACKUP_NAME,
                automount_service_account_token=False,
                enable_service_links=False,
                restart_policy="OnFailure",
                containers=[job],
                volumes=volumes,
                security_context=pod_security_context(
                    user=VAULT_UID, group=VAULT_GID, fs_group=VAULT_GID, fs_group_always=True
                ),
            ),
        )
        return self.track(
            kube.KubeCronJob(
                self,
                "BackupCronJob",
                metadata=meta,
                spec=k8s.CronJobSpec(
                    schedule=props.schedule,
                    concurrency_policy="Forbid",
                    successful_jobs_history_limit=3,
                    failed_jobs_history_limit=3,
                    job_template=k8s.JobTemplateSpec(
                        metadata=k8s.ObjectMeta(labels=dict(labels)),
                        spec=k8s.JobSpec(backoff_limit=2, active_deadline_seconds=900, template=template),
                    ),
                ),
            )
        )
