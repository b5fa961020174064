"""The wiring model: typed endpoints and the recorded edges between components.

A component publishes :class:`Endpoint` objects for the ports it serves. A consumer asks the wiring for a
connection (:meth:`Wiring.connect`); the call returns the endpoint, whose ``url`` / ``address`` the
consumer writes into its configuration, and records an :class:`Edge`. The NetworkPolicies are generated
from the recorded edges only (see :mod:`vaultaio_constructs.network`), so a URL in a config and the
policy that lets its traffic through come from the same call and cannot disagree.

Destinations outside the cluster are :class:`~vaultaio_constructs.common.ExternalEndpoint` values from
settings (NTP servers, notification receivers, KMS); the Kubernetes API server and the ingress controller
are their own edge kinds because they are not pods of this stack.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol as TypingProtocol

from vaultaio_constructs.common import ExternalEndpoint, Protocol


class Scheme(StrEnum):
    """How a consumer talks to an endpoint; ``url`` uses it as the URL scheme."""

    HTTP = "http"
    HTTPS = "https"
    GRPC = "grpc"
    TCP = "tcp"
    NTP = "ntp"


class Workload(TypingProtocol):
    """Anything with pods the wiring can select: a name and the labels that select its pods."""

    @property
    def name(self) -> str: ...

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


@dataclass(frozen=True)
class Edge:
    """``consumer`` may open connections to ``endpoint``."""

    consumer: str
    consumer_selector: tuple[tuple[str, str], ...]
    endpoint: Endpoint
    reason: str


@dataclass(frozen=True)
class ExternalEdge:
    """``consumer`` may reach a destination outside the cluster."""

    consumer: str
    consumer_selector: tuple[tuple[str, str], ...]
    destination: ExternalEndpoint
    reason: str


@dataclass(frozen=True)
class KubeApiEdge:
    """``consumer`` calls the Kubernetes API (discovery, service registration)."""

    consumer: str
    consumer_selector: tuple[tuple[str, str], ...]
    reason: str


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


def _selector(workload: Workload) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(workload.selector.items()))


@dataclass
class Wiring:
    """Records every connection in one stack; the single source for NetworkPolicies."""

    namespace: str
    edges: list[Edge] = field(default_factory=list)
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

    def connect(self, consumer: Workload, endpoint: Endpoint, *, reason: str) -> Endpoint:
        """Allow ``consumer`` to reach ``endpoint`` and return the endpoint for the consumer's config."""
        self._check_open(f"connect({consumer.name} -> {endpoint.provider})")
        if endpoint.namespace != self.namespace:
            raise ValueError(
                f"endpoint {endpoint.service} is in namespace {endpoint.namespace!r}, "
                f"this stack is {self.namespace!r}"
            )
        edge = Edge(consumer.name, _selector(consumer), endpoint, reason)
        if edge not in self.edges:
            self.edges.append(edge)
        return endpoint

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
        self.external_edges.append(ExternalEdge(consumer.name, _selector(consumer), destination, reason))
        return destination

    def connect_kube_api(self, consumer: Workload, *, reason: str) -> None:
        """Allow ``consumer`` egress to the Kubernetes API server (CIDRs and ports from network settings)."""
        self._check_open(f"connect_kube_api({consumer.name})")
        if not any(e.consumer == consumer.name for e in self.kube_api_edges):
            self.kube_api_edges.append(KubeApiEdge(consumer.name, _selector(consumer), reason))

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
