"""Builders for hardened pods and the objects around them: the one place for secure defaults.

Every container gets, unless its component passes an explicit, documented exception:

* ``runAsNonRoot``, ``allowPrivilegeEscalation: false``, ``readOnlyRootFilesystem: true``,
  ``capabilities.drop: [ALL]`` and no added capability;
* the pod-level ``seccompProfile: RuntimeDefault`` (set on the pod, inherited by containers);
* CPU and memory requests and a memory limit (:class:`~vaultaio_constructs.common.Resources`).

Pods do not mount a ServiceAccount token unless ``automount_token=True`` (only pods that call the API).
These defaults satisfy Pod Security Standard ``restricted``. The builders use the Kubernetes 1.27 L1
classes from ``cdk8s_plus_27.k8s`` directly: the cdk8s-plus L2 API has no seccomp field and names
objects with hash suffixes, and NetworkPolicies come from our own wiring model.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cdk8s_plus_27 import k8s

from vaultaio_constructs import kube
from vaultaio_constructs.common import ExternalBasicAuth, Resources, SecretKeyRef, client_secret_keys
from vaultaio_constructs.component import Component
from vaultaio_constructs.wiring import Endpoint


@functools.cache
def quantity(text: str) -> k8s.Quantity:
    """A Kubernetes quantity. Cached: each value is a jsii object, and one per distinct text suffices
    (they are immutable), which saves a Node round trip per use."""
    return k8s.Quantity.from_string(text)


@functools.cache
def int_or_string(value: int | str) -> k8s.IntOrString:
    """A port number or port name (cached like :func:`quantity`)."""
    return (
        k8s.IntOrString.from_number(value) if isinstance(value, int) else k8s.IntOrString.from_string(value)
    )


def cpu(millicores: int) -> k8s.Quantity:
    return quantity(f"{millicores}m")


def mebibytes(mib: int) -> k8s.Quantity:
    return quantity(f"{mib}Mi")


def gibibytes(gib: int) -> k8s.Quantity:
    return quantity(f"{gib}Gi")


def resource_requirements(resources: Resources) -> k8s.ResourceRequirements:
    """Requests for CPU and memory, a memory limit, and a CPU limit only when one is set."""
    limits = {"memory": mebibytes(resources.memory_limit_mib)}
    if resources.cpu_limit_millicores is not None:
        limits["cpu"] = cpu(resources.cpu_limit_millicores)
    return k8s.ResourceRequirements(
        requests={
            "cpu": cpu(resources.cpu_request_millicores),
            "memory": mebibytes(resources.memory_request_mib),
        },
        limits=limits,
    )


def container_port(endpoint: Endpoint) -> k8s.ContainerPort:
    """The container port behind ``endpoint`` (same name and number, so Services can target by name)."""
    return k8s.ContainerPort(
        name=endpoint.port_name, container_port=endpoint.port, protocol=str(endpoint.protocol)
    )


def http_probe(
    path: str,
    port_name: str,
    *,
    https: bool = False,
    period_seconds: int = 10,
    failure_threshold: int = 3,
    initial_delay_seconds: int = 0,
    timeout_seconds: int = 3,
) -> k8s.Probe:
    """An HTTP GET probe on a named container port."""
    return k8s.Probe(
        http_get=k8s.HttpGetAction(
            path=path, port=int_or_string(port_name), scheme="HTTPS" if https else "HTTP"
        ),
        period_seconds=period_seconds,
        failure_threshold=failure_threshold,
        initial_delay_seconds=initial_delay_seconds,
        timeout_seconds=timeout_seconds,
    )


def tcp_probe(
    port_name: str, *, period_seconds: int = 30, failure_threshold: int = 10, timeout_seconds: int = 3
) -> k8s.Probe:
    """A TCP connect probe on a named container port: for liveness of a server whose HTTP readiness depends
    on its peers or on a replay (the process is alive while it accepts connections)."""
    return k8s.Probe(
        tcp_socket=k8s.TcpSocketAction(port=int_or_string(port_name)),
        period_seconds=period_seconds,
        failure_threshold=failure_threshold,
        timeout_seconds=timeout_seconds,
    )


def exec_probe(
    command: Sequence[str], *, period_seconds: int = 30, timeout_seconds: int = 5, failure_threshold: int = 3
) -> k8s.Probe:
    """A probe that runs ``command`` in the container."""
    return k8s.Probe(
        exec=k8s.ExecAction(command=list(command)),
        period_seconds=period_seconds,
        timeout_seconds=timeout_seconds,
        failure_threshold=failure_threshold,
    )


@dataclass(frozen=True, kw_only=True)
class SecurityExceptions:
    """Departures from the restricted defaults that a component truly needs. Each must be justified
    where it is used (docstring of the component's setting) and listed in the README's security section.
    """

    #: Linux capabilities to add after dropping ALL (e.g. ``SYS_TIME`` for Chrony).
    add_capabilities: tuple[str, ...] = ()
    #: Run as root (uid 0). Only for a container that must read root-owned host files.
    run_as_root: bool = False


RESTRICTED = SecurityExceptions()


def container(
    *,
    name: str,
    image: str,
    resources: Resources,
    ports: Sequence[Endpoint] = (),
    args: Sequence[str] = (),
    command: Sequence[str] | None = None,
    env: Sequence[k8s.EnvVar] = (),
    volume_mounts: Sequence[k8s.VolumeMount] = (),
    readiness: k8s.Probe | None = None,
    liveness: k8s.Probe | None = None,
    startup: k8s.Probe | None = None,
    exceptions: SecurityExceptions = RESTRICTED,
    lifecycle: k8s.Lifecycle | None = None,
) -> k8s.Container:
    """A container with the secure defaults of this module."""
    return k8s.Container(
        name=name,
        image=image,
        image_pull_policy="IfNotPresent",
        command=list(command) if command is not None else None,
        args=list(args) if args else None,
        env=list(env) if env else None,
        ports=[container_port(e) for e in _unique_ports(ports)] or None,
        resources=resource_requirements(resources),
        volume_mounts=list(volume_mounts) if volume_mounts else None,
        readiness_probe=readiness,
        liveness_probe=liveness,
        startup_probe=startup,
        lifecycle=lifecycle,
        security_context=k8s.SecurityContext(
            allow_privilege_escalation=False,
            privileged=False,
            read_only_root_filesystem=True,
            run_as_non_root=not exceptions.run_as_root,
            run_as_user=0 if exceptions.run_as_root else None,
            capabilities=k8s.Capabilities(drop=["ALL"], add=list(exceptions.add_capabilities) or None),
        ),
        termination_message_policy="FallbackToLogsOnError",
    )


def _unique_ports(endpoints: Sequence[Endpoint]) -> list[Endpoint]:
    seen: dict[tuple[str, int], Endpoint] = {}
    for e in endpoints:
        seen.setdefault((e.port_name, e.port), e)
    return list(seen.values())


def pod_security_context(
    *,
    user: int | None,
    group: int | None = None,
    fs_group: int | None = None,
    run_as_root: bool = False,
    fs_group_always: bool = False,
) -> k8s.PodSecurityContext:
    """Pod-level context: non-root user and ``seccompProfile: RuntimeDefault``.

    Volumes get ``fs_group`` ownership once (``OnRootMismatch``); ``fs_group_always`` re-applies it (group
    read/write on every file) at each start, for volumes holding files an earlier UID created owner-only.
    """
    return k8s.PodSecurityContext(
        run_as_non_root=not run_as_root,
        run_as_user=0 if run_as_root else user,
        run_as_group=0 if run_as_root else group,
        fs_group=fs_group,
        fs_group_change_policy=(
            None if fs_group is None else "Always" if fs_group_always else "OnRootMismatch"
        ),
        seccomp_profile=k8s.SeccompProfile(type="RuntimeDefault"),
    )


#: Pod annotation holding the SHA-256 of the configuration a pod reads: a config change rolls the pods.
CONFIG_CHECKSUM_ANNOTATION = "vault-aio.io/config-checksum"


def config_checksum(*texts: str) -> str:
    """SHA-256 over configuration texts (in order), for :data:`CONFIG_CHECKSUM_ANNOTATION`."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def pod_template(
    component: Component,
    *,
    containers: Sequence[k8s.Container],
    security_context: k8s.PodSecurityContext,
    volumes: Sequence[k8s.Volume] = (),
    init_containers: Sequence[k8s.Container] = (),
    automount_token: bool = False,
    termination_grace_period_seconds: int = 30,
    affinity: k8s.Affinity | None = None,
    annotations: Mapping[str, str] | None = None,
    tolerations: Sequence[k8s.Toleration] = (),
    priority_class_name: str | None = None,
    topology_spread_constraints: Sequence[k8s.TopologySpreadConstraint] = (),
) -> k8s.PodTemplateSpec:
    """A pod template for ``component``: its labels, its ServiceAccount, no token unless asked."""
    return k8s.PodTemplateSpec(
        metadata=k8s.ObjectMeta(
            labels=dict(component.labels), annotations=dict(annotations) if annotations else None
        ),
        spec=k8s.PodSpec(
            service_account_name=component.name,
            automount_service_account_token=automount_token,
            enable_service_links=False,
            containers=list(containers),
            init_containers=list(init_containers) or None,
            volumes=list(volumes) or None,
            security_context=security_context,
            termination_grace_period_seconds=termination_grace_period_seconds,
            affinity=affinity,
            tolerations=list(tolerations) or None,
            priority_class_name=priority_class_name,
            topology_spread_constraints=list(topology_spread_constraints) or None,
        ),
    )


#: Node label of the failure zone (well-known label set by cloud providers; absent on most bare clusters).
ZONE_TOPOLOGY_KEY = "topology.kubernetes.io/zone"
#: Node label of the node itself.
HOSTNAME_TOPOLOGY_KEY = "kubernetes.io/hostname"


def anti_affinity(component: Component, *, required: bool = False) -> k8s.Affinity:
    """Keep ``component``'s replicas on different nodes: ``required`` never co-locates two (needs as many
    schedulable nodes as replicas), otherwise the scheduler spreads when it can and co-locates when not."""
    term = k8s.PodAffinityTerm(label_selector=selector(component), topology_key=HOSTNAME_TOPOLOGY_KEY)
    if required:
        return k8s.Affinity(
            pod_anti_affinity=k8s.PodAntiAffinity(required_during_scheduling_ignored_during_execution=[term])
        )
    return k8s.Affinity(
        pod_anti_affinity=k8s.PodAntiAffinity(
            preferred_during_scheduling_ignored_during_execution=[
                k8s.WeightedPodAffinityTerm(weight=100, pod_affinity_term=term)
            ]
        )
    )


def zone_spread(component: Component) -> list[k8s.TopologySpreadConstraint]:
    """Spread ``component``'s replicas evenly over failure zones (``topology.kubernetes.io/zone``).

    ``ScheduleAnyway``: a preference, never a reason to leave a pod pending. With ``DoNotSchedule`` a
    single-zone cluster could not place a second replica once the skew is reached, and nodes without the
    zone label (bare metal, k3s, kind) would be skipped altogether.
    """
    return [
        k8s.TopologySpreadConstraint(
            max_skew=1,
            topology_key=ZONE_TOPOLOGY_KEY,
            when_unsatisfiable="ScheduleAnyway",
            label_selector=selector(component),
        )
    ]


def pod_disruption_budget(component: Component, *, max_unavailable: int = 1) -> k8s.KubePodDisruptionBudget:
    """At most ``max_unavailable`` of ``component``'s pods evicted at once (node drains, upgrades)."""
    return component.track(
        kube.KubePodDisruptionBudget(
            component,
            "PodDisruptionBudget",
            metadata=component.meta(),
            spec=k8s.PodDisruptionBudgetSpec(
                max_unavailable=int_or_string(max_unavailable), selector=selector(component)
            ),
        )
    )


def selector(component: Component) -> k8s.LabelSelector:
    return k8s.LabelSelector(match_labels=dict(component.selector))


# -- objects ------------------------------------------------------------------------------------------


def service_account(
    component: Component, *, annotations: Mapping[str, str] | None = None
) -> k8s.KubeServiceAccount:
    """The component's ServiceAccount; its token is never mounted automatically."""
    return component.track(
        kube.KubeServiceAccount(
            component,
            "ServiceAccount",
            metadata=component.meta(annotations=annotations),
            automount_service_account_token=False,
        )
    )


def service(
    component: Component,
    endpoints: Sequence[Endpoint],
    *,
    name: str | None = None,
    headless: bool = False,
    publish_not_ready: bool = False,
    id: str | None = None,
    runtime_selector: Mapping[str, str] | None = None,
    session_affinity: bool = False,
) -> k8s.KubeService:
    """A Service selecting the component's pods and exposing ``endpoints`` (target port by name).

    ``runtime_selector`` narrows the selection to pods carrying labels the workload sets on its own pods
    while it runs (Vault's ``vault-active``); ``session_affinity`` sends each client to the same pod
    (``ClientIP``) while that pod is ready.
    """
    svc_name = name or component.name
    for e in endpoints:
        if e.service != svc_name:
            raise ValueError(f"endpoint {e.port_name} belongs to service {e.service!r}, not {svc_name!r}")
    return component.track(
        kube.KubeService(
            component,
            id or f"Service-{svc_name}",
            metadata=component.meta(svc_name),
            spec=k8s.ServiceSpec(
                selector={**component.selector, **(runtime_selector or {})},
                cluster_ip="None" if headless else None,
                publish_not_ready_addresses=publish_not_ready or None,
                session_affinity="ClientIP" if session_affinity else None,
                ports=[
                    k8s.ServicePort(
                        name=e.port_name,
                        port=e.port,
                        target_port=int_or_string(e.port_name),
                        protocol=str(e.protocol),
                    )
                    for e in _unique_ports(endpoints)
                ],
            ),
        )
    )


def config_map(
    component: Component,
    name: str,
    data: Mapping[str, str],
    *,
    id: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> k8s.KubeConfigMap:
    """A ConfigMap owned by ``component`` (keys sorted for stable output)."""
    return component.track(
        kube.KubeConfigMap(
            component,
            id or f"ConfigMap-{name}",
            metadata=component.meta(name, labels=labels),
            data={k: data[k] for k in sorted(data)},
        )
    )


def storage_claim(component: Component, name: str, storage_gib: int) -> k8s.KubePersistentVolumeClaimProps:
    """A ``volumeClaimTemplates`` entry (ReadWriteOnce, the stack's storage class)."""
    return k8s.KubePersistentVolumeClaimProps(
        metadata=k8s.ObjectMeta(name=name, labels=dict(component.labels)),
        spec=k8s.PersistentVolumeClaimSpec(
            access_modes=["ReadWriteOnce"],
            storage_class_name=component.stack.storage_class,
            resources=k8s.ResourceRequirements(requests={"storage": gibibytes(storage_gib)}),
        ),
    )


def stateful_set(
    component: Component,
    *,
    template: k8s.PodTemplateSpec,
    claims: Sequence[k8s.KubePersistentVolumeClaimProps],
    service_name: str,
    replicas: int = 1,
    pod_management_policy: str = "OrderedReady",
    update_strategy: str = "RollingUpdate",
) -> k8s.KubeStatefulSet:
    """A StatefulSet whose PVCs are kept when it is scaled down or deleted (data outlives the workload).

    ``pod_management_policy="Parallel"`` starts all pods at once (raft peers that are never ready until
    unsealed must not wait for each other); ``update_strategy="OnDelete"`` restarts no pod when the template
    changes (a program restarts them in its own order).
    """
    return component.track(
        kube.KubeStatefulSet(
            component,
            "StatefulSet",
            metadata=component.meta(),
            spec=k8s.StatefulSetSpec(
                replicas=replicas,
                service_name=service_name,
                selector=selector(component),
                template=template,
                volume_claim_templates=list(claims) or None,
                persistent_volume_claim_retention_policy=k8s.StatefulSetPersistentVolumeClaimRetentionPolicy(
                    when_deleted="Retain", when_scaled="Retain"
                ),
                pod_management_policy=pod_management_policy,
                update_strategy=k8s.StatefulSetUpdateStrategy(type=update_strategy),
            ),
        )
    )


class KubeDaemonSet(k8s.KubeDaemonSet):
    """The 1.27 L1 DaemonSet plus ``recursiveReadOnly: Enabled`` on the named read-only volume mounts of
    its containers: a field added in Kubernetes 1.30 that the 1.27 classes cannot carry (their ``to_json``
    drops unknown fields, JSON patches included), so it is added to the rendered body."""

    def __init__(
        self,
        scope: Component,
        id: str,
        *,
        recursive_read_only_mounts: Sequence[str] = (),
        metadata: k8s.ObjectMeta,
        spec: k8s.DaemonSetSpec,
    ) -> None:
        kube.init(self, scope, id, k8s.KubeDaemonSetProps(metadata=metadata, spec=spec))
        self._recursive_read_only_mounts = frozenset(recursive_read_only_mounts)

    def to_json(self) -> Any:
        body = super().to_json()
        for container in body["spec"]["template"]["spec"]["containers"]:
            for volume_mount in container.get("volumeMounts", []):
                if volume_mount["name"] in self._recursive_read_only_mounts:
                    if not volume_mount.get("readOnly") or volume_mount.get("mountPropagation"):
                        raise ValueError(
                            f"volume mount {volume_mount['name']!r}: recursiveReadOnly needs readOnly and "
                            "no mountPropagation"
                        )
                    volume_mount["recursiveReadOnly"] = "Enabled"
        return body


def daemon_set(
    component: Component, *, template: k8s.PodTemplateSpec, recursive_read_only_mounts: Sequence[str] = ()
) -> k8s.KubeDaemonSet:
    """A DaemonSet (one pod per node) with rolling updates; ``recursive_read_only_mounts`` names volume
    mounts made recursively read-only (Kubernetes >= 1.30 only: the caller checks the target version).

    Only a DaemonSet with such mounts is a :class:`KubeDaemonSet`: its Python ``to_json`` makes Node call
    back into Python while the chart resolves (several round trips, the whole body sent both ways).
    """
    metadata = component.meta()
    spec = k8s.DaemonSetSpec(
        selector=selector(component),
        template=template,
        update_strategy=k8s.DaemonSetUpdateStrategy(
            type="RollingUpdate",
            rolling_update=k8s.RollingUpdateDaemonSet(max_unavailable=int_or_string(1)),
        ),
    )
    if recursive_read_only_mounts:
        return component.track(
            KubeDaemonSet(
                component,
                "DaemonSet",
                recursive_read_only_mounts=recursive_read_only_mounts,
                metadata=metadata,
                spec=spec,
            )
        )
    return component.track(kube.KubeDaemonSet(component, "DaemonSet", metadata=metadata, spec=spec))


def env_from_field(name: str, field_path: str) -> k8s.EnvVar:
    """An environment variable from the downward API (``metadata.name``, ``spec.nodeName``...)."""
    return k8s.EnvVar(
        name=name, value_from=k8s.EnvVarSource(field_ref=k8s.ObjectFieldSelector(field_path=field_path))
    )


def env_from_secret(name: str, secret: str, key: str) -> k8s.EnvVar:
    """An environment variable from a Secret key (the value never appears in the manifests)."""
    return k8s.EnvVar(
        name=name, value_from=k8s.EnvVarSource(secret_key_ref=k8s.SecretKeySelector(name=secret, key=key))
    )


def empty_dir(name: str, *, size_mib: int = 64, memory: bool = False) -> k8s.Volume:
    """A scratch volume for a read-only root filesystem (``/tmp`` and the like), size-limited."""
    return k8s.Volume(
        name=name,
        empty_dir=k8s.EmptyDirVolumeSource(
            medium="Memory" if memory else None, size_limit=mebibytes(size_mib)
        ),
    )


def config_map_volume(name: str, config_map: str) -> k8s.Volume:
    return k8s.Volume(name=name, config_map=k8s.ConfigMapVolumeSource(name=config_map))


def mount(name: str, path: str, *, read_only: bool = False, sub_path: str | None = None) -> k8s.VolumeMount:
    return k8s.VolumeMount(name=name, mount_path=path, read_only=read_only or None, sub_path=sub_path)


def ingress(
    component: Component,
    endpoint: Endpoint,
    *,
    host: str,
    class_name: str | None,
    tls_secret_name: str | None,
    annotations: Mapping[str, str] | None,
    reason: str,
) -> k8s.KubeIngress:
    """An Ingress routing ``host`` (TLS, path ``/``) to ``endpoint``'s Service port, and the NetworkPolicy
    edge that lets the ingress controller reach it (one call, so the two cannot disagree)."""
    component.expose_to_ingress(endpoint, reason=reason)
    backend = k8s.IngressBackend(
        service=k8s.IngressServiceBackend(
            name=endpoint.service, port=k8s.ServiceBackendPort(name=endpoint.port_name)
        )
    )
    return component.track(
        kube.KubeIngress(
            component,
            "Ingress",
            metadata=component.meta(annotations=dict(annotations) if annotations else None),
            spec=k8s.IngressSpec(
                ingress_class_name=class_name,
                tls=[k8s.IngressTls(hosts=[host], secret_name=tls_secret_name)],
                rules=[
                    k8s.IngressRule(
                        host=host,
                        http=k8s.HttpIngressRuleValue(
                            paths=[k8s.HttpIngressPath(path="/", path_type="Prefix", backend=backend)]
                        ),
                    )
                ],
            ),
        )
    )


def secret_volume(
    name: str,
    secret: str,
    items: Mapping[str, str] | None = None,
    *,
    mode: int = 0o440,
    optional: bool = False,
) -> k8s.Volume:
    """A Secret as files: ``items`` maps Secret keys to file names (``None``: every key, by its name).

    Mode ``0440`` makes the files readable by the pod's group (``fsGroup``) only. ``optional=True`` lets a
    pod start before the Secret exists (the kubelet fills the files in once it is created): for CA
    bundles of a peer that is bootstrapped later, never for a pod's own credentials.
    """
    return k8s.Volume(
        name=name,
        secret=k8s.SecretVolumeSource(
            secret_name=secret,
            items=[k8s.KeyToPath(key=k, path=p) for k, p in items.items()] if items is not None else None,
            default_mode=mode,
            optional=optional or None,
        ),
    )


@dataclass(frozen=True)
class SecretFiles:
    """Secret keys mounted read-only as files ``<directory>/<secret>/<key>``: one volume per Secret (with
    exactly the keys used), one read-only mount each. Build with :func:`secret_files`; :meth:`path` is the
    in-pod file of a key, the one place a config takes it from."""

    directory: str
    volumes: tuple[k8s.Volume, ...]
    mounts: tuple[k8s.VolumeMount, ...]

    def path(self, ref: SecretKeyRef) -> str:
        return f"{self.directory}/{ref.name}/{ref.key}"


def secret_files(
    prefix: str, directory: str, refs: Sequence[SecretKeyRef], *, mode: int = 0o440
) -> SecretFiles:
    """Mount the Secret keys ``refs`` under ``directory`` (volumes ``<prefix>-0``, ``<prefix>-1``... in the
    order of the Secrets' names, so that no two names collide however long the Secrets' names are). ``mode``
    as for :func:`secret_volume` (``0o444`` for a pod without an ``fsGroup``)."""
    keys: dict[str, set[str]] = {}
    for ref in refs:
        keys.setdefault(ref.name, set()).add(ref.key)
    volumes, mounts = [], []
    for index, secret in enumerate(sorted(keys)):
        name = f"{prefix}-{index}"
        volumes.append(secret_volume(name, secret, {k: k for k in sorted(keys[secret])}, mode=mode))
        mounts.append(mount(name, f"{directory}/{secret}", read_only=True))
    return SecretFiles(directory=directory, volumes=tuple(volumes), mounts=tuple(mounts))


@dataclass(frozen=True)
class ClientFiles:
    """A pod's credentials for an external service (``loki.external``, ``prometheus.external``): the Secret
    keys as read-only files (:attr:`files`: volumes and mounts for the pod) and what the client's config
    takes from them. Build with :func:`client_files`."""

    files: SecretFiles
    username: str | None
    password_file: str | None
    ca_file: str | None


def client_files(
    prefix: str,
    directory: str,
    basic_auth: ExternalBasicAuth | None,
    ca: SecretKeyRef | None,
    *,
    mode: int = 0o440,
) -> ClientFiles:
    """``basic_auth``'s password and ``ca`` mounted under ``directory`` (:func:`secret_files`, ``prefix`` and
    ``mode`` as there), with the user name and the in-pod paths a config names; all ``None`` without them."""
    files = secret_files(prefix, directory, client_secret_keys(basic_auth, ca), mode=mode)
    return ClientFiles(
        files=files,
        username=basic_auth.username if basic_auth else None,
        password_file=files.path(basic_auth.password) if basic_auth else None,
        ca_file=files.path(ca) if ca else None,
    )
