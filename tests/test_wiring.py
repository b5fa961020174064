"""The wiring model and the NetworkPolicies derived from it, on a small hand-built stack."""

from __future__ import annotations

from typing import Any

import cdk8s
import pytest

from tests.stack import Stack
from vaultaio_constructs.common import ExternalEndpoint, Protocol
from vaultaio_constructs.component import Component, StackChart
from vaultaio_constructs.network import NetworkProps
from vaultaio_constructs.output import render
from vaultaio_constructs.wiring import Scheme
from vaultaio_constructs.workload import service, service_account


class Server(Component):
    def __init__(self, scope: StackChart, id: str, name: str, port: int) -> None:
        super().__init__(scope, id, name=name, role="test", version="1")
        self.web = self.endpoint(port_name="web", port=port)
        service_account(self)
        service(self, [self.web])


def _policies(chart: StackChart) -> dict[str, dict[str, Any]]:
    return {m.name: m.body for m in render(chart) if m.kind == "NetworkPolicy"}


@pytest.fixture
def chart() -> StackChart:
    return StackChart(cdk8s.App(), "test", namespace="ns")


def test_connect_returns_the_endpoint_url(chart: StackChart) -> None:
    a, b = Server(chart, "A", "a", 1000), Server(chart, "B", "b", 2000)
    assert a.connect(b.web.with_path("/x"), reason="r").url == "http://b.ns.svc:2000/x"
    assert b.web.fqdn == "b.ns.svc.cluster.local"


def test_edge_gives_egress_on_consumer_and_ingress_on_provider(chart: StackChart) -> None:
    a, b = Server(chart, "A", "a", 1000), Server(chart, "B", "b", 2000)
    a.connect(b.web, reason="a reads b")
    chart.finish()
    policies = _policies(chart)
    assert sorted(policies) == ["allow-a-to-b", "allow-b-from-a", "allow-dns", "default-deny-all"]
    egress = policies["allow-a-to-b"]["spec"]
    assert egress["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "a"
    assert egress["policyTypes"] == ["Egress"]
    assert egress["egress"][0]["ports"] == [{"port": 2000, "protocol": "TCP"}]
    assert egress["egress"][0]["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "b"
    ingress = policies["allow-b-from-a"]["spec"]
    assert ingress["policyTypes"] == ["Ingress"]
    assert ingress["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "a"
    assert policies["allow-a-to-b"]["metadata"]["annotations"]["vault-aio.io/reason"] == "a reads b"


def test_default_deny_selects_every_pod_both_directions(chart: StackChart) -> None:
    chart.finish()
    deny = _policies(chart)["default-deny-all"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_dns_only_to_kube_dns(chart: StackChart) -> None:
    chart.finish(NetworkProps())
    dns = _policies(chart)["allow-dns"]["spec"]["egress"][0]
    assert dns["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
    assert dns["to"][0]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
    assert sorted(p["protocol"] for p in dns["ports"]) == ["TCP", "UDP"]


def test_external_endpoint_gives_one_ip_block_egress(chart: StackChart) -> None:
    a = Server(chart, "A", "a", 1000)
    a.connect_external(
        ExternalEndpoint(name="ntp-pool", cidrs=("192.0.2.0/24",), port=123, protocol=Protocol.UDP),
        reason="time",
    )
    chart.finish()
    rule = _policies(chart)["allow-a-to-ntp-pool"]["spec"]["egress"][0]
    assert rule == {
        "ports": [{"port": 123, "protocol": "UDP"}],
        "to": [{"ipBlock": {"cidr": "192.0.2.0/24"}}],
    }


def test_kube_api_and_ingress_edges(chart: StackChart) -> None:
    a = Server(chart, "A", "a", 1000)
    a.connect_kube_api(reason="discovery")
    a.expose_to_ingress(a.web, reason="ui")
    chart.finish()
    policies = _policies(chart)
    api = policies["allow-a-to-kube-apiserver"]["spec"]["egress"][0]
    assert [p["port"] for p in api["ports"]] == [443, 6443]
    ing = policies["allow-a-from-ingress-controller"]["spec"]["ingress"][0]
    assert ing["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "ingress-nginx"
    }
    assert ing["ports"] == [{"port": 1000, "protocol": "TCP"}]


def test_fails_connect_after_policies_were_generated(chart: StackChart) -> None:
    a, b = Server(chart, "A", "a", 1000), Server(chart, "B", "b", 2000)
    chart.finish()
    with pytest.raises(RuntimeError, match=r"connect\(a -> b\) after the network policies were generated"):
        a.connect(b.web, reason="late")


def test_fails_duplicate_component_name(chart: StackChart) -> None:
    Server(chart, "A", "a", 1000)
    with pytest.raises(ValueError, match="a component named 'a' already exists"):
        Server(chart, "A2", "a", 1001)


def test_fails_external_name_reused_with_other_target(chart: StackChart) -> None:
    a = Server(chart, "A", "a", 1000)
    a.connect_external(ExternalEndpoint(name="x", cidrs=("192.0.2.0/24",), port=1), reason="r")
    with pytest.raises(ValueError, match="already has an external endpoint named 'x'"):
        a.connect_external(ExternalEndpoint(name="x", cidrs=("198.51.100.0/24",), port=1), reason="r")


def test_fails_component_outside_a_stack() -> None:
    app = cdk8s.App()
    with pytest.raises(TypeError, match="components must be created inside a StackChart"):
        Server(cdk8s.Chart(app, "plain"), "A", "a", 1)  # type: ignore[arg-type]


def test_per_pod_endpoint_has_pod_dns_names(chart: StackChart) -> None:
    a = Server(chart, "A", "a", 1000)
    peer = a.endpoint(port_name="peer", port=1001, service="a-internal", per_pod=True, scheme=Scheme.HTTPS)
    assert peer.pod_host("a-0") == "a-0.a-internal.ns.svc"
    with pytest.raises(ValueError, match="not per-pod"):
        a.web.pod_host("a-0")


def test_default_stack_every_edge_has_both_policies_and_no_policy_lacks_an_edge(stack: Stack) -> None:
    wiring = stack.chart.wiring
    expected = {"default-deny-all", "allow-dns"}
    for e in wiring.edges:
        expected |= {
            f"allow-{e.consumer}-to-{e.endpoint.provider}",
            f"allow-{e.endpoint.provider}-from-{e.consumer}",
        }
    expected |= {f"allow-{e.consumer}-to-{e.destination.name}" for e in wiring.external_edges}
    expected |= {f"allow-{e.consumer}-to-kube-apiserver" for e in wiring.kube_api_edges}
    expected |= {f"allow-{e.endpoint.provider}-from-ingress-controller" for e in wiring.ingress_edges}
    assert {o["metadata"]["name"] for o in stack.all("NetworkPolicy")} == expected


def test_fails_object_not_tracked_by_its_component(chart: StackChart) -> None:
    from cdk8s_plus_27 import k8s

    a = Server(chart, "A", "a", 1000)
    k8s.KubeConfigMap(a, "Stray", metadata=a.meta("stray"))
    chart.finish()
    with pytest.raises(RuntimeError, match=r"1 object\(s\) were created without Component.track\(\)"):
        render(chart)


def test_namespace_clients_get_their_own_policy(chart: StackChart) -> None:
    a = Server(chart, "A", "a", 1000)
    a.expose_to_namespaces(a.web, source="team-x", namespace_labels={"team": "x"}, reason="clients")
    chart.finish()
    rule = _policies(chart)["allow-a-from-team-x"]["spec"]["ingress"][0]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"team": "x"}}}]


def test_fails_namespace_clients_without_labels(chart: StackChart) -> None:
    a = Server(chart, "A", "a", 1000)
    with pytest.raises(
        ValueError, match="need namespace labels: an empty selector would admit every namespace"
    ):
        a.expose_to_namespaces(a.web, source="all", namespace_labels={}, reason="r")
