"""The wiring model and the NetworkPolicies derived from it, on a small hand-built stack."""

from __future__ import annotations

from typing import Any

import cdk8s
import pytest
import yaml
from cdk8s import Testing as Cdk8sTesting
from constructs import Construct

from tests.stack import Stack
from vaultaio_constructs.common import SYSTEM_NAMESPACES, ExternalEndpoint, ExternalServiceProps, Protocol
from vaultaio_constructs.component import Component, StackChart
from vaultaio_constructs.network_props import DnsProps, IngressControllerProps, NetworkProps
from vaultaio_constructs.output import render
from vaultaio_constructs.placement import Placement, PodSecurity
from vaultaio_constructs.wiring import ExternalService, Scheme
from vaultaio_constructs.workload import service, service_account


class Server(Component):
    def __init__(
        self, scope: StackChart, id: str, name: str, port: int, namespace: str | None = None
    ) -> None:
        super().__init__(scope, id, name=name, role="test", version="1", namespace=namespace)
        self.web = self.endpoint(port_name="web", port=port)
        service_account(self)
        service(self, [self.web])


def _policies(chart: StackChart, namespace: str = "ns") -> dict[str, dict[str, Any]]:
    """The policies of ``namespace`` by name."""
    return {
        m.name: m.body
        for m in render(chart)
        if m.kind == "NetworkPolicy" and m.body["metadata"]["namespace"] == namespace
    }


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


def test_cross_namespace_edge_selects_each_peer_by_namespace_and_pods(chart: StackChart) -> None:
    a, b = Server(chart, "A", "a", 1000, namespace="other"), Server(chart, "B", "b", 2000)
    assert a.connect(b.web, reason="a reads b").url == "http://b.ns.svc:2000"
    chart.finish()
    egress = _policies(chart, "other")["allow-a-to-b"]["spec"]
    assert egress["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "a"
    assert egress["egress"][0]["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ns"}},
            "podSelector": {
                "matchLabels": {"app.kubernetes.io/instance": "vault-aio", "app.kubernetes.io/name": "b"}
            },
        }
    ]
    ingress = _policies(chart, "ns")["allow-b-from-a"]["spec"]
    assert ingress["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "b"
    assert ingress["ingress"][0]["from"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "other"}},
            "podSelector": {
                "matchLabels": {"app.kubernetes.io/instance": "vault-aio", "app.kubernetes.io/name": "a"}
            },
        }
    ]
    assert ingress["ingress"][0]["ports"] == [{"port": 2000, "protocol": "TCP"}]
    # neither side's policy lands in the other namespace
    assert "allow-b-from-a" not in _policies(chart, "other") and "allow-a-to-b" not in _policies(chart, "ns")


def test_every_namespace_of_the_stack_gets_deny_and_dns(chart: StackChart) -> None:
    Server(chart, "A", "a", 1000, namespace="other")
    chart.finish()
    for namespace in ("ns", "other"):
        policies = _policies(chart, namespace)
        assert {"default-deny-all", "allow-dns"} <= set(policies), namespace
        assert policies["default-deny-all"]["spec"] == {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
        }
    assert chart.namespaces == ("ns", "other")


def test_external_service_in_the_cluster_gets_one_egress_rule_to_its_pods(chart: StackChart) -> None:
    a = Server(chart, "A", "a", 1000)
    loki = ExternalService.from_props(
        "loki",
        ExternalServiceProps(
            url="http://loki-gateway.logging.svc/",
            namespace_labels={"kubernetes.io/metadata.name": "logging"},
            pod_labels={"app.kubernetes.io/component": "gateway"},
            ports=(8080,),
        ),
    )
    push = a.connect(loki.with_path("/loki/api/v1/push"), reason="logs")
    assert push.url == "http://loki-gateway.logging.svc/loki/api/v1/push"
    assert push.address == "loki-gateway.logging.svc:80"
    chart.finish()
    policies = _policies(chart)
    assert policies["allow-a-to-loki"]["spec"]["egress"] == [
        {
            "ports": [{"port": 8080, "protocol": "TCP"}],
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "logging"}},
                    "podSelector": {"matchLabels": {"app.kubernetes.io/component": "gateway"}},
                }
            ],
        }
    ]
    assert policies["allow-a-to-loki"]["spec"]["policyTypes"] == ["Egress"]
    # one-sided: nothing is generated for the other side, which is not part of the stack
    assert not [n for n in policies if n.startswith("allow-loki")]


def test_external_service_outside_the_cluster_gets_ip_blocks_on_the_url_port(chart: StackChart) -> None:
    a = Server(chart, "A", "a", 1000)
    prom = ExternalService.from_props(
        "prometheus", ExternalServiceProps(url="https://metrics.example.com", cidrs=("192.0.2.0/24",))
    )
    assert a.connect(prom.with_origin_path("/api/v1/write"), reason="rw").url == (
        "https://metrics.example.com/api/v1/write"
    )
    chart.finish()
    assert _policies(chart)["allow-a-to-prometheus"]["spec"]["egress"] == [
        {"ports": [{"port": 443, "protocol": "TCP"}], "to": [{"ipBlock": {"cidr": "192.0.2.0/24"}}]}
    ]


def test_fails_endpoint_of_a_component_outside_the_stack(chart: StackChart) -> None:
    other = StackChart(cdk8s.App(), "other", namespace="elsewhere")
    a, b = Server(chart, "A", "a", 1000), Server(other, "B", "b", 2000)
    with pytest.raises(
        ValueError, match=r"a: endpoint b:web \(namespace 'elsewhere'\) is not served by a component"
    ):
        a.connect(b.web, reason="r")


def test_fails_external_service_in_the_stacks_own_namespace(chart: StackChart) -> None:
    a = Server(chart, "A", "a", 1000)
    mine = ExternalService.from_props(
        "loki",
        ExternalServiceProps(
            url="http://loki.ns.svc", namespace_labels={"kubernetes.io/metadata.name": "ns"}
        ),
    )
    with pytest.raises(ValueError, match="selects the stack's own namespace 'ns'"):
        a.connect(mine, reason="r")


def test_fails_finish_twice_with_a_clear_message(chart: StackChart) -> None:
    chart.finish()
    with pytest.raises(RuntimeError, match=r"the stack 'test' is already finished: finish\(\) runs once"):
        chart.finish()


def test_fails_component_added_after_finish(chart: StackChart) -> None:
    chart.finish()
    with pytest.raises(RuntimeError, match="cannot add 'late' to the stack 'test': it is already finished"):
        Server(chart, "Late", "late", 1000)


def test_unfinished_stack_finishes_itself_at_synth() -> None:
    app = cdk8s.App()
    chart = StackChart(app, "test", namespace="ns")
    a, b = Server(chart, "A", "a", 1000), Server(chart, "B", "b", 2000)
    a.connect(b.web, reason="a reads b")
    docs = list(yaml.safe_load_all(app.synth_yaml()))
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {
        ("NetworkPolicy", "default-deny-all"),
        ("NetworkPolicy", "allow-a-to-b"),
        ("Namespace", "ns"),
    } <= names
    assert chart.finished


def test_chart_to_json_finishes_too() -> None:
    chart = StackChart(cdk8s.App(), "test", namespace="ns")
    Server(chart, "A", "a", 1000)
    kinds = [o["kind"] for o in Cdk8sTesting.synth(chart)]
    assert "NetworkPolicy" in kinds and "Namespace" in kinds


def test_failure_while_finishing_at_synth_names_the_stack() -> None:
    chart = StackChart(cdk8s.App(), "test", namespace="ns")
    a = Server(chart, "A", "a", 1000)
    a.connect_kube_api(reason="r")
    a.connect_external(ExternalEndpoint(name="kube-apiserver", cidrs=("192.0.2.0/24",), port=1), reason="r")
    with pytest.raises(
        Exception, match=r"\[test\] the stack could not be finished at synth: two network policies"
    ):
        Cdk8sTesting.synth(chart)


def test_fails_component_in_a_plain_chart_naming_stack_chart() -> None:
    plain = cdk8s.Chart(cdk8s.App(), "plain")
    with pytest.raises(
        TypeError, match=r"got the cdk8s.Chart 'plain'.*Nest one in your chart: stack = StackChart"
    ):
        Server(plain, "A", "a", 1)  # type: ignore[arg-type]


def test_stack_nested_in_a_plain_chart_and_a_users_construct_inside_it() -> None:
    app = cdk8s.App()
    plain = cdk8s.Chart(app, "platform")
    stack = StackChart(plain, "secrets", namespace="ns")
    group = Construct(stack, "Group")
    a = Server(group, "A", "a", 1000)  # type: ignore[arg-type]
    assert a.stack is stack
    names = {(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(app.synth_yaml())}
    assert ("NetworkPolicy", "default-deny-all") in names


def test_namespace_labels_follow_the_components_in_it(chart: StackChart) -> None:
    class Agent(Server):
        placement = Placement.NODE
        pod_security = PodSecurity.PRIVILEGED

    Server(chart, "A", "a", 1000)
    agent = Agent(chart, "N", "n", 2000)
    assert agent.namespace == chart.node_namespace == "ns-node"
    chart.finish()
    labels = {m.name: m.body["metadata"]["labels"] for m in render(chart) if m.kind == "Namespace"}
    assert labels["ns"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["ns-node"]["pod-security.kubernetes.io/enforce"] == "privileged"
    for ns in ("ns", "ns-node"):
        assert labels[ns]["pod-security.kubernetes.io/warn"] == "restricted"
        assert labels[ns]["pod-security.kubernetes.io/audit"] == "restricted"


def test_unmanaged_namespaces_are_left_out() -> None:
    chart = StackChart(cdk8s.App(), "test", namespace="ns", manage_namespaces=False)
    Server(chart, "A", "a", 1000)
    chart.finish()
    assert not [m for m in render(chart) if m.kind == "Namespace"]


def test_fails_node_namespace_too_long() -> None:
    with pytest.raises(
        ValueError,
        match=r"too long for the node namespace .* use at most 58 characters or set 'node_namespace'",
    ):
        StackChart(cdk8s.App(), "test", namespace="n" * 60)
    assert (
        StackChart(cdk8s.App(), "ok", namespace="n" * 60, node_namespace="agents").node_namespace == "agents"
    )


@pytest.mark.parametrize("system", SYSTEM_NAMESPACES)
@pytest.mark.parametrize("key", ["namespace", "node_namespace"])
def test_fails_a_system_namespace_from_python_too(system: str, key: str) -> None:
    """The settings refuse them (tests/test_bad_input.py); a StackChart built in Python does as well, since
    it would label that namespace and put a default-deny policy into it."""
    with pytest.raises(ValueError, match=rf"{system!r} is a namespace of Kubernetes itself"):
        StackChart(cdk8s.App(), "test", **{key: system})


@pytest.mark.parametrize("key", ["namespace", "node_namespace"])
def test_fails_the_dns_or_ingress_controller_namespace_from_python_too(key: str) -> None:
    dns = NetworkProps(dns=DnsProps(namespace="coredns"))
    with pytest.raises(ValueError, match=rf"{key} \('coredns'\) is network\.dns\.namespace"):
        StackChart(cdk8s.App(), "test", network=dns, **{key: "coredns"})
    with pytest.raises(ValueError, match=rf"{key} \('ingress-nginx'\) is the ingress controller's namespace"):
        StackChart(cdk8s.App(), "test", network=NetworkProps(), **{key: "ingress-nginx"})
    # a controller selected by another label names no namespace to compare with
    other = NetworkProps(ingress_controller=IngressControllerProps(namespace_labels={"team": "edge"}))
    assert StackChart(cdk8s.App(), "ok", network=other, **{key: "ingress-nginx"}).namespaces


@pytest.mark.parametrize("system", SYSTEM_NAMESPACES)
def test_fails_a_component_given_a_system_namespace(system: str) -> None:
    """``namespace=`` on a component makes the stack own that namespace too (labelled, default-denied,
    deleted by ``kubectl delete -k``): the same refusal as for the stack's own two."""
    chart = StackChart(cdk8s.App(), "test", namespace="ns")
    with pytest.raises(
        ValueError, match=rf"component 'x': namespace {system!r} is a namespace of Kubernetes"
    ):
        Server(chart, "X", "x", 1000, namespace=system)


def test_fails_a_component_in_the_dns_or_ingress_controller_namespace_at_finish() -> None:
    chart = StackChart(
        cdk8s.App(), "test", namespace="ns", network=NetworkProps(dns=DnsProps(namespace="coredns"))
    )
    Server(chart, "X", "x", 1000, namespace="coredns")
    with pytest.raises(ValueError, match=r"namespace of x \('coredns'\) is network\.dns\.namespace"):
        chart.finish()
    other = StackChart(cdk8s.App(), "other", namespace="ns")
    Server(other, "Y", "y", 1000, namespace="ingress-nginx")
    with pytest.raises(ValueError, match=r"namespace of y \('ingress-nginx'\) is the ingress controller's"):
        other.finish(NetworkProps())  # the network given to finish() is the one checked


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
    expected |= {f"allow-{e.consumer}-to-{e.service.name}" for e in wiring.service_edges}
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


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"url": "http://loki.logging.svc"}, "needs 'namespace_labels' .* or 'cidrs'"),
        (
            {"url": "http://x", "namespace_labels": {"a": "b"}, "cidrs": ["192.0.2.0/24"]},
            "not both",
        ),
        ({"url": "http://x", "namespace_labels": {}}, "needs at least one label"),
        ({"url": "http://x", "cidrs": ["192.0.2.0/24"], "pod_labels": {"a": "b"}}, "need 'namespace_labels'"),
        ({"url": "http://user:pw@x", "cidrs": ["192.0.2.0/24"]}, "must not contain credentials"),
        ({"url": "ftp://x", "cidrs": ["192.0.2.0/24"]}, r"must be an http:// or https:// URL"),
        ({"url": "http://x?a=1", "cidrs": ["192.0.2.0/24"]}, "query or fragment"),
        ({"url": "http://x", "namespace_labels": {"bad key!": "v"}}, "label key 'bad key!' is invalid"),
        ({"url": "http://x", "namespace_labels": {"k": "-v"}}, "label 'k' has an invalid value '-v'"),
        ({"url": "http://x", "cidrs": ["192.0.2.0/24"], "ports": [80, 80]}, "lists a port twice"),
    ],
)
def test_fails_bad_external_service(fields: dict[str, Any], match: str) -> None:
    from vaultaio_constructs.settings import SettingsError, parse_settings

    with pytest.raises(SettingsError, match=match):
        parse_settings({"alertmanager": {"enabled": False, "external": fields}})
