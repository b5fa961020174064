"""Alloy: the per-node collector (DaemonSet) for logs, node metrics, the Vault TLS probe and traces.

Objects (all called ``alloy`` unless noted): ServiceAccount; with logs, a Role and RoleBinding in each
namespace of the stack (``get``/``list``/``watch`` on pods and ``get`` on ``pods/log``, nothing else: pod
discovery finds the stack's pods on the node and their logs are tailed through the API server) and the
ServiceAccount token mounted for that; Service (``http`` 12345, and
with traces ``otlp-grpc`` 4317 and ``otlp-http`` 4318 for applications sending spans); ConfigMap
``alloy-config`` (:mod:`.config`, rendered from the wiring); DaemonSet on every schedulable node.

Everything but the ServiceAccount is created in :meth:`Alloy.finalize`, after the stack has connected Alloy
to its destinations (:meth:`ship_logs_to`, :meth:`remote_write_to`, :meth:`ship_traces_to`,
:meth:`probe_tls`); each destination switches on its pipelines, its host mounts, its API access and its
open ports only. The destinations are the stack's own Loki, Prometheus and Tempo or external ones. An external
Loki's password and CA (``loki.external``) are Secret volumes mounted read-only under
:data:`~vaultaio_constructs.alloy.config.LOKI_SECRETS_DIR`, an external Prometheus' (``prometheus.external``)
under :data:`~vaultaio_constructs.alloy.config.PROMETHEUS_SECRETS_DIR`; the Secrets must exist in the node
namespace.

Pod Security: the narrowest exception to ``restricted`` that can read node logs and metrics. It mounts only
the host paths its pipelines read (:data:`~vaultaio_constructs.alloy.config.ALLOY_HOST_PATHS`: ``/var/log``,
``/run/log/journal`` and ``/etc/machine-id`` for node logs, ``/proc`` and ``/sys`` for node metrics, and
``/`` for the filesystem collector only where ``kubernetes_version`` allows ``recursiveReadOnly``), every
one read-only, without mount propagation, and ``recursiveReadOnly: Enabled`` from Kubernetes 1.31
(filesystems mounted below them are read-only too). Everything else is restricted: non-root (UID 10473, no
host account, in the image's ``alloy`` group 473) with the supplementary group ``adm`` (4: journal ACL and
``/var/log/syslog``) and never the root group, all capabilities dropped, no privilege escalation, read-only
root filesystem, ``seccompProfile: RuntimeDefault``, no host network or PID namespace. ``run_as_root`` is
the opt-in for hosts whose log files only root can read; it is refused while the node's root is mounted
(``node_filesystems``), where uid 0 would read every pod's Secret volumes and tokens.
"""

from __future__ import annotations

from typing import Final

from cdk8s_plus_27 import k8s
from constructs import Construct

from vaultaio_constructs import kube
from vaultaio_constructs.alloy.config import (
    ALLOY_ARGS,
    ALLOY_COMMAND,
    ALLOY_CONFIG_DIR,
    ALLOY_CONFIG_FILE,
    ALLOY_GID,
    ALLOY_HOST_PATHS,
    ALLOY_HTTP_PORT,
    ALLOY_NODE_NAME_ENV,
    ALLOY_OTLP_GRPC_PORT,
    ALLOY_OTLP_HTTP_PORT,
    ALLOY_READY_PATH,
    ALLOY_STORAGE_PATH,
    ALLOY_UID,
    LOKI_SECRETS_DIR,
    PROMETHEUS_SECRETS_DIR,
    VAULT_CA_DIR,
    AlloyConfig,
    HostPath,
    render_alloy_config,
)
from vaultaio_constructs.alloy.props import (
    _ROOT_WITH_HOST_ROOT,
    RECURSIVE_READ_ONLY_SINCE,
    AlloyProps,
)
from vaultaio_constructs.common import (
    ExternalBasicAuth,
    SecretKeyRef,
)
from vaultaio_constructs.component import Component
from vaultaio_constructs.loki.construct import LokiApi
from vaultaio_constructs.placement import Area, Placement, PodSecurity, refuse_disabled
from vaultaio_constructs.prometheus.construct import PrometheusApi
from vaultaio_constructs.tempo.construct import TempoApi
from vaultaio_constructs.vault.config import CONTAINER_NAME as VAULT_CONTAINER_NAME
from vaultaio_constructs.wiring import Endpoint, ExternalService, Scheme
from vaultaio_constructs.workload import (
    CONFIG_CHECKSUM_ANNOTATION,
    ClientFiles,
    SecurityExceptions,
    client_files,
    config_checksum,
    config_map,
    config_map_volume,
    container,
    daemon_set,
    empty_dir,
    env_from_field,
    http_probe,
    mount,
    pod_template,
    secret_volume,
    service,
    service_account,
    tcp_probe,
)

CONTAINER_NAME: Final = "alloy"
CONFIG_MAP_NAME: Final = "alloy-config"


class Alloy(Component):
    """Alloy (collector): pod, audit and node logs to Loki; node metrics and a TLS probe to Prometheus;
    OTLP traces to Tempo."""

    area = Area.LOGGING
    #: Host access (read-only hostPath mounts: see the module docstring) is beyond Pod Security ``baseline``.
    pod_security = PodSecurity.PRIVILEGED
    #: A node agent: lives in the node namespace, the only one that admits privileged pods.
    placement = Placement.NODE

    def __init__(self, scope: Construct, id: str, props: AlloyProps | None = None) -> None:
        """Create the Alloy agent (DaemonSet in the node namespace) in ``scope`` (a
        :class:`~vaultaio_constructs.component.StackChart`, or a construct inside one) from ``props``
        (default: every setting at its default, see ``docs/SETTINGS.md``); ``id`` is the construct id. It
        ships nothing until told where: :meth:`ship_logs_to`, :meth:`ship_traces_to`,
        :meth:`remote_write_to`, :meth:`probe_tls`."""
        props = props or AlloyProps()
        refuse_disabled("alloy", props.enabled)
        super().__init__(
            scope,
            id,
            name="alloy",
            role="collector",
            workload=props,
        )
        self.collect_journal = props.collect_journal
        self.journal_max_age_hours = props.journal_max_age_hours
        self.varlog_globs = tuple(props.varlog_globs)
        self.scrape_interval_seconds = props.scrape_interval_seconds
        self.supplementary_group_ids = tuple(sorted(set(props.supplementary_group_ids)))
        self.run_as_root = props.run_as_root
        #: Host mounts are recursively read-only (the API of every targeted cluster has the field).
        self.recursive_read_only = self.stack.api_at_least(RECURSIVE_READ_ONLY_SINCE)
        if props.node_filesystems and not self.recursive_read_only:
            raise ValueError(
                f"alloy: 'node_filesystems' needs kubernetes_version >= {RECURSIVE_READ_ONLY_SINCE} (got "
                f"{self.stack.kubernetes_version}): only then is the node's root mounted recursively "
                "read-only; below it, world-writable filesystems under / (/tmp, /dev/shm) would be writable"
            )
        self.node_filesystems = (
            self.recursive_read_only if props.node_filesystems is None else props.node_filesystems
        )
        if self.run_as_root and self.node_filesystems:
            raise ValueError(f"alloy: {_ROOT_WITH_HOST_ROOT}")
        self.resources = self.resolve_resources(props.resources)
        self.otlp_from_ingress_controller = props.otlp_from_ingress_controller
        self.otlp_clients = tuple(props.otlp_clients)
        self._refused = {
            kind
            for kind, wanted in (
                ("logs", props.ship_logs),
                ("metrics", props.ship_metrics),
                ("traces", props.ship_traces),
            )
            if wanted is False
        }
        names = [c.name for c in props.otlp_clients]
        if len(set(names)) != len(names) or "ingress-controller" in names:
            raise ValueError(
                f"alloy.otlp_clients: names must be unique and not 'ingress-controller', got {names}"
            )
        self._loki_url: str | None = None
        self._loki_tenant_id: str | None = None
        self._loki_basic_auth: ExternalBasicAuth | None = None
        self._loki_ca: SecretKeyRef | None = None
        self._tempo_address: str | None = None
        self._tempo_tls = False
        self._prometheus_urls: tuple[str, ...] = ()
        self._prometheus_basic_auth: ExternalBasicAuth | None = None
        self._prometheus_ca: SecretKeyRef | None = None
        self._vault_url: str | None = None
        self._vault_ca: SecretKeyRef | None = None

        #: UI, ``/metrics`` and ``/-/ready``.
        self.http = self.endpoint(port_name="http", port=ALLOY_HTTP_PORT)
        #: OTLP receivers for applications sending traces (open only when traces are forwarded).
        self.otlp_grpc = self.endpoint(port_name="otlp-grpc", port=ALLOY_OTLP_GRPC_PORT, scheme=Scheme.GRPC)
        self.otlp_http = self.endpoint(port_name="otlp-http", port=ALLOY_OTLP_HTTP_PORT)
        service_account(self)

    # -- wiring --------------------------------------------------------------------------------------------
    def _accept(self, kind: str, call: str) -> None:
        if kind in self._refused:
            raise ValueError(f"alloy: {call} but 'ship_{kind}' is false")

    def ship_logs_to(self, loki: LokiApi) -> None:
        """Ship pod logs (with Vault audit labels) and node logs to ``loki`` (the stack's or an external)."""
        self._accept("logs", "ship_logs_to()")
        self._loki_url = self.connect(loki.push_endpoint, reason="ship pod, node and Vault audit logs").url
        self._loki_tenant_id = loki.tenant_id
        self._loki_basic_auth = loki.basic_auth
        self._loki_ca = loki.ca

    def ship_traces_to(self, tempo: TempoApi) -> None:
        """Receive OTLP spans from applications and forward them to ``tempo``."""
        self._accept("traces", "ship_traces_to()")
        target = self.connect(tempo.otlp_grpc, reason="forward OTLP traces")
        self._tempo_address = target.address
        self._tempo_tls = isinstance(target, ExternalService) and target.scheme == "https"

    def remote_write_to(self, prometheus: PrometheusApi) -> None:
        """Remote-write node, Alloy and probe metrics to ``prometheus`` (each replica of an HA pair; the
        stack's own or an external one, with its basic authentication and CA)."""
        self._accept("metrics", "remote_write_to()")
        self._prometheus_urls = tuple(
            self.connect(endpoint, reason="remote-write node, probe and agent metrics").url
            for endpoint in prometheus.remote_write_endpoints
        )
        self._prometheus_basic_auth = prometheus.basic_auth
        self._prometheus_ca = prometheus.ca

    def probe_tls(self, endpoint: Endpoint, ca: SecretKeyRef | None = None) -> None:
        """Probe ``endpoint`` (Vault's API) over TLS so its certificate's expiry is a metric.

        ``ca`` is the Secret key (in Alloy's namespace) holding the CA that signed the certificate; by
        default where the providing component says a pod of Alloy's namespace finds it (Vault's
        ``tls_ca_in``). An endpoint without TLS has no certificate to watch: it is not probed. The probe's
        metrics are remote-written (needs :meth:`remote_write_to`).
        """
        if endpoint.scheme is not Scheme.HTTPS:
            return
        if ca is None:
            provider = self.stack.component(endpoint.provider)
            locate = getattr(provider, "tls_ca_in", None)
            found = locate(self.namespace) if callable(locate) else None
            if not isinstance(found, SecretKeyRef):
                raise ValueError(
                    f"probe_tls({endpoint.provider}) needs 'ca': {endpoint.provider} does not say where its "
                    f"CA is found in namespace {self.namespace!r} (tls_ca_in)"
                )
            ca = found
        self._vault_url = self.connect(endpoint, reason="probe the TLS certificate for expiry").url
        self._vault_ca = ca

    @property
    def ships_logs(self) -> bool:
        return self._loki_url is not None

    @property
    def ships_traces(self) -> bool:
        return self._tempo_address is not None

    # -- configuration ---------------------------------------------------------------------------------------
    # no fsGroup in this pod (the log-reading groups are supplementary): Secret files world-readable in it
    @property
    def loki_client(self) -> ClientFiles:
        """The external Loki's credentials (password, CA) as files in Alloy's namespace, read-only; the
        Secrets must exist there (they are namespaced)."""
        return client_files("loki-secret", LOKI_SECRETS_DIR, self._loki_basic_auth, self._loki_ca, mode=0o444)

    @property
    def prometheus_client(self) -> ClientFiles:
        """The external Prometheus' credentials (password, CA) as files in Alloy's namespace, the same way."""
        return client_files(
            "prometheus-secret",
            PROMETHEUS_SECRETS_DIR,
            self._prometheus_basic_auth,
            self._prometheus_ca,
            mode=0o444,
        )

    @property
    def config(self) -> AlloyConfig:
        """The configuration Alloy runs with (final once the stack is finished)."""
        loki, prometheus = self.loki_client, self.prometheus_client
        return AlloyConfig(
            namespaces=self.stack.namespaces,
            loki_push_url=self._loki_url,
            loki_tenant_id=self._loki_tenant_id,
            loki_username=loki.username,
            loki_password_file=loki.password_file,
            loki_ca_file=loki.ca_file,
            tempo_otlp_grpc_address=self._tempo_address,
            tempo_otlp_tls=self._tempo_tls,
            prometheus_remote_write_urls=self._prometheus_urls,
            prometheus_username=prometheus.username,
            prometheus_password_file=prometheus.password_file,
            prometheus_ca_file=prometheus.ca_file,
            vault_api_url=self._vault_url,
            vault_ca_file=f"{VAULT_CA_DIR}/ca.crt",
            vault_container=VAULT_CONTAINER_NAME,
            node_name_env=ALLOY_NODE_NAME_ENV,
            scrape_interval_seconds=self.scrape_interval_seconds,
            collect_journal=self.collect_journal,
            journal_max_age_hours=self.journal_max_age_hours,
            varlog_globs=self.varlog_globs,
            node_filesystems=self.node_filesystems,
        )

    @property
    def host_paths(self) -> tuple[HostPath, ...]:
        """The read-only host mounts the connected pipelines need."""
        wanted: set[str] = set()
        if self._loki_url is not None:
            if self.collect_journal or self.varlog_globs:
                wanted.add("varlog")
            if self.collect_journal:
                wanted.update(("run-journal", "machine-id"))
        if self._prometheus_urls:
            wanted.update(("proc", "sys"))
            if self.node_filesystems:
                wanted.add("rootfs")
        return tuple(h for h in ALLOY_HOST_PATHS if h.name in wanted)

    def finalize(self) -> None:
        """Render the configuration from the recorded connections and create the DaemonSet."""
        if self._loki_url is None and not self._prometheus_urls and self._tempo_address is None:
            raise ValueError(
                "alloy has nowhere to send anything: call ship_logs_to(loki), remote_write_to(prometheus) "
                "or ship_traces_to(tempo) before finishing the stack"
            )
        if self._vault_url is not None and not self._prometheus_urls:
            raise ValueError("alloy: probe_tls() needs remote_write_to(prometheus): the probe is a metric")
        if self.otlp_clients and not self.ships_traces:
            raise ValueError(
                f"alloy.otlp_clients ({[c.name for c in self.otlp_clients]}) need traces: call "
                "ship_traces_to(tempo), or remove them"
            )
        if self.ships_logs:
            for namespace in self.stack.namespaces:
                self._rbac(namespace)
            self.connect_kube_api(reason="discover the stack's pods on the node and tail their logs")
        ports = [self.http]
        if self.ships_traces:
            ports += [self.otlp_grpc, self.otlp_http]
            self._expose_otlp()
        service(self, ports)
        config_text = render_alloy_config(self.config)
        self.config_map = config_map(self, CONFIG_MAP_NAME, {ALLOY_CONFIG_FILE: config_text})
        volumes: list[k8s.Volume] = [
            config_map_volume("config", CONFIG_MAP_NAME),
            empty_dir("storage", size_mib=1024),
            empty_dir("tmp", size_mib=64),
        ]
        mounts: list[k8s.VolumeMount] = [
            mount("config", ALLOY_CONFIG_DIR, read_only=True),
            mount("storage", ALLOY_STORAGE_PATH),
            mount("tmp", "/tmp"),
        ]
        for host in self.host_paths:
            volumes.append(
                k8s.Volume(
                    name=host.name, host_path=k8s.HostPathVolumeSource(path=host.host_path, type=host.type)
                )
            )
            mounts.append(k8s.VolumeMount(name=host.name, mount_path=host.mount_path, read_only=True))
        if self._vault_ca is not None:
            volumes.append(
                # optional: Alloy starts (logs, metrics) before Vault's TLS Secret is created; the probe
                # fails until then, which is what the certificate alerts should see
                secret_volume(
                    "vault-ca", self._vault_ca.name, {self._vault_ca.key: "ca.crt"}, mode=0o444, optional=True
                )
            )
            mounts.append(mount("vault-ca", VAULT_CA_DIR, read_only=True))
        for client in (self.loki_client, self.prometheus_client):
            volumes += client.files.volumes
            mounts += client.files.mounts

        alloy = container(
            name=CONTAINER_NAME,
            image=self.image,
            resources=self.resources,
            ports=ports,
            command=ALLOY_COMMAND,
            args=ALLOY_ARGS,
            env=[env_from_field(ALLOY_NODE_NAME_ENV, "spec.nodeName")],
            volume_mounts=mounts,
            readiness=http_probe(ALLOY_READY_PATH, self.http.port_name, period_seconds=10),
            liveness=tcp_probe(self.http.port_name),
            exceptions=SecurityExceptions(run_as_root=self.run_as_root),
        )
        template = pod_template(
            self,
            containers=[alloy],
            security_context=self._pod_security_context(),
            volumes=volumes,
            # the token is for pod discovery (logs) only
            automount_token=self.ships_logs,
            # Collect from every node, control-plane nodes included.
            tolerations=[k8s.Toleration(operator="Exists", effect="NoSchedule")],
            annotations={CONFIG_CHECKSUM_ANNOTATION: config_checksum(config_text)},
        )
        self.daemon_set = daemon_set(
            self,
            template=template,
            recursive_read_only_mounts=[h.name for h in self.host_paths] if self.recursive_read_only else (),
        )

    # -- building blocks ---------------------------------------------------------------------------------
    def _pod_security_context(self) -> k8s.PodSecurityContext:
        """The ``alloy`` user with the log-reading groups (UID 0 when asked); RuntimeDefault seccomp."""
        return k8s.PodSecurityContext(
            run_as_non_root=not self.run_as_root,
            run_as_user=0 if self.run_as_root else ALLOY_UID,
            run_as_group=0 if self.run_as_root else ALLOY_GID,
            supplemental_groups=list(self.supplementary_group_ids) or None,
            seccomp_profile=k8s.SeccompProfile(type="RuntimeDefault"),
        )

    def _expose_otlp(self) -> None:
        if self.otlp_from_ingress_controller:
            for otlp in (self.otlp_grpc, self.otlp_http):
                self.expose_to_ingress(otlp, reason="OTLP spans from the ingress controller")
        for client in self.otlp_clients:
            for otlp in (self.otlp_grpc, self.otlp_http):
                self.expose_to_namespaces(
                    otlp,
                    source=client.name,
                    namespace_labels=client.namespace_labels,
                    pod_labels=client.pod_labels,
                    reason=f"OTLP spans from {client.name}",
                )

    def _rbac(self, namespace: str) -> None:
        """Read-only access to the pods of ``namespace`` and their logs, bound to Alloy's ServiceAccount."""
        suffix = "" if namespace == self.namespace else f"-{namespace}"
        # the Role is named after the component (its name is known here: asking Node costs a round trip)
        role_name = self.name
        self.track(
            kube.KubeRole(
                self,
                f"Role{suffix}",
                metadata=self.meta(role_name, namespace=namespace),
                rules=[
                    k8s.PolicyRule(api_groups=[""], resources=["pods"], verbs=["get", "list", "watch"]),
                    k8s.PolicyRule(api_groups=[""], resources=["pods/log"], verbs=["get"]),
                ],
            )
        )
        self.track(
            kube.KubeRoleBinding(
                self,
                f"RoleBinding{suffix}",
                metadata=self.meta(namespace=namespace),
                role_ref=k8s.RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=role_name),
                subjects=[k8s.Subject(kind="ServiceAccount", name=self.name, namespace=self.namespace)],
            )
        )
