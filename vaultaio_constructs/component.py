"""The stack scope (:class:`StackChart`) and the base class of every component (:class:`Component`).

A component owns its Kubernetes objects, names and labels them consistently, publishes typed endpoints and
records its connections in the stack's :class:`~vaultaio_constructs.wiring.Wiring`. Objects created through
:meth:`Component.track` are written to the component's ``area`` folder of ``dist/``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

import cdk8s
from cdk8s_plus_27 import k8s
from constructs import Construct

from vaultaio_constructs import labels as lbl
from vaultaio_constructs import versions
from vaultaio_constructs.common import (
    DEFAULT_KUBERNETES_VERSION,
    ExternalEndpoint,
    Protocol,
    Resources,
    kubernetes_minor,
)
from vaultaio_constructs.profiles import Profile, default_resources, default_storage_gib
from vaultaio_constructs.wiring import Endpoint, Scheme, Wiring

if TYPE_CHECKING:
    from vaultaio_constructs.network import NetworkPolicies, NetworkProps

T = TypeVar("T", bound=cdk8s.ApiObject)


class Area(StrEnum):
    """Folders of ``dist/``, mirroring the specification's ``manifests/`` layout."""

    SETUP = "setup"
    VAULT = "vault"
    MONITORING = "monitoring"
    LOGGING = "logging"
    TRACING = "tracing"
    NTP = "ntp"
    NETWORK_POLICIES = "network-policies"
    DASHBOARDS = "dashboards"


class StackChart(cdk8s.Chart):
    """A chart that holds one stack: its namespace, instance name, profile and wiring.

    :class:`~vaultaio_constructs.chart.VaultAioChart` is the complete stack; people composing their own
    stack from single components create a ``StackChart``, add and connect components, then call
    :meth:`finish` last (it runs every component's ``finalize()`` and creates the
    :class:`~vaultaio_constructs.network.NetworkPolicies` from the recorded wiring).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str = "vault-aio",
        instance: str = "vault-aio",
        cluster_domain: str = "cluster.local",
        storage_class: str | None = None,
        profile: Profile = Profile.SMALL,
        kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
    ) -> None:
        super().__init__(scope, id, disable_resource_name_hashes=True)
        #: Oldest Kubernetes version the manifests must apply to (``1.NN``); see :meth:`api_at_least`.
        self.kubernetes_version = kubernetes_version
        self.stack_namespace = namespace
        self.instance = instance
        self.cluster_domain = cluster_domain
        self.storage_class = storage_class
        self.profile = profile
        self.wiring = Wiring(namespace=namespace)
        self.components: list[Component] = []

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
        raise TypeError(
            f"components must be created inside a StackChart (or VaultAioChart) or another component, "
            f"got {type(scope).__name__}"
        )

    def finish(self, network: NetworkProps | None = None) -> NetworkPolicies:
        """Render every component's deferred configuration, then the NetworkPolicies; call once, last.

        After this, no component may be connected or extended (the policies would not reflect it).
        """
        from vaultaio_constructs.network import NetworkPolicies

        for component in list(self.components):
            component.finalize()
        return NetworkPolicies(self, "NetworkPolicies", network)

    def register(self, component: Component) -> None:
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

    area: Area = Area.SETUP

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        role: str,
        version: str | None = None,
        image_tag: str | None = None,
        image_digest: str | None = None,
        image_repository: str | None = None,
    ) -> None:
        """``name`` also keys the component's image in :mod:`~vaultaio_constructs.versions` and its row in
        :mod:`~vaultaio_constructs.profiles`; components without an image (Namespace, NetworkPolicies)
        pass an explicit ``version`` instead."""
        super().__init__(scope, id)
        self.stack = StackChart.find(scope)
        self._name = name
        self.role = role
        if version is None:
            version = versions.version(name, image_tag)
            #: The pinned image (or the ``image_tag``/``image_repository`` overrides), with ``@<digest>``
            #: when one is set.
            self.image = versions.image(name, image_tag, digest=image_digest, repository=image_repository)
        self.version = version
        self.namespace = self.stack.stack_namespace
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
    ) -> k8s.ObjectMeta:
        """Metadata with the standard labels; ``name`` defaults to the component's name."""
        return k8s.ObjectMeta(
            name=name or self.name,
            namespace=self.namespace if namespaced else None,
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

    def connect(self, endpoint: Endpoint, *, reason: str) -> Endpoint:
        """Let this component reach ``endpoint``; returns it for use in this component's config."""
        return self.stack.wiring.connect(self, endpoint, reason=reason)

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
