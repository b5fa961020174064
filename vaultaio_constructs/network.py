"""NetworkPolicies derived from the wiring: default deny, DNS, and one allow per recorded edge.

Nothing here names a component, a port or a host: every rule comes from an edge recorded by
:meth:`~vaultaio_constructs.component.Component.connect` (and its external / API-server / ingress
variants), so adding a connection in a component's code is the only way to open traffic.

Each policy lives in the namespace of the pods it selects. In every namespace of the stack:

* ``default-deny-all``: every pod, Ingress and Egress, no rules.
* ``allow-dns``: every pod may query the cluster DNS (UDP and TCP 53) in its namespace.

And for the recorded edges:

* ``allow-<consumer>-to-<provider>`` (egress on the consumer) and ``allow-<provider>-from-<consumer>``
  (ingress on the provider) for each wired pair, on the provider's ports only. When the two live in
  different namespaces of the stack, each side's peer is selected by its namespace's name
  (``kubernetes.io/metadata.name``) and its pod labels.
* ``allow-<consumer>-to-<service>`` for each external service a consumer uses (the pods of another
  namespace, or IP blocks, it is described by): egress only, the other side is not part of the stack.
* ``allow-<consumer>-to-<external>`` for each external endpoint (IP blocks from settings).
* ``allow-<consumer>-to-kube-apiserver`` for pods that call the API (CIDRs/ports from settings).
* ``allow-<provider>-from-ingress-controller`` for endpoints routed by an Ingress or opened to the ingress
  controller (Alloy's OTLP receivers), and ``allow-<provider>-from-<source>`` for clients in other
  namespaces selected by labels (OTLP senders).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from cdk8s_plus_27 import k8s
from constructs import Construct

from vaultaio_constructs import kube
from vaultaio_constructs.common import Protocol
from vaultaio_constructs.component import Component
from vaultaio_constructs.network_props import NetworkProps
from vaultaio_constructs.placement import NAMESPACE_NAME_LABEL, Area
from vaultaio_constructs.wiring import Edge, Endpoint, IngressEdge, ServiceEdge
from vaultaio_constructs.workload import int_or_string

REASON_ANNOTATION = "vault-aio.io/reason"


def _ports(endpoints: Sequence[Endpoint]) -> list[k8s.NetworkPolicyPort]:
    unique = sorted({(e.port, str(e.protocol)) for e in endpoints})
    return [k8s.NetworkPolicyPort(port=int_or_string(p), protocol=proto) for p, proto in unique]


def _labels(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    return dict(pairs)


def _peer(pod_labels: Mapping[str, str], namespace: str | None) -> k8s.NetworkPolicyPeer:
    """Pods with ``pod_labels`` in the policy's own namespace, or in ``namespace`` (another one)."""
    return k8s.NetworkPolicyPeer(
        namespace_selector=(
            k8s.LabelSelector(match_labels={NAMESPACE_NAME_LABEL: namespace}) if namespace else None
        ),
        pod_selector=k8s.LabelSelector(match_labels=dict(pod_labels)),
    )


def _service_rule(edges: Sequence[ServiceEdge]) -> list[k8s.NetworkPolicyEgressRule]:
    """One egress rule per distinct peer of an external service (a service may have two: Tempo's query
    frontend and its distributor)."""
    by_peer: dict[tuple[object, ...], set[tuple[int, str]]] = defaultdict(set)
    for edge in edges:
        svc = edge.service
        key = (svc.namespace_labels, svc.pod_labels, svc.cidrs)
        by_peer[key] |= {(p, str(svc.protocol)) for p in svc.ports}
    rules = []
    for (ns_labels, pod_labels, cidrs), ports in by_peer.items():
        if ns_labels is not None:
            assert isinstance(ns_labels, tuple) and isinstance(pod_labels, tuple)
            peers = [
                k8s.NetworkPolicyPeer(
                    namespace_selector=k8s.LabelSelector(match_labels=_labels(ns_labels)),
                    pod_selector=k8s.LabelSelector(match_labels=_labels(pod_labels)) if pod_labels else None,
                )
            ]
        else:
            assert isinstance(cidrs, tuple)
            peers = [k8s.NetworkPolicyPeer(ip_block=k8s.IpBlock(cidr=c)) for c in cidrs]
        rules.append(
            k8s.NetworkPolicyEgressRule(
                to=peers,
                ports=[
                    k8s.NetworkPolicyPort(port=int_or_string(p), protocol=proto) for p, proto in sorted(ports)
                ],
            )
        )
    return rules


class NetworkPolicies(Component):
    """All NetworkPolicies of one stack, generated from its wiring (``StackChart.finish()`` creates it, after
    every component has been finalized). Each policy is created in the namespace of the pods it selects."""

    area = Area.NETWORK_POLICIES
    created_by_finish = True

    def __init__(self, scope: Construct, id: str, props: NetworkProps | None = None) -> None:
        """Render the stack's wiring into NetworkPolicies; :meth:`StackChart.finish` creates this once,
        after every component is connected (``props``: the cluster around the stack, ``network`` in the
        settings)."""
        super().__init__(scope, id, name="network-policies", role="network-policy", version="1")
        props = props or NetworkProps()
        wiring = self.stack.wiring
        #: ``(namespace, name)`` of every policy created.
        self.policies: list[tuple[str, str]] = []

        dns_peer = k8s.NetworkPolicyPeer(
            namespace_selector=k8s.LabelSelector(match_labels={NAMESPACE_NAME_LABEL: props.dns.namespace}),
            pod_selector=k8s.LabelSelector(match_labels=dict(props.dns.pod_labels)),
        )
        dns_ports = [
            k8s.NetworkPolicyPort(port=int_or_string(props.dns.port), protocol=p)
            for p in (str(Protocol.UDP), str(Protocol.TCP))
        ]
        for namespace in self.stack.namespaces:
            self._policy(
                "default-deny-all",
                namespace,
                {},
                ingress=[],
                egress=[],
                reason="deny everything not allowed below",
            )
            self._policy(
                "allow-dns",
                namespace,
                {},
                egress=[k8s.NetworkPolicyEgressRule(to=[dns_peer], ports=dns_ports)],
                reason="name resolution for every pod, to the cluster DNS only",
            )

        pairs: dict[tuple[str, str], list[Edge]] = defaultdict(list)
        for edge in wiring.edges:
            pairs[(edge.consumer, edge.endpoint.provider)].append(edge)
        for (consumer, provider), edges in pairs.items():
            first = edges[0]
            endpoints = [e.endpoint for e in edges]
            reason = "; ".join(dict.fromkeys(e.reason for e in edges))
            provider_sel = _labels(first.endpoint.selector)
            consumer_sel = _labels(first.consumer_selector)
            consumer_ns, provider_ns = first.consumer_namespace, first.endpoint.namespace
            across = consumer_ns != provider_ns
            self._policy(
                f"allow-{consumer}-to-{provider}",
                consumer_ns,
                consumer_sel,
                egress=[
                    k8s.NetworkPolicyEgressRule(
                        to=[_peer(provider_sel, provider_ns if across else None)], ports=_ports(endpoints)
                    )
                ],
                reason=reason,
            )
            self._policy(
                f"allow-{provider}-from-{consumer}",
                provider_ns,
                provider_sel,
                ingress=[
                    k8s.NetworkPolicyIngressRule(
                        from_=[_peer(consumer_sel, consumer_ns if across else None)], ports=_ports(endpoints)
                    )
                ],
                reason=reason,
            )

        services: dict[tuple[str, str], list[ServiceEdge]] = defaultdict(list)
        for service_edge in wiring.service_edges:
            services[(service_edge.consumer, service_edge.service.name)].append(service_edge)
        for (consumer, service), service_edges in services.items():
            first_service = service_edges[0]
            self._policy(
                f"allow-{consumer}-to-{service}",
                first_service.consumer_namespace,
                _labels(first_service.consumer_selector),
                egress=_service_rule(service_edges),
                reason="; ".join(dict.fromkeys(e.reason for e in service_edges)),
            )

        for ext in wiring.external_edges:
            d = ext.destination
            self._policy(
                f"allow-{ext.consumer}-to-{d.name}",
                ext.consumer_namespace,
                _labels(ext.consumer_selector),
                egress=[
                    k8s.NetworkPolicyEgressRule(
                        to=[k8s.NetworkPolicyPeer(ip_block=k8s.IpBlock(cidr=c)) for c in d.cidrs],
                        ports=[k8s.NetworkPolicyPort(port=int_or_string(d.port), protocol=str(d.protocol))],
                    )
                ],
                reason=ext.reason,
            )

        for api in wiring.kube_api_edges:
            self._policy(
                f"allow-{api.consumer}-to-kube-apiserver",
                api.consumer_namespace,
                _labels(api.consumer_selector),
                egress=[
                    k8s.NetworkPolicyEgressRule(
                        to=[
                            k8s.NetworkPolicyPeer(ip_block=k8s.IpBlock(cidr=c)) for c in props.kube_api.cidrs
                        ],
                        ports=[
                            k8s.NetworkPolicyPort(port=int_or_string(p), protocol="TCP")
                            for p in sorted(set(props.kube_api.ports))
                        ],
                    )
                ],
                reason=api.reason,
            )

        by_source: dict[tuple[str, str], list[IngressEdge]] = defaultdict(list)
        for ing in wiring.ingress_edges:
            by_source[(ing.endpoint.provider, ing.source)].append(ing)
        ic = props.ingress_controller
        for (provider, source), edges_in in by_source.items():
            first_in = edges_in[0]
            if first_in.namespace_labels is None:
                ns_labels, pod_labels = dict(ic.namespace_labels), dict(ic.pod_labels or {})
            else:
                ns_labels, pod_labels = _labels(first_in.namespace_labels), _labels(first_in.pod_labels)
            if not ns_labels:  # the settings refuse it; props built around validation must not open it either
                raise ValueError(
                    f"allow-{provider}-from-{source}: an empty namespace selector would admit every namespace"
                )
            peer = k8s.NetworkPolicyPeer(
                namespace_selector=k8s.LabelSelector(match_labels=ns_labels),
                pod_selector=k8s.LabelSelector(match_labels=pod_labels) if pod_labels else None,
            )
            self._policy(
                f"allow-{provider}-from-{source}",
                first_in.endpoint.namespace,
                _labels(first_in.endpoint.selector),
                ingress=[
                    k8s.NetworkPolicyIngressRule(from_=[peer], ports=_ports([e.endpoint for e in edges_in]))
                ],
                reason="; ".join(dict.fromkeys(e.reason for e in edges_in)),
            )
        wiring.frozen = True

    def _policy(
        self,
        name: str,
        namespace: str,
        pod_labels: Mapping[str, str],
        *,
        reason: str,
        ingress: list[k8s.NetworkPolicyIngressRule] | None = None,
        egress: list[k8s.NetworkPolicyEgressRule] | None = None,
    ) -> None:
        if (namespace, name) in self.policies:
            raise ValueError(
                f"two network policies would be named {name!r} in namespace {namespace!r}: external "
                "endpoint and service names must differ from component names"
            )
        self.policies.append((namespace, name))
        types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None]
        self.track(
            kube.KubeNetworkPolicy(
                self,
                f"{namespace}--{name}" if namespace != self.namespace else name,
                metadata=self.meta(name, namespace=namespace, annotations={REASON_ANNOTATION: reason}),
                spec=k8s.NetworkPolicySpec(
                    pod_selector=k8s.LabelSelector(match_labels=dict(pod_labels) or None),
                    policy_types=types,
                    ingress=ingress or None,
                    egress=egress or None,
                ),
            )
        )
