"""The wiring model: typed endpoints and the recorded edges between components.

A component publishes :class:`Endpoint` objects for the ports it serves. A consumer asks the wiring for a
connection (:meth:`Wiring.connect`); the call returns the endpoint, whose ``url`` / ``address`` the
consumer writes into its configuration, and records an :class:`Edge`. The NetworkPolicies are generated
from the recorded edges only (see :mod:`vaultaio_constructs.network`), so a URL in a config and the
policy that lets its traffic through come from the same call and cannot disagree.

Components may live in different namespaces of one stack (the node agents have their own): an edge
records both sides' namespaces, and the generated policies select the peer in another namespace by its
namespace name as well as its pod labels.

Services the stack uses but does not run (an existing Loki, Prometheus or Alertmanager that replaces a
disabled component) are :class:`ExternalService` values: ``connect`` returns them like an endpoint (their
``url`` goes into the consumer's config) and records an egress-only edge to the pods or networks they are
described by. Other destinations outside the cluster are :class:`~vaultaio_constructs.common.ExternalEndpoint`
values from settings (NTP servers, notification receivers, KMS); the Kubernetes API server and the ingress
controller are their own edge kinds because they are not pods of this stack.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar
from typing import Protocol as TypingProtocol
from urllib.parse import urlsplit, urlunsplit

from vaultaio_constructs.common import ExternalEndpoint, ExternalServiceProps, Protocol


class Scheme(StrEnum):
    """How a consumer talks to an endpoint; ``url`` uses it as the URL scheme."""

    HTTP = "http"
    HTTPS = "https"
    GRPC = "grpc"
    TCP = "tcp"
    NTP = "ntp"


class Workload(TypingProtocol):
    """Anything with pods the wiring can select: a name, its namespace and the labels that select its pods."""

    @property
    def name(self) -> str: ...

    @property
    def namespace(self) -> str: ...

    @property
    def selector(self) -> Mapping[str, str]: ...


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """One port a component serves, reachable through one of its Services.

    ``per_pod`` endpoints are served by a headless Service that publishes every pod (including not-ready
    ones) so consumers can address pods one by one (raft peers, Prometheus DNS discovery).
    """

    #: Name of the providing component (``vault``, ``prometheus``...).
    provider: str
    #: Labels selecting the provider's pods (used as the NetworkPolicy peer).
    selector: tuple[tuple[str, str], ...]
    #: Service name the consumer addresses.
    service: str
    namespace: str
    cluster_domain: str
    #: Port name on the Service and the container.
    port_name: str
    port: int
    protocol: Protocol = Protocol.TCP
    scheme: Scheme = Scheme.HTTP
    #: Path prefix for HTTP endpoints ("" for none).
    path: str = ""
    per_pod: bool = False
    #: One pod of a per-pod endpoint (``None``: the Service itself); see :meth:`for_pod`.
    pod: str | None = None

    @property
    def host(self) -> str:
        """The Service's in-cluster DNS name (``vault.vault-aio.svc``); a SAN on Vault's certificate.

        For an endpoint of one pod (:meth:`for_pod`), that pod's name (``vault-0.vault-internal...``).
        """
        service = f"{self.service}.{self.namespace}.svc"
        return f"{self.pod}.{service}" if self.pod is not None else service

    @property
    def fqdn(self) -> str:
        """Fully qualified name, for resolvers that do not use the pod's search domains."""
        return f"{self.host}.{self.cluster_domain}"

    @property
    def address(self) -> str:
        """``host:port`` for configs that take an address rather than a URL."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """``scheme://host:port/path``."""
        return f"{self.scheme}://{self.host}:{self.port}{self.path}"

    def with_path(self, path: str) -> Endpoint:
        """The same endpoint with another path (``/api/v1/write`` on Prometheus' web port)."""
        if path and not path.startswith("/"):
            raise ValueError(f"endpoint path must start with '/', got {path!r}")
        return dataclasses.replace(self, path=path)

    def for_pod(self, pod: str) -> Endpoint:
        """The same port on one pod behind the per-pod Service (clients that must reach every replica:
        alert senders, remote-write to an HA pair). ``connect`` records the same policy edge."""
        self.pod_host(pod)
        return dataclasses.replace(self, pod=pod)

    def pod_host(self, pod: str) -> str:
        """DNS name of one pod behind a per-pod (headless) Service: ``vault-0.vault-internal.ns.svc``."""
        if not self.per_pod:
            raise ValueError(
                f"endpoint {self.service}:{self.port_name} is not per-pod; pods have no DNS name"
            )
        return f"{pod}.{self.service}.{self.namespace}.svc"


_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, kw_only=True)
class ExternalService:
    """A service the stack uses but does not run, reachable at ``url``.

    Inside the cluster it is the pods matching ``pod_labels`` in namespaces matching ``namespace_labels``;
    outside it, the networks ``cidrs``. ``ports`` are where the traffic arrives at those pods or hosts
    (the URL's port unless a Service maps it). Build it from settings with :meth:`from_props`; connect to
    it like to an :class:`Endpoint` (``component.connect(service, reason=...)``): the consumer gets an
    egress rule to exactly those peers and ports, and nothing on the other side changes (it is not ours).
    """

    #: Short name, used in the NetworkPolicy name (``allow-<consumer>-to-<name>``).
    name: str
    #: Base URL the consumer's configuration uses (``http://loki-gateway.logging.svc``).
    url: str
    namespace_labels: tuple[tuple[str, str], ...] | None = None
    pod_labels: tuple[tuple[str, str], ...] = ()
    cidrs: tuple[str, ...] = ()
    #: Ports at the peer; empty: the URL's port.
    peer_ports: tuple[int, ...] = ()
    protocol: Protocol = Protocol.TCP

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(
                f"external service {self.name!r}: {self.url!r} is not an http(s) URL with a host"
            )
        if (self.namespace_labels is None) == (not self.cidrs):
            raise ValueError(
                f"external service {self.name!r} needs either namespace labels (inside the cluster) or "
                "CIDRs (outside it)"
            )
        if self.namespace_labels is not None and not self.namespace_labels:
            raise ValueError(
                f"external service {self.name!r}: empty namespace labels would select every namespace"
            )

    @classmethod
    def from_props(cls, name: str, props: ExternalServiceProps) -> ExternalService:
        """The service described by ``props`` (a ``<component>.external`` setting), called ``name``."""
        return cls(
            name=name,
            url=props.url,
            namespace_labels=(
                tuple(sorted(props.namespace_labels.items())) if props.namespace_labels is not None else None
            ),
            pod_labels=tuple(sorted(props.pod_labels.items())),
            cidrs=tuple(props.cidrs),
            peer_ports=tuple(props.ports),
        )

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        """The port the URL names (80 / 443 when it names none)."""
        return urlsplit(self.url).port or _DEFAULT_PORTS[self.scheme]

    @property
    def path(self) -> str:
        return urlsplit(self.url).path.rstrip("/")

    @property
    def address(self) -> str:
        """``host:port`` for configs that take an address rather than a URL."""
        return f"{self.host}:{self.port}"

    @property
    def ports(self) -> tuple[int, ...]:
        """Ports the NetworkPolicy allows at the peer."""
        return self.peer_ports or (self.port,)

    @property
    def in_cluster(self) -> bool:
        return self.namespace_labels is not None

    def with_path(self, path: str) -> ExternalService:
        """The same service with ``path`` appended to the URL's path (``/loki/api/v1/push``)."""
        if path and not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        parts = urlsplit(self.url)
        return dataclasses.replace(
            self, url=urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + path, "", ""))
        )

    def with_origin_path(self, path: str) -> ExternalService:
        """The same service with its URL's path replaced by ``path`` (an absolute path on the same origin)."""
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        parts = urlsplit(self.url)
        return dataclasses.replace(self, url=urlunsplit((parts.scheme, parts.netloc, path, "", "")))


#: What a consumer may connect to: a port of a component of this stack, or a service outside it.
Target = Endpoint | ExternalService
T = TypeVar("T", bound=Endpoint | ExternalService)


@dataclass(frozen=True, kw_only=True)
class ConsumerEdge:
    """What every outgoing connection records of its consumer: the workload's name, namespace and pod
    selector (the egress policy's subject), and why it connects."""

    consumer: str
    consumer_namespace: str
    consumer_selector: tuple[tuple[str, str], ...]
    reason: str

    @staticmethod
    def of(consumer: Workload, reason: str) -> dict[str, Any]:
        """The consumer fields for ``consumer``, as keyword arguments of an edge."""
        return {
            "consumer": consumer.name,
            "consumer_namespace": consumer.namespace,
            "consumer_selector": tuple(sorted(consumer.selector.items())),
            "reason": reason,
        }


@dataclass(frozen=True, kw_only=True)
class Edge(ConsumerEdge):
    """``consumer`` (in ``consumer_namespace``) may open connections to ``endpoint``."""

    endpoint: Endpoint

    @property
    def cross_namespace(self) -> bool:
        return self.consumer_namespace != self.endpoint.namespace


@dataclass(frozen=True, kw_only=True)
class ServiceEdge(ConsumerEdge):
    """``consumer`` may open connections to an :class:`ExternalService` (egress on the consumer only)."""

    service: ExternalService


@dataclass(frozen=True, kw_only=True)
class ExternalEdge(ConsumerEdge):
    """``consumer`` may reach a destination outside the cluster."""

    destination: ExternalEndpoint


@dataclass(frozen=True, kw_only=True)
class KubeApiEdge(ConsumerEdge):
    """``consumer`` calls the Kubernetes API (discovery, service registration)."""


@dataclass(frozen=True)
class IngressEdge:
    """Pods of other namespaces may reach ``endpoint``.

    ``source`` names them in the policy name. With no ``namespace_labels`` they are the ingress
    controller selected by the network settings (an Ingress routes to ``endpoint``); otherwise they are
    the pods matching ``pod_labels`` (any pod when empty) in namespaces matching ``namespace_labels``.
    """

    endpoint: Endpoint
    reason: str
    source: str = "ingress-controller"
    namespace_labels: tuple[tuple[str, str], ...] | None = None
    pod_labels: tuple[tuple[str, str], ...] = ()


@dataclass
class Wiring:
    """Records every connection in one stack; the single source for NetworkPolicies."""

    edges: list[Edge] = field(default_factory=list)
    service_edges: list[ServiceEdge] = field(default_factory=list)
    external_edges: list[ExternalEdge] = field(default_factory=list)
    kube_api_edges: list[KubeApiEdge] = field(default_factory=list)
    ingress_edges: list[IngressEdge] = field(default_factory=list)
    #: Set once the NetworkPolicies have been generated; later connections would be unenforced.
    frozen: bool = False

    def _check_open(self, what: str) -> None:
        if self.frozen:
            raise RuntimeError(
                f"{what} after the network policies were generated: connect components before "
                "creating the NetworkPolicies (StackChart.finish)"
            )

    def connect(self, consumer: Workload, target: T, *, reason: str) -> T:
        """Allow ``consumer`` to reach ``target`` and return it for the consumer's config.

        An :class:`Endpoint` (a component of this stack, in any of its namespaces) gets a policy on both
        sides; an :class:`ExternalService` an egress policy on the consumer only.
        """
        if isinstance(target, ExternalService):
            self._check_open(f"connect({consumer.name} -> {target.name})")
            service_edge = ServiceEdge(**ConsumerEdge.of(consumer, reason), service=target)
            if service_edge not in self.service_edges:
                self.service_edges.append(service_edge)
            return target
        self._check_open(f"connect({consumer.name} -> {target.provider})")
        edge = Edge(**ConsumerEdge.of(consumer, reason), endpoint=target)
        if edge not in self.edges:
            self.edges.append(edge)
        return target

    def connect_external(
        self, consumer: Workload, destination: ExternalEndpoint, *, reason: str
    ) -> ExternalEndpoint:
        """Allow ``consumer`` egress to a destination outside the cluster."""
        self._check_open(f"connect_external({consumer.name} -> {destination.name})")
        for existing in self.external_edges:
            if existing.consumer == consumer.name and existing.destination.name == destination.name:
                if existing.destination == destination:
                    return destination
                raise ValueError(
                    f"{consumer.name} already has an external endpoint named {destination.name!r}: "
                    "give each external endpoint a unique name"
                )
        self.external_edges.append(ExternalEdge(**ConsumerEdge.of(consumer, reason), destination=destination))
        return destination

    def connect_kube_api(self, consumer: Workload, *, reason: str) -> None:
        """Allow ``consumer`` egress to the Kubernetes API server (CIDRs and ports from network settings)."""
        self._check_open(f"connect_kube_api({consumer.name})")
        if not any(e.consumer == consumer.name for e in self.kube_api_edges):
            self.kube_api_edges.append(KubeApiEdge(**ConsumerEdge.of(consumer, reason)))

    def expose_to_ingress(self, endpoint: Endpoint, *, reason: str) -> None:
        """Allow the ingress controller (selected by network settings) to reach ``endpoint``."""
        self._check_open(f"expose_to_ingress({endpoint.provider})")
        edge = IngressEdge(endpoint, reason)
        if edge not in self.ingress_edges:
            self.ingress_edges.append(edge)

    def expose_to_namespaces(
        self,
        endpoint: Endpoint,
        *,
        source: str,
        namespace_labels: Mapping[str, str],
        pod_labels: Mapping[str, str] | None = None,
        reason: str,
    ) -> None:
        """Allow pods of other namespaces (selected by labels) to reach ``endpoint``."""
        self._check_open(f"expose_to_namespaces({endpoint.provider} <- {source})")
        if not namespace_labels:
            raise ValueError(
                f"clients {source!r} of {endpoint.provider} need namespace labels: an empty selector "
                "would admit every namespace"
            )
        edge = IngressEdge(
            endpoint,
            reason,
            source=source,
            namespace_labels=tuple(sorted(namespace_labels.items())),
            pod_labels=tuple(sorted((pod_labels or {}).items())),
        )
        if edge not in self.ingress_edges:
            self.ingress_edges.append(edge)
