"""Read synthesized manifests back and compute what the NetworkPolicies allow.

This implements the Kubernetes NetworkPolicy semantics for the objects of one namespace, independently of
the wiring model that generated them, so tests can prove the generated policies do what the wiring says:

* a pod selected by no policy of a direction is not isolated in that direction;
* once isolated, a connection is allowed if any selecting policy has a rule whose peer matches and whose
  ports match (no ``to``/``from`` = every peer, no ``ports`` = every port; named ports resolve against the
  destination's container ports);
* a connection between two pods needs the source's egress **and** the destination's ingress.

It also renders the result as a Graphviz graph (``make diagram`` -> ``docs/network.dot`` / ``.svg``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


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


def pods_of(objects: Iterable[Mapping[str, Any]]) -> list[Pod]:
    """The pod of each workload object (labels and declared container ports)."""
    pods = []
    for o in objects:
        if o["kind"] not in WORKLOAD_KINDS:
            continue
        template = o["spec"]["template"]
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
    """Compute the allowed connections of every workload in ``objects``."""
    policies = _policies(objects)
    pods = pods_of(objects)
    namespaces = {
        o["metadata"]["name"]: o["metadata"].get("labels", {})
        | {"kubernetes.io/metadata.name": o["metadata"]["name"]}
        for o in objects
        if o["kind"] == "Namespace"
    }
    matrix = Matrix()
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
                        elif "namespaceSelector" in peer:
                            dest = _describe(peer)
                            if dest.split("/")[0] != f"kubernetes.io/metadata.name={src.namespace}":
                                matrix.egress_other_namespaces.add(
                                    Connection(src.workload, dest, number, proto)
                                )
    for dst in pods:
        for p in _selecting(policies, dst, "Ingress"):
            for rule in p["spec"].get("ingress") or []:
                for peer in rule.get("from") or []:
                    if "namespaceSelector" in peer:
                        for rp in rule.get("ports") or [{}]:
                            matrix.ingress_other_namespaces.add(
                                Connection(
                                    _describe(peer),
                                    dst.workload,
                                    rp.get("port", 0),
                                    rp.get("protocol", "TCP"),
                                )
                            )
    return matrix


def _describe(peer: Mapping[str, Any]) -> str:
    ns = ",".join(f"{k}={v}" for k, v in sorted((peer["namespaceSelector"].get("matchLabels") or {}).items()))
    pod = ",".join(
        f"{k}={v}" for k, v in sorted(((peer.get("podSelector") or {}).get("matchLabels") or {}).items())
    )
    return f"{ns}/{pod or '*'}"


def cidr_contains(cidr: str, address: str) -> bool:
    return ipaddress.ip_address(address) in ipaddress.ip_network(cidr)


def to_dot(matrix: Matrix, *, title: str = "vault-aio network policies") -> str:
    """A Graphviz graph of ``matrix``: stack workloads as boxes, outside peers as ellipses/notes."""

    def q(s: str) -> str:
        return '"' + s.replace('"', '\\"') + '"'

    lines = [
        f"digraph {q('vault-aio')} {{",
        f"  label={q(title)}; labelloc=t; rankdir=LR; fontname=Helvetica;",
        "  node [fontname=Helvetica, fontsize=11]; edge [fontname=Helvetica, fontsize=9];",
    ]
    workloads = sorted(
        {c.source for c in matrix.internal}
        | {c.destination for c in matrix.internal}
        | {c.source for c in matrix.egress_external | matrix.egress_other_namespaces}
        | {c.destination for c in matrix.ingress_other_namespaces}
    )
    for w in workloads:
        lines.append(f'  {q(w)} [shape=box, style=filled, fillcolor="#e8f0fe"];')
    outside = sorted(
        {c.destination for c in matrix.egress_external | matrix.egress_other_namespaces}
        | {c.source for c in matrix.ingress_other_namespaces}
    )
    for o in outside:
        lines.append(f"  {q(o)} [shape=ellipse, style=dashed];")

    def grouped(conns: Iterable[Connection]) -> dict[tuple[str, str], list[str]]:
        out: dict[tuple[str, str], list[str]] = {}
        for c in sorted(conns):
            out.setdefault((c.source, c.destination), []).append(f"{c.port}/{c.protocol}")
        return out

    internal = {c for c in matrix.internal if c.source != c.destination or c.port}
    for (s, d), ports in grouped(internal).items():
        lines.append(f"  {q(s)} -> {q(d)} [label={q(', '.join(ports))}];")
    for (s, d), ports in grouped(matrix.egress_external | matrix.egress_other_namespaces).items():
        lines.append(f"  {q(s)} -> {q(d)} [label={q(', '.join(ports))}, style=dashed];")
    for (s, d), ports in grouped(matrix.ingress_other_namespaces).items():
        lines.append(f"  {q(s)} -> {q(d)} [label={q(', '.join(ports))}, style=dashed];")
    lines.append("}")
    return "\n".join(lines) + "\n"


__all__ = ["Connection", "Matrix", "Pod", "connectivity", "pods_of", "to_dot"]
