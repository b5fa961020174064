"""The NetworkPolicy evaluator itself, on hand-written objects: it must model isolation, both directions,
named ports and namespace selectors the way Kubernetes does, or the matrix tests prove nothing."""

from __future__ import annotations

from typing import Any

from vaultaio_constructs.analysis import Connection, connectivity, to_dot


def _pod(name: str, ports: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "ports": ports}]},
            }
        },
    }


def _policy(name: str, selector: dict[str, str], **spec: Any) -> dict[str, Any]:
    return {
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"podSelector": {"matchLabels": selector} if selector else {}, **spec},
    }


A = _pod("a", [{"name": "web", "containerPort": 80}])
B = _pod(
    "b", [{"name": "web", "containerPort": 8080}, {"name": "dns", "containerPort": 53, "protocol": "UDP"}]
)
DENY = _policy("deny", {}, policyTypes=["Ingress", "Egress"])


def test_no_policies_means_everything_is_allowed() -> None:
    m = connectivity([A, B])
    assert Connection("a", "b", 8080, "TCP") in m.internal
    assert Connection("b", "a", 80, "TCP") in m.internal


def test_default_deny_isolates_everything() -> None:
    assert connectivity([A, B, DENY]).internal == set()


def test_egress_alone_is_not_enough() -> None:
    egress = _policy(
        "e",
        {"app": "a"},
        policyTypes=["Egress"],
        egress=[{"to": [{"podSelector": {"matchLabels": {"app": "b"}}}], "ports": [{"port": 8080}]}],
    )
    assert connectivity([A, B, DENY, egress]).internal == set()


def test_both_sides_allow_exactly_the_port() -> None:
    egress = _policy(
        "e",
        {"app": "a"},
        policyTypes=["Egress"],
        egress=[{"to": [{"podSelector": {"matchLabels": {"app": "b"}}}], "ports": [{"port": 8080}]}],
    )
    ingress = _policy(
        "i",
        {"app": "b"},
        policyTypes=["Ingress"],
        ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "a"}}}], "ports": [{"port": "web"}]}],
    )
    assert connectivity([A, B, DENY, egress, ingress]).internal == {Connection("a", "b", 8080, "TCP")}


def test_protocol_must_match() -> None:
    egress = _policy(
        "e", {"app": "a"}, policyTypes=["Egress"], egress=[{"ports": [{"port": 53, "protocol": "TCP"}]}]
    )
    ingress = _policy("i", {"app": "b"}, policyTypes=["Ingress"], ingress=[{}])
    assert connectivity([A, B, DENY, egress, ingress]).internal == set()


def test_namespace_selector_peer_is_not_a_local_pod() -> None:
    egress = _policy(
        "e",
        {"app": "a"},
        policyTypes=["Egress"],
        egress=[
            {
                "to": [
                    {
                        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                        "podSelector": {"matchLabels": {"app": "b"}},
                    }
                ]
            }
        ],
    )
    ingress = _policy("i", {"app": "b"}, policyTypes=["Ingress"], ingress=[{}])
    m = connectivity([A, B, DENY, egress, ingress])
    assert m.internal == set()
    assert m.egress_other_namespaces == {
        Connection("a", "kubernetes.io/metadata.name=kube-system/app=b", 0, "TCP")
    }


def test_ip_blocks_are_external_egress_and_dot_renders_them() -> None:
    egress = _policy(
        "e",
        {"app": "a"},
        policyTypes=["Egress"],
        egress=[{"to": [{"ipBlock": {"cidr": "192.0.2.0/24"}}], "ports": [{"port": 123, "protocol": "UDP"}]}],
    )
    m = connectivity([A, B, DENY, egress])
    assert m.egress_external == {Connection("a", "192.0.2.0/24", 123, "UDP")}
    dot = to_dot(m)
    assert '"a" -> "192.0.2.0/24" [label="123/UDP", style=dashed];' in dot
