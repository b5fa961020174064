"""Read synthesized manifests back and compute what the NetworkPolicies allow.

This implements the Kubernetes NetworkPolicy semantics for the objects of one stack (one or more
namespaces), independently of the wiring model that generated them, so tests can prove the generated
policies do what the wiring says:

* a pod selected by no policy of a direction is not isolated in that direction;
* once isolated, a connection is allowed if any selecting policy has a rule whose peer matches and whose
  ports match (no ``to``/``from`` = every peer, no ``ports`` = every port; named ports resolve against the
  destination's container ports);
* a connection between two pods needs the source's egress **and** the destination's ingress;
* a peer without ``namespaceSelector`` selects pods of the policy's own namespace only; one with it selects
  pods of the namespaces whose labels match (every namespace carries ``kubernetes.io/metadata.name``).

Peers that may lie outside the stack's namespaces (the Namespace objects among the objects, and the
namespaces of its pods) are reported separately, by their selectors or IP blocks.

It also renders the result as a Graphviz graph (``make diagram`` -> ``docs/network.dot`` / ``.svg``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


@dataclass(frozen=True)
class Port:
    name: str | None
    number: int
    protocol: str


@dataclass(frozen=True)
class Pod:
    """The pods of one workload, as the policies see them."""

    workload: str
    namespace: str
    labels: Mapping[str, str]
    ports: tuple[Port, ...]


@dataclass(frozen=True, order=True)
class Connection:
    """``source`` may open ``protocol`` connections to ``destination``:``port``."""

    source: str
    destination: str
    port: int
    protocol: str


@dataclass
class Matrix:
    """Every allowed connection: between the stack's pods, to outside peers, and from outside peers."""

    #: workload -> its namespace
    namespaces: dict[str, str] = field(default_factory=dict)
    internal: set[Connection] = field(default_factory=set)
    #: source workload -> external destinations as ``cidr`` strings with ports (ipBlock egress)
    egress_external: set[Connection] = field(default_factory=set)
    #: egress to pods of other namespaces (``<namespace-labels>/<pod-labels>`` as destination)
    egress_other_namespaces: set[Connection] = field(default_factory=set)
    #: ingress from pods of other namespaces (``<namespace-labels>/<pod-labels>`` as source)
    ingress_other_namespaces: set[Connection] = field(default_factory=set)


def _matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    if selector is None:
        return True
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def pod_template(workload: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod template of a workload object (a CronJob's is inside its job template)."""
    if workload["kind"] == "CronJob":
        template: Mapping[str, Any] = workload["spec"]["jobTemplate"]["spec"]["template"]
    else:
        template = workload["spec"]["template"]
    return template


def pods_of(objects: Iterable[Mapping[str, Any]]) -> list[Pod]:
    """The pod of each workload object (labels and declared container ports).

    Jobs and CronJobs count: their pods are selected by the same policies (a backup job is a client).
    """
    pods = []
    for o in objects:
        if o["kind"] not in WORKLOAD_KINDS:
            continue
        template = pod_template(o)
        ports = tuple(
            Port(p.get("name"), p["containerPort"], p.get("protocol", "TCP"))
            for c in template["spec"]["containers"]
            for p in c.get("ports", [])
        )
        pods.append(
            Pod(o["metadata"]["name"], o["metadata"]["namespace"], template["metadata"]["labels"], ports)
        )
    return pods


def _policies(objects: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [o for o in objects if o["kind"] == "NetworkPolicy"]


def _port_ok(rule_ports: Sequence[Mapping[str, Any]] | None, port: Port) -> bool:
    if not rule_ports:
        return True
    for rp in rule_ports:
        if rp.get("protocol", "TCP") != port.protocol:
            continue
        p = rp.get("port")
        if p is None:
            return True
        if isinstance(p, str):
            if p == port.name:
                return True
            continue
        end = rp.get("endPort", p)
        if p <= port.number <= end:
            return True
    return False


def _peer_selects_pod(
    peer: Mapping[str, Any], policy_ns: str, pod: Pod, ns_labels: Mapping[str, str]
) -> bool:
    if "ipBlock" in peer:
        return False  # pod IPs are not modelled; ipBlocks describe destinations outside the cluster here
    ns_sel = peer.get("namespaceSelector")
    if ns_sel is None:
        if pod.namespace != policy_ns:
            return False
    elif not _matches(ns_sel, ns_labels):
        return False
    return _matches(peer.get("podSelector"), pod.labels)


def _selecting(policies: Sequence[Mapping[str, Any]], pod: Pod, direction: str) -> list[Mapping[str, Any]]:
    return [
        p
        for p in policies
        if p["metadata"]["namespace"] == pod.namespace
        and direction in p["spec"].get("policyTypes", ["Ingress"])
        and _matches(p["spec"].get("podSelector") or {}, pod.labels)
    ]


def connectivity(objects: Sequence[Mapping[str, Any]]) -> Matrix:
    """Compute the allowed connections of every workload in ``objects``.

    Workload names must be unique across the namespaces (connections are named by workload).
    """
    policies = _policies(objects)
    pods = pods_of(objects)
    namespaces = {
        o["metadata"]["name"]: o["metadata"].get("labels", {})
        | {"kubernetes.io/metadata.name": o["metadata"]["name"]}
        for o in objects
        if o["kind"] == "Namespace"
    }
    stack_namespaces = set(namespaces) | {p.namespace for p in pods}
    matrix = Matrix()
    for pod in pods:
        if matrix.namespaces.setdefault(pod.workload, pod.namespace) != pod.namespace:
            raise ValueError(
                f"workload {pod.workload!r} exists in namespaces {matrix.namespaces[pod.workload]!r} and "
                f"{pod.namespace!r}: connections are named by workload"
            )
    for src in pods:
        egress = _selecting(policies, src, "Egress")
        for dst in pods:
            ingress = _selecting(policies, dst, "Ingress")
            ns_labels = namespaces.get(src.namespace, {"kubernetes.io/metadata.name": src.namespace})
            dst_ns_labels = namespaces.get(dst.namespace, {"kubernetes.io/metadata.name": dst.namespace})
            for port in dst.ports:
                out_ok = not egress or any(
                    (
                        not rule.get("to")
                        or any(
                            _peer_selects_pod(peer, p["metadata"]["namespace"], dst, dst_ns_labels)
                            for peer in rule["to"]
                        )
                    )
                    and _port_ok(rule.get("ports"), port)
                    for p in egress
                    for rule in p["spec"].get("egress") or []
                )
                in_ok = not ingress or any(
                    (
                        not rule.get("from")
                        or any(
                            _peer_selects_pod(peer, p["metadata"]["namespace"], src, ns_labels)
                            for peer in rule["from"]
                        )
                    )
                    and _port_ok(rule.get("ports"), port)
                    for p in ingress
                    for rule in p["spec"].get("ingress") or []
                )
                if out_ok and in_ok:
                    matrix.internal.add(Connection(src.workload, dst.workload, port.number, port.protocol))
        for p in egress:
            for rule in p["spec"].get("egress") or []:
                for peer in rule.get("to") or []:
                    for rp in rule.get("ports") or [{}]:
                        number, proto = rp.get("port", 0), rp.get("protocol", "TCP")
                        if "ipBlock" in peer:
                            matrix.egress_external.add(
                                Connection(src.workload, peer["ipBlock"]["cidr"], number, proto)
                            )
                        elif "namespaceSelector" in peer and _reaches_other_namespaces(
                            peer, stack_namespaces
                        ):
                            matrix.egress_other_namespaces.add(
                                Connection(src.workload, describe_peer(peer), number, proto)
                            )
    for dst in pods:
        for p in _selecting(policies, dst, "Ingress"):
            for rule in p["spec"].get("ingress") or []:
                for peer in rule.get("from") or []:
                    if "namespaceSelector" in peer and _reaches_other_namespaces(peer, stack_namespaces):
                        for rp in rule.get("ports") or [{}]:
                            matrix.ingress_other_namespaces.add(
                                Connection(
                                    describe_peer(peer),
                                    dst.workload,
                                    rp.get("port", 0),
                                    rp.get("protocol", "TCP"),
                                )
                            )
    return matrix


def _reaches_other_namespaces(peer: Mapping[str, Any], stack_namespaces: set[str]) -> bool:
    """Whether a ``namespaceSelector`` peer may select namespaces outside the stack's (its pods in the
    stack's namespaces are evaluated as stack pods): anything but the name of one of them."""
    selector = peer["namespaceSelector"]
    labels = selector.get("matchLabels") or {}
    if selector.get("matchExpressions") or len(labels) != 1:
        return True
    return labels.get("kubernetes.io/metadata.name") not in stack_namespaces


def describe_peer(peer: Mapping[str, Any]) -> str:
    ns = ",".join(f"{k}={v}" for k, v in sorted((peer["namespaceSelector"].get("matchLabels") or {}).items()))
    pod = ",".join(
        f"{k}={v}" for k, v in sorted(((peer.get("podSelector") or {}).get("matchLabels") or {}).items())
    )
    return f"{ns}/{pod or '*'}"


def cidr_contains(cidr: str, address: str) -> bool:
    return ipaddress.ip_address(address) in ipaddress.ip_network(cidr)


def to_dot(
    matrix: Matrix,
    *,
    title: str = "vault-aio network policies",
    stack_label: str = "stack namespace",
    labels: Mapping[str, str] | None = None,
    namespace_labels: Mapping[str, str] | None = None,
) -> str:
    """A Graphviz graph of ``matrix``: stack workloads as boxes, outside peers as ellipses/notes.

    To keep the picture readable:

    * the workloads sit in one box per namespace (``namespace_labels`` names them; ``stack_label`` when
      the matrix knows no namespaces); an outside peer that *every* workload of a namespace reaches on the
      same ports (the cluster DNS) gets one edge from that namespace's box instead of one per workload;
    * outside peers with exactly the same connections (the CIDRs of one NTP server) are one node;
    * ``labels`` names outside peers (``{"0.0.0.0/0": "kube-apiserver\\n0.0.0.0/0"}``); unnamed ones show
      their CIDR or ``<namespace-labels>/<pod-labels>``.

    Edges between the stack's workloads are solid; edges to or from outside the stack are dashed.
    """
    names = labels or {}
    ns_names = namespace_labels or {}

    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    def ports_of(conns: Iterable[Connection]) -> str:
        return ", ".join(f"{c.port}/{c.protocol}" for c in sorted(conns))

    workloads = sorted(
        {c.source for c in matrix.internal}
        | {c.destination for c in matrix.internal}
        | {c.source for c in matrix.egress_external | matrix.egress_other_namespaces}
        | {c.destination for c in matrix.ingress_other_namespaces}
    )
    clusters: dict[str, list[str]] = {}
    for w in workloads:
        clusters.setdefault(matrix.namespaces.get(w, ""), []).append(w)
    cluster_id = {ns: f"cluster_{ns or 'stack'}" for ns in clusters}
    outgoing = matrix.egress_external | matrix.egress_other_namespaces

    # peers every workload of a namespace reaches on the same ports: one edge from the namespace's box
    shared: dict[tuple[str, str], str] = {}
    for peer in sorted({c.destination for c in outgoing}):
        for ns, members in clusters.items():
            by_source: dict[str, set[tuple[int, str]]] = {}
            for c in outgoing:
                if c.destination == peer and c.source in members:
                    by_source.setdefault(c.source, set()).add((c.port, c.protocol))
            port_sets = {frozenset(v) for v in by_source.values()}
            if len(members) > 1 and set(by_source) == set(members) and len(port_sets) == 1:
                shared[(ns, peer)] = ports_of(
                    c for c in outgoing if c.destination == peer and c.source == members[0]
                )
    outgoing = {c for c in outgoing if (matrix.namespaces.get(c.source, ""), c.destination) not in shared}

    # merge outside peers that have exactly the same connections
    signature: dict[str, set[tuple[str, str, int, str]]] = {}
    for c in outgoing:
        signature.setdefault(c.destination, set()).add(("out", c.source, c.port, c.protocol))
    for c in matrix.ingress_other_namespaces:
        signature.setdefault(c.source, set()).add(("in", c.destination, c.port, c.protocol))
    groups: dict[frozenset[tuple[str, str, int, str]], list[str]] = {}
    for peer in sorted(signature):
        groups.setdefault(frozenset(signature[peer]), []).append(peer)
    node_of = {peer: " | ".join(members) for members in groups.values() for peer in members}

    def label(members: Sequence[str]) -> str:
        lines = [line for m in members for line in names.get(m, m).split("\n")]
        return "\n".join(dict.fromkeys(lines))

    lines = [
        f"digraph {q('vault-aio')} {{",
        f"  label={q(title)}; labelloc=t; rankdir=LR; fontname=Helvetica;",
        "  compound=true; ranksep=1.1; nodesep=0.35;",
        "  node [fontname=Helvetica, fontsize=11]; edge [fontname=Helvetica, fontsize=9];",
    ]
    for ns, members in clusters.items():
        lines.append(f"  subgraph {q(cluster_id[ns])} {{")
        lines.append(f'    label={q(ns_names.get(ns, stack_label))}; style=rounded; color="#5f6368";')
        for w in members:
            lines.append(f'    {q(w)} [shape=box, style=filled, fillcolor="#e8f0fe"];')
        lines.append("  }")
    for members in groups.values():
        lines.append(f"  {q(node_of[members[0]])} [label={q(label(members))}, shape=ellipse, style=dashed];")
    for peer in dict.fromkeys(peer for _, peer in shared):
        if peer not in node_of:
            lines.append(f"  {q(peer)} [label={q(label([peer]))}, shape=ellipse, style=dashed];")

    def grouped(conns: Iterable[Connection]) -> dict[tuple[str, str], list[Connection]]:
        out: dict[tuple[str, str], list[Connection]] = {}
        for c in sorted(conns):
            out.setdefault((c.source, c.destination), []).append(c)
        return out

    internal = {c for c in matrix.internal if c.source != c.destination or c.port}
    for (s, d), conns in grouped(internal).items():
        lines.append(f"  {q(s)} -> {q(d)} [label={q(ports_of(conns))}];")
    merged_out = {Connection(c.source, node_of[c.destination], c.port, c.protocol) for c in outgoing}
    for (s, d), conns in grouped(merged_out).items():
        lines.append(f"  {q(s)} -> {q(d)} [label={q(ports_of(conns))}, style=dashed];")
    merged_in = {
        Connection(node_of[c.source], c.destination, c.port, c.protocol)
        for c in matrix.ingress_other_namespaces
    }
    for (s, d), conns in grouped(merged_in).items():
        lines.append(f"  {q(s)} -> {q(d)} [label={q(ports_of(conns))}, style=dashed];")
    for (ns, peer), ports in shared.items():
        lines.append(
            f"  {q(clusters[ns][0])} -> {q(peer)} "
            f"[label={q(ports + ' (every pod)')}, style=dashed, ltail={q(cluster_id[ns])}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


__all__ = [
    "Connection",
    "Matrix",
    "Pod",
    "connectivity",
    "describe_peer",
    "pod_template",
    "pods_of",
    "to_dot",
]
