"""The stack scope (:class:`StackChart`) and the base class of every component (:class:`Component`).

A component owns its Kubernetes objects, names and labels them consistently, publishes typed endpoints and
records its connections in the stack's :class:`~vaultaio_constructs.wiring.Wiring`. Objects created through
:meth:`Component.track` are written to the component's ``area`` folder of ``dist/``.

A stack has a main namespace and a node namespace: components whose pods need host access (``placement =
Placement.NODE``: Alloy, Chrony) live in the node namespace, which alone admits privileged pods; everything
else lives in the main namespace, which enforces Pod Security ``restricted``. The labels of each namespace
are derived from the ``pod_security`` level its components declare.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import cdk8s
import constructs
import jsii
from cdk8s_plus_27 import k8s
from constructs import Construct

from vaultaio_constructs import labels as lbl
from vaultaio_constructs import versions
from vaultaio_constructs.common import (
    DEFAULT_KUBERNETES_VERSION,
    ExternalEndpoint,
    Protocol,
    Resources,
    WorkloadProps,
    check_stack_namespace,
    kubernetes_minor,
)
from vaultaio_constructs.placement import (
    Area,
    Placement,
    PodSecurity,
    default_node_namespace,
    namespace_conflicts,
    shared_namespace_problems,
)
from vaultaio_constructs.profiles import Profile, default_resources, default_storage_gib
from vaultaio_constructs.wiring import Endpoint, ExternalService, Scheme, Wiring

if TYPE_CHECKING:
    from vaultaio_constructs.network import NetworkPolicies
    from vaultaio_constructs.network_props import NetworkProps

T = TypeVar("T", bound=cdk8s.ApiObject)
TargetT = TypeVar("TargetT", bound=Endpoint | ExternalService)


@jsii.implements(constructs.IValidation)
class _FinishAtSynth:
    """Finishes a :class:`StackChart` that nobody finished when the app (or the chart) is synthesized.

    Every cdk8s synthesis path (``App.synth``, ``App.synth_yaml``, ``Chart.to_json``, ``Testing.synth``)
    validates every construct before it renders any object, so a stack whose ``finish()`` was forgotten
    still gets its deferred configuration and its NetworkPolicies, never a half-rendered, unprotected
    output. A failure is reported as a validation error naming the stack.
    """

    def __init__(self, chart: StackChart) -> None:
        self._chart = chart

    def validate(self) -> list[str]:
        if self._chart.finished:
            return []
        try:
            self._chart.finish()
        except (ValueError, RuntimeError, TypeError, KeyError) as err:
            return [f"the stack could not be finished at synth: {err}"]
        return []


class ConstructorSignature:
    """``inspect.signature(cls)`` of a construct class: its ``__init__`` parameters without ``self``.

    jsii's metaclass defines ``__call__(*args, **kwargs)``, which ``help()`` and IDEs would otherwise show
    as the class's signature. Computed on access (nothing happens at import).
    """

    def __get__(self, obj: object, owner: type | None = None) -> inspect.Signature:
        if obj is not None or owner is None:
            raise AttributeError("__signature__")  # an instance is not called
        init = next(vars(k)["__init__"] for k in owner.__mro__ if "__init__" in vars(k))
        signature = inspect.signature(init)
        return signature.replace(parameters=list(signature.parameters.values())[1:])


class StackChart(cdk8s.Chart):
    """A chart that holds one stack: its namespaces, instance name, profile and wiring.

    :class:`~vaultaio_constructs.chart.VaultAioChart` is the complete stack; people composing their own
    stack from single components create a ``StackChart`` (or nest one in their own chart), add and connect
    components, and either call :meth:`finish` last or let the synthesis finish it: ``finish()`` runs every
    component's ``finalize()``, creates the Namespaces (Pod Security labels derived from the components in
    each) and the :class:`~vaultaio_constructs.network.NetworkPolicies` from the recorded wiring.
    """

    __signature__ = ConstructorSignature()

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str = "vault-aio",
        node_namespace: str | None = None,
        instance: str = "vault-aio",
        cluster_domain: str = "cluster.local",
        storage_class: str | None = None,
        profile: Profile = Profile.SMALL,
        network: NetworkProps | None = None,
        manage_namespaces: bool = True,
        kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
    ) -> None:
        """``node_namespace`` holds the node agents (default ``<namespace>-node``); ``network`` describes the
        cluster around the stack for the NetworkPolicies; ``manage_namespaces=False`` leaves the Namespace
        objects out (namespaces created elsewhere: label them for Pod Security yourself)."""
        super().__init__(scope, id, disable_resource_name_hashes=True)
        check_stack_namespace(namespace)
        #: Oldest Kubernetes version the manifests must apply to (``1.NN``); see :meth:`api_at_least`.
        self.kubernetes_version = kubernetes_version
        self.stack_namespace = namespace
        self.node_namespace = (
            check_stack_namespace(node_namespace) if node_namespace else default_node_namespace(namespace)
        )
        problems = namespace_conflicts(
            namespace,
            self.node_namespace,
            dns_namespace=network.dns.namespace if network is not None else None,
            ingress_namespace_labels=network.ingress_controller.namespace_labels
            if network is not None
            else None,
        )
        if problems:
            raise ValueError("; ".join(problems))
        self.instance = instance
        self.cluster_domain = cluster_domain
        self.storage_class = storage_class
        self.profile = profile
        self.network = network
        self.manage_namespaces = manage_namespaces
        self.wiring = Wiring()
        self.components: list[Component] = []
        self._finished = False
        self.node.add_validation(_FinishAtSynth(self))

    def api_at_least(self, version: str) -> bool:
        """Whether every cluster the stack targets has the API of ``version`` (a field added then may be
        written)."""
        return kubernetes_minor(self.kubernetes_version) >= kubernetes_minor(version)

    @staticmethod
    def find(scope: Construct) -> StackChart:
        """The stack that ``scope`` belongs to (a StackChart, or a component inside one)."""
        if isinstance(scope, StackChart):
            return scope
        if isinstance(scope, Component):
            return scope.stack
        for ancestor in reversed(scope.node.scopes):  # a construct of the user's inside a stack
            if isinstance(ancestor, StackChart | Component):
                return StackChart.find(ancestor)
            if isinstance(ancestor, cdk8s.Chart):
                raise TypeError(
                    f"components must be created inside a StackChart (or VaultAioChart), got the cdk8s.Chart "
                    f"{ancestor.node.path!r}: a StackChart records the wiring the NetworkPolicies are "
                    "generated from and finishes itself at synth. Nest one in your chart: "
                    "stack = StackChart(self, 'vault', namespace='...'), then Vault(stack, 'Vault')"
                )
        raise TypeError(
            f"components must be created inside a StackChart (or VaultAioChart), got "
            f"{type(scope).__name__} {scope.node.path!r}, which is in no chart"
        )

    def namespace_for(self, placement: Placement) -> str:
        """The namespace components with ``placement`` live in."""
        return self.node_namespace if placement is Placement.NODE else self.stack_namespace

    @property
    def namespaces(self) -> tuple[str, ...]:
        """The stack's namespaces: the main one first, then every other one a component lives in."""
        return tuple(dict.fromkeys([self.stack_namespace, *(c.namespace for c in self.components)]))

    def pod_security(self, namespace: str) -> PodSecurity:
        """The Pod Security level ``namespace`` must admit: the most permissive its components need."""
        levels = [c.pod_security for c in self.components if c.namespace == namespace]
        return max(levels, key=lambda level: level.rank, default=PodSecurity.RESTRICTED)

    @property
    def finished(self) -> bool:
        """Whether :meth:`finish` has run (the objects and NetworkPolicies are complete)."""
        return self._finished

    def finish(self, network: NetworkProps | None = None) -> NetworkPolicies:
        """Render every component's deferred configuration, then the Namespaces and NetworkPolicies.

        Runs once: call it last, or let the synthesis call it. After this, no component may be added,
        connected or extended (the policies would not reflect it). ``network`` overrides the network
        settings given to the constructor.
        """
        from vaultaio_constructs.namespaces import Namespaces
        from vaultaio_constructs.network import NetworkPolicies

        if self._finished:
            raise RuntimeError(
                f"the stack {self.node.path!r} is already finished: finish() runs once, after every "
                "component is added and connected (VaultAioChart finishes itself: add things in extend())"
            )
        self._finished = True
        for component in list(self.components):
            component.finalize()
        network = network or self.network
        if network is not None:  # every namespace the output owns, incl. those given to a component
            problems = [
                problem
                for namespace in self.namespaces
                for problem in shared_namespace_problems(
                    f"namespace of {', '.join(c.name for c in self.components if c.namespace == namespace)}"
                    if namespace not in (self.stack_namespace, self.node_namespace)
                    else ("namespace" if namespace == self.stack_namespace else "node_namespace"),
                    namespace,
                    network.dns.namespace,
                    network.ingress_controller.namespace_labels,
                )
            ]
            if problems:
                raise ValueError("; ".join(problems))
        if self.manage_namespaces:
            Namespaces(self, "Namespaces")
        return NetworkPolicies(self, "NetworkPolicies", network)

    def register(self, component: Component) -> None:
        if self._finished and not getattr(component, "created_by_finish", False):
            raise RuntimeError(
                f"cannot add {component.name!r} to the stack {self.node.path!r}: it is already finished "
                "(its NetworkPolicies are generated); add components before finish()"
            )
        for existing in self.components:
            if existing.name == component.name:
                raise ValueError(f"a component named {component.name!r} already exists in this stack")
        self.components.append(component)

    def component(self, name: str) -> Component:
        """The component called ``name``."""
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(f"no component named {name!r}; have {[c.name for c in self.components]}")


class Component(Construct):
    """Base of every stack component.

    Subclasses set ``area`` and call ``super().__init__`` first; they create their objects through the
    helpers here so names, namespace and labels are uniform.
    """

    __signature__ = ConstructorSignature()
    area: Area = Area.SETUP
    #: Which namespace of the stack the component lives in.
    placement: Placement = Placement.MAIN
    #: The Pod Security level its pods need; its namespace is labelled to admit it (and no more).
    pod_security: PodSecurity = PodSecurity.RESTRICTED
    #: Created by :meth:`StackChart.finish` itself (Namespaces, NetworkPolicies).
    created_by_finish: bool = False

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        role: str,
        version: str | None = None,
        workload: WorkloadProps | None = None,
        namespace: str | None = None,
    ) -> None:
        """``name`` also keys the component's image in :mod:`~vaultaio_constructs.versions` and its row in
        :mod:`~vaultaio_constructs.profiles`; ``workload`` is the component's props, whose image overrides
        (tag, digest, repository) apply. Components without an image (Namespace, NetworkPolicies) pass an
        explicit ``version`` instead. ``namespace`` overrides the one its ``placement`` gives."""
        super().__init__(scope, id)
        self.stack = StackChart.find(scope)
        self._name = name
        self.role = role
        if version is None:
            image = workload or WorkloadProps()
            version = versions.version(name, image.image_tag)
            #: The pinned image (or the ``image_tag``/``image_repository`` overrides), with ``@<digest>``
            #: when one is set.
            self.image = versions.image(
                name, image.image_tag, digest=image.image_digest, repository=image.image_repository
            )
        self.version = version
        if namespace is not None:  # the output labels, default-denies and (kubectl delete -k) deletes it
            try:
                check_stack_namespace(namespace)
            except ValueError as err:
                raise ValueError(f"component {name!r}: namespace {err}") from None
        self.namespace = namespace or self.stack.namespace_for(self.placement)
        self.instance = self.stack.instance
        self._selector = lbl.selector_labels(name, self.instance)
        self.labels = lbl.standard_labels(name=name, instance=self.instance, component=role, version=version)
        self._objects: list[tuple[Area, cdk8s.ApiObject]] = []
        self.stack.register(self)

    # -- identity -------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """Stable, readable name: the Service, workload and ServiceAccount are all called this."""
        return self._name

    @property
    def selector(self) -> Mapping[str, str]:
        """Labels selecting this component's pods (no ``version``)."""
        return dict(self._selector)

    @property
    def objects(self) -> Sequence[tuple[Area, cdk8s.ApiObject]]:
        """Every Kubernetes object this component created, with the ``dist/`` folder it goes to."""
        return tuple(self._objects)

    def track(self, obj: T, area: Area | None = None) -> T:
        """Record ``obj`` as part of this component (written to ``area``, default the component's)."""
        self._objects.append((area or self.area, obj))
        return obj

    def meta(
        self,
        name: str | None = None,
        *,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        namespaced: bool = True,
        namespace: str | None = None,
    ) -> k8s.ObjectMeta:
        """Metadata with the standard labels; ``name`` defaults to the component's name, ``namespace`` to
        the component's."""
        return k8s.ObjectMeta(
            name=name or self.name,
            namespace=(namespace or self.namespace) if namespaced else None,
            labels={**self.labels, **(labels or {})},
            annotations=dict(annotations) if annotations else None,
        )

    # -- wiring ---------------------------------------------------------------------------------
    def endpoint(
        self,
        *,
        port_name: str,
        port: int,
        scheme: Scheme = Scheme.HTTP,
        protocol: Protocol = Protocol.TCP,
        path: str = "",
        service: str | None = None,
        per_pod: bool = False,
    ) -> Endpoint:
        """Describe one port this component serves through ``service`` (default: its own name)."""
        return Endpoint(
            provider=self.name,
            selector=tuple(sorted(self._selector.items())),
            service=service or self.name,
            namespace=self.namespace,
            cluster_domain=self.stack.cluster_domain,
            port_name=port_name,
            port=port,
            protocol=protocol,
            scheme=scheme,
            path=path,
            per_pod=per_pod,
        )

    def connect(self, target: TargetT, *, reason: str) -> TargetT:
        """Let this component reach ``target`` (an endpoint of a component of this stack, in any of its
        namespaces, or an :class:`~vaultaio_constructs.wiring.ExternalService`); returns it for use in this
        component's config."""
        if isinstance(target, Endpoint):
            provider = next((c for c in self.stack.components if c.name == target.provider), None)
            if provider is None or provider.namespace != target.namespace:
                raise ValueError(
                    f"{self.name}: endpoint {target.service}:{target.port_name} (namespace "
                    f"{target.namespace!r}) is not served by a component of this stack: connect to a "
                    "component of this stack, or describe the service as an ExternalService (URL and how "
                    "to reach it)"
                )
        else:
            labels = dict(target.namespace_labels or ())
            own = set(self.stack.namespaces) & {labels.get("kubernetes.io/metadata.name", "")}
            if len(labels) == 1 and own:
                raise ValueError(
                    f"{self.name}: external service {target.name!r} selects the stack's own namespace "
                    f"{own.pop()!r}, whose default-deny policy would block its pods: an external service "
                    "must run in another namespace"
                )
        return self.stack.wiring.connect(self, target, reason=reason)

    def connect_external(self, destination: ExternalEndpoint, *, reason: str) -> ExternalEndpoint:
        """Let this component reach a destination outside the cluster."""
        return self.stack.wiring.connect_external(self, destination, reason=reason)

    def connect_kube_api(self, *, reason: str) -> None:
        """Let this component call the Kubernetes API server."""
        self.stack.wiring.connect_kube_api(self, reason=reason)

    def expose_to_ingress(self, endpoint: Endpoint, *, reason: str) -> None:
        """Let the ingress controller reach ``endpoint``."""
        self.stack.wiring.expose_to_ingress(endpoint, reason=reason)

    def expose_to_namespaces(
        self,
        endpoint: Endpoint,
        *,
        source: str,
        namespace_labels: Mapping[str, str],
        pod_labels: Mapping[str, str] | None = None,
        reason: str,
    ) -> None:
        """Let pods of other namespaces (selected by labels) reach ``endpoint``."""
        self.stack.wiring.expose_to_namespaces(
            endpoint, source=source, namespace_labels=namespace_labels, pod_labels=pod_labels, reason=reason
        )

    def resolve_resources(self, override: Resources | None, container: str | None = None) -> Resources:
        """``override``, or the stack profile's default for ``container`` (default: this component)."""
        return override or default_resources(self.stack.profile, container or self.name)

    def resolve_storage_gib(self, override: int | None) -> int:
        """``override``, or the stack profile's default PVC size for this component."""
        return override or default_storage_gib(self.stack.profile, self.name)

    def finalize(self) -> None:
        """Render configuration that depends on later additions (scrape targets, dashboards...).

        Called once by :meth:`StackChart.finish` before the NetworkPolicies are generated; the default
        does nothing.
        """

    # -- helpers --------------------------------------------------------------------------------
    def to_manifests(self) -> list[tuple[Area, dict[str, Any]]]:
        """Synthesized objects of this component (resolved JSON), in creation order."""
        return [(area, obj.to_json()) for area, obj in self._objects]
