"""Every component but Vault is optional or replaceable, and each consumer edge follows (issue 12).

For each provider this proves what its consumers do when it is disabled (no replacement) or external: the
URL in the consumer's configuration comes from the replacement, the NetworkPolicies allow exactly that
replacement's pods or networks (and nothing towards the missing component), and what needs the missing
component is left out rather than pointing at nothing. The table of these choices is in
``vaultaio_constructs/chart.py``; impossible combinations are in tests/test_bad_input.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import cdk8s
import pytest
import yaml

from tests.alloy.alloy_parser import parse
from tests.stack import Stack, synth_stack
from vaultaio_constructs.alloy.construct import Alloy
from vaultaio_constructs.alloy.props import AlloyProps
from vaultaio_constructs.analysis import connectivity
from vaultaio_constructs.chart import ComponentDisabledError, VaultAioChart
from vaultaio_constructs.component import StackChart
from vaultaio_constructs.grafana.construct import Grafana
from vaultaio_constructs.grafana.props import GrafanaProps
from vaultaio_constructs.loki.construct import Loki
from vaultaio_constructs.loki.props import LokiProps
from vaultaio_constructs.settings import parse_settings

LOGGING = {"kubernetes.io/metadata.name": "logging"}
GATEWAY = {"app.kubernetes.io/name": "loki", "app.kubernetes.io/component": "gateway"}
EXTERNAL_LOKI = {
    "url": "http://loki-gateway.logging.svc",
    "namespace_labels": LOGGING,
    "pod_labels": GATEWAY,
    "ports": [8080],
    "tenant_id": "vault-aio",
}
MIMIR_CIDR = "198.51.100.0/24"
EXTERNAL_PROMETHEUS = {
    "url": "https://mimir.example.com/prometheus",
    "cidrs": [MIMIR_CIDR],
    "remote_write_path": "/api/v1/push",
}
MONITORING = {"kubernetes.io/metadata.name": "monitoring"}
EXTERNAL_ALERTMANAGER = {
    "url": "http://alertmanager-operated.monitoring.svc:9093",
    "namespace_labels": MONITORING,
    "pod_labels": {"app.kubernetes.io/name": "alertmanager"},
}
TRACING = {"kubernetes.io/metadata.name": "tracing"}
EXTERNAL_TEMPO = {
    "url": "http://tempo-query-frontend.tracing.svc:3200",
    "namespace_labels": TRACING,
    "pod_labels": {"app.kubernetes.io/component": "query-frontend"},
    "otlp_grpc": {
        "url": "https://tempo-distributor.tracing.svc:4317",
        "namespace_labels": TRACING,
        "pod_labels": {"app.kubernetes.io/component": "distributor"},
    },
}

SETTINGS: dict[str, dict[str, Any]] = {
    "no-loki": {"loki": {"enabled": False}},
    "external-loki": {"loki": {"enabled": False, "external": EXTERNAL_LOKI}},
    "no-tempo": {"tempo": {"enabled": False}},
    "external-tempo": {"tempo": {"enabled": False, "external": EXTERNAL_TEMPO}},
    "no-prometheus": {"prometheus": {"enabled": False}, "grafana": {"enabled": False}},
    "external-prometheus": {"prometheus": {"enabled": False, "external": EXTERNAL_PROMETHEUS}},
    "external-alertmanager": {"alertmanager": {"enabled": False, "external": EXTERNAL_ALERTMANAGER}},
    # three independent consumers-only components off at once (one synth): nothing else changes
    "no-grafana-alloy-chrony": {c: {"enabled": False} for c in ("grafana", "alloy", "chrony")},
    "vault-only": {
        c: {"enabled": False}
        for c in ("prometheus", "alertmanager", "grafana", "loki", "tempo", "alloy", "chrony")
    },
}


@pytest.fixture(scope="module")
def variant() -> Callable[[str], Stack]:
    cache: dict[str, Stack] = {}

    def get(name: str) -> Stack:
        if name not in cache:
            cache[name] = synth_stack(SETTINGS[name])
        return cache[name]

    return get


#: Alloy's host mounts by pipeline (vaultaio_constructs.alloy.config.ALLOY_HOST_PATHS).
LOG_HOST_PATHS = {"/var/log", "/run/log/journal", "/etc/machine-id"}
METRIC_HOST_PATHS = {"/proc", "/sys", "/"}


def _names(stack: Stack, kind: str) -> set[str]:
    return {o["metadata"]["name"] for o in stack.all(kind)}


def _alloy_config(stack: Stack) -> str:
    return stack.config_data("alloy-config")["config.alloy"]


def _alloy_block(stack: Stack, name: str, label: str) -> dict[str, Any]:
    """A top-level block of the Alloy configuration, read back by the independent parser."""
    found = [b for b in parse(_alloy_config(stack))["blocks"] if b["name"] == name and b["label"] == label]
    assert len(found) == 1, f"{name} {label!r}: {len(found)} blocks"
    return found[0]


def _child(block: dict[str, Any], name: str) -> dict[str, Any]:
    children = [b for b in block["blocks"] if b["name"] == name]
    assert len(children) == 1, name
    return children[0]


def _datasources(stack: Stack) -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(stack.config_data("grafana-provisioning")["datasources.yaml"])
    return {d["uid"]: d for d in doc["datasources"]}


def _prometheus_config(stack: Stack) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(stack.config_data("prometheus-config")["prometheus.yml"])
    return config


def _egress(stack: Stack, name: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = stack.get("NetworkPolicy", name)["spec"]["egress"]
    return rules


def _alloy_host_paths(stack: Stack) -> set[str]:
    spec = stack.get("DaemonSet", "alloy")["spec"]["template"]["spec"]
    return {v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}


def _policies_about(stack: Stack, component: str) -> set[str]:
    return {n for n in _names(stack, "NetworkPolicy") if component in n.removeprefix("allow-").split("-")}


# -- disabled without a replacement -------------------------------------------------------------------


def test_no_loki_leaves_out_logs_everywhere(variant: Callable[[str], Stack]) -> None:
    stack = variant("no-loki")
    assert "loki" not in _names(stack, "StatefulSet")
    assert not _policies_about(stack, "loki")
    # Alloy ships no logs: no log pipeline, no /var/log mount, no pod discovery (no Role, no token, no API)
    assert "loki.write" not in _alloy_config(stack)
    assert not _alloy_host_paths(stack) & LOG_HOST_PATHS
    assert _alloy_host_paths(stack) & METRIC_HOST_PATHS
    assert not [r for r in stack.all("Role") if r["metadata"]["name"] == "alloy"]
    assert (
        stack.get("DaemonSet", "alloy")["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    )
    assert "allow-alloy-to-kube-apiserver" not in _names(stack, "NetworkPolicy")
    # metrics and traces still flow
    assert "prometheus.remote_write" in _alloy_config(stack) and "otelcol.exporter.otlp" in _alloy_config(
        stack
    )
    # Prometheus does not scrape a Loki that is not there; Grafana has no Loki data source, no log
    # dashboards, and the overview keeps its metric panels only
    assert "loki" not in {j["job_name"] for j in _prometheus_config(stack)["scrape_configs"]}
    assert "loki" not in _datasources(stack)
    boards = {
        n.removeprefix("grafana-dashboard-") for n in _names(stack, "ConfigMap") if n.startswith("grafana-")
    }
    assert {"vault-overview", "vm-system", "trace-explorer"} <= boards
    assert not {"vault-audit", "container-logs"} & boards
    overview = stack.config_data("grafana-dashboard-vault-overview")["vault-overview.json"]
    # data sources are referenced by type through picker variables (``"query"`` is a picker's type)
    assert '"type": "loki"' not in overview and '"query": "loki"' not in overview
    assert '"type": "prometheus"' in overview
    trace = stack.config_data("grafana-dashboard-trace-explorer")["trace-explorer.json"]
    assert '"type": "loki"' not in trace and '"query": "loki"' not in trace
    with pytest.raises(
        ComponentDisabledError, match=r"loki is not part of this stack \(loki\.enabled is false\)"
    ):
        _ = stack.chart.loki


def test_no_tempo_closes_the_otlp_receiver(variant: Callable[[str], Stack]) -> None:
    stack = variant("no-tempo")
    assert "tempo" not in _names(stack, "StatefulSet")
    assert "otelcol" not in _alloy_config(stack)
    ports = {p["port"] for p in stack.get("Service", "alloy")["spec"]["ports"]}
    assert ports == {12345}
    container_ports = {
        p["containerPort"]
        for c in stack.get("DaemonSet", "alloy")["spec"]["template"]["spec"]["containers"]
        for p in c.get("ports", [])
    }
    assert container_ports == {12345}
    # the ingress controller may no longer send spans: nothing listens
    assert not connectivity(stack.objects).ingress_other_namespaces
    assert "tempo" not in _datasources(stack)
    assert "grafana-dashboard-trace-explorer" not in _names(stack, "ConfigMap")
    # the Loki data source loses its links to traces
    assert "derivedFields" not in _datasources(stack)["loki"]["jsonData"]


def test_no_prometheus_turns_off_what_writes_to_it(variant: Callable[[str], Stack]) -> None:
    stack = variant("no-prometheus")
    assert not {"prometheus", "grafana"} & _names(stack, "StatefulSet")
    assert "prometheus.remote_write" not in _alloy_config(stack)
    assert "blackbox" not in _alloy_config(stack)
    # the log mounts stay, the node-metric mounts (/proc, /sys, /) go
    assert not _alloy_host_paths(stack) & METRIC_HOST_PATHS
    assert "/var/log" in _alloy_host_paths(stack)
    tempo = yaml.safe_load(stack.config_data("tempo-config")["tempo.yaml"])
    assert "remote_write" not in str(tempo)
    assert not _policies_about(stack, "prometheus")
    # Loki's ruler still sends the audit-log alert to Alertmanager
    assert "alertmanager.vault-aio.svc:9093" in stack.config_data("loki-config")["loki.yaml"]


def test_no_grafana_no_dashboards(variant: Callable[[str], Stack]) -> None:
    stack = variant("no-grafana-alloy-chrony")
    assert "grafana" not in _names(stack, "StatefulSet")
    assert not [n for n in _names(stack, "ConfigMap") if n.startswith("grafana")]
    assert "grafana" not in {j["job_name"] for j in _prometheus_config(stack)["scrape_configs"]}
    assert not _policies_about(stack, "grafana")


def test_no_alloy_and_no_chrony_leave_no_node_namespace(variant: Callable[[str], Stack]) -> None:
    stack = variant("no-grafana-alloy-chrony")
    for workload in ("alloy", "chrony"):
        assert workload not in _names(stack, "DaemonSet")
        assert not _policies_about(stack, workload)
    matrix = connectivity(stack.objects)
    assert not [c for c in matrix.egress_external if c.port == 123]
    assert not matrix.ingress_other_namespaces
    # no node agent, no node namespace: the main one alone, restricted
    assert _names(stack, "Namespace") == {"vault-aio"}
    # the rest of the stack is untouched: Prometheus still scrapes and alerts, Loki still has its ruler
    assert {"prometheus", "alertmanager", "loki", "tempo", "vault"} <= _names(stack, "StatefulSet")


def test_vault_alone(variant: Callable[[str], Stack]) -> None:
    stack = variant("vault-only")
    assert {(w["kind"], w["metadata"]["name"]) for w, _ in stack.pod_templates()} == {
        ("StatefulSet", "vault")
    }
    assert _names(stack, "Namespace") == {"vault-aio"}
    assert stack.get("Namespace", "vault-aio")["metadata"]["labels"][
        "pod-security.kubernetes.io/enforce"
    ] == ("restricted")
    assert {"default-deny-all", "allow-dns", "allow-vault-to-kube-apiserver"} == _names(
        stack, "NetworkPolicy"
    )
    assert "vault-policies" in _names(stack, "ConfigMap")


# -- external replacements ----------------------------------------------------------------------------


def test_external_loki_gets_logs_and_queries_in_its_tenant(variant: Callable[[str], Stack]) -> None:
    stack = variant("external-loki")
    assert "loki" not in _names(stack, "StatefulSet")
    endpoint = _child(_alloy_block(stack, "loki.write", "default"), "endpoint")
    assert endpoint["attrs"] == {
        "url": "http://loki-gateway.logging.svc/loki/api/v1/push",
        "tenant_id": "vault-aio",
    }
    loki = _datasources(stack)["loki"]
    assert loki["url"] == "http://loki-gateway.logging.svc"
    assert loki["jsonData"]["httpHeaderName1"] == "X-Scope-OrgID"
    assert loki["secureJsonData"]["httpHeaderValue1"] == "vault-aio"
    expected = [
        {
            "ports": [{"port": 8080, "protocol": "TCP"}],
            "to": [{"namespaceSelector": {"matchLabels": LOGGING}, "podSelector": {"matchLabels": GATEWAY}}],
        }
    ]
    assert _egress(stack, "allow-alloy-to-loki") == expected
    assert _egress(stack, "allow-grafana-to-loki") == expected
    # one-sided: no ingress policy for a Loki that is not ours, no scrape of it, no Loki rules anywhere
    assert "allow-loki-from-alloy" not in _names(stack, "NetworkPolicy")
    assert "loki" not in {j["job_name"] for j in _prometheus_config(stack)["scrape_configs"]}
    assert "loki-rules" not in _names(stack, "ConfigMap")
    # the log dashboards are back
    assert "grafana-dashboard-vault-audit" in _names(stack, "ConfigMap")


def test_external_prometheus_outside_the_cluster(variant: Callable[[str], Stack]) -> None:
    stack = variant("external-prometheus")
    assert "prometheus" not in _names(stack, "StatefulSet")
    remote_write = _alloy_block(stack, "prometheus.remote_write", "default")
    assert _child(remote_write, "endpoint")["attrs"]["url"] == "https://mimir.example.com/api/v1/push"
    tempo = stack.config_data("tempo-config")["tempo.yaml"]
    assert "https://mimir.example.com/api/v1/push" in tempo
    prometheus = _datasources(stack)["prometheus"]
    assert prometheus["url"] == "https://mimir.example.com/prometheus"
    assert "prometheusVersion" not in prometheus["jsonData"]  # not ours: Grafana detects it
    expected = [{"ports": [{"port": 443, "protocol": "TCP"}], "to": [{"ipBlock": {"cidr": MIMIR_CIDR}}]}]
    for consumer in ("alloy", "tempo", "grafana"):
        assert _egress(stack, f"allow-{consumer}-to-prometheus") == expected, consumer
    egress = connectivity(stack.objects).egress_external
    assert {c.source for c in egress if c.destination == MIMIR_CIDR} == {"alloy", "tempo", "grafana"}


def test_external_alertmanager_receives_every_alert(variant: Callable[[str], Stack]) -> None:
    stack = variant("external-alertmanager")
    assert "alertmanager" not in _names(stack, "StatefulSet")
    alerting = _prometheus_config(stack)["alerting"]["alertmanagers"]
    assert alerting == [
        {
            "api_version": "v2",
            "scheme": "http",
            "static_configs": [{"targets": ["alertmanager-operated.monitoring.svc:9093"]}],
        }
    ]
    loki = yaml.safe_load(stack.config_data("loki-config")["loki.yaml"])
    assert loki["ruler"]["alertmanager_url"] == "http://alertmanager-operated.monitoring.svc:9093"
    assert _datasources(stack)["alertmanager"]["url"] == "http://alertmanager-operated.monitoring.svc:9093"
    for consumer in ("prometheus", "loki", "grafana"):
        rule = _egress(stack, f"allow-{consumer}-to-alertmanager")
        assert rule[0]["to"][0]["namespaceSelector"]["matchLabels"] == MONITORING, consumer
        assert rule[0]["ports"] == [{"port": 9093, "protocol": "TCP"}], consumer


def test_external_tempo_query_and_distributor_are_separate_peers(variant: Callable[[str], Stack]) -> None:
    stack = variant("external-tempo")
    client = _child(_alloy_block(stack, "otelcol.exporter.otlp", "tempo"), "client")
    assert client["attrs"]["endpoint"] == "tempo-distributor.tracing.svc:4317"
    assert _child(client, "tls")["attrs"] == {"insecure": False}
    assert _datasources(stack)["tempo"]["url"] == "http://tempo-query-frontend.tracing.svc:3200"
    # an external Tempo's service map is not known to exist
    assert "serviceMap" not in _datasources(stack)["tempo"]["jsonData"]
    alloy_to = _egress(stack, "allow-alloy-to-tempo")
    grafana_to = _egress(stack, "allow-grafana-to-tempo")
    assert [r["to"][0]["podSelector"]["matchLabels"] for r in alloy_to] == [
        {"app.kubernetes.io/component": "distributor"}
    ]
    assert [r["ports"] for r in alloy_to] == [[{"port": 4317, "protocol": "TCP"}]]
    assert [r["to"][0]["podSelector"]["matchLabels"] for r in grafana_to] == [
        {"app.kubernetes.io/component": "query-frontend"}
    ]
    assert [r["ports"] for r in grafana_to] == [[{"port": 3200, "protocol": "TCP"}]]


def test_external_tempo_otlp_defaults_to_the_query_host_on_4317() -> None:
    props = parse_settings(
        {
            "tempo": {
                "enabled": False,
                "external": {"url": "http://tempo.tracing.svc:3200", "namespace_labels": TRACING},
            }
        }
    )
    chart = VaultAioChart(cdk8s.App(), "t", props)
    assert chart.tempo_api is not None
    assert chart.tempo_api.otlp_grpc.url == "http://tempo.tracing.svc:4317"
    assert chart.tempo_api.otlp_grpc.ports == (4317,)


# -- the Python API -------------------------------------------------------------------------------------


def test_fails_creating_a_disabled_component() -> None:
    chart = StackChart(cdk8s.App(), "t")
    with pytest.raises(ValueError, match="loki: 'enabled' is false: a disabled component is not created"):
        Loki(chart, "Loki", LokiProps(enabled=False))


def test_fails_adding_loki_rules_to_a_stack_without_loki() -> None:
    class WithRules(VaultAioChart):
        def extend(self) -> None:
            self.loki.add_rules("mine.yaml", "groups: []\n")

    with pytest.raises(
        ComponentDisabledError, match=r"loki is not part of this stack \(loki\.enabled is false\)"
    ):
        WithRules(cdk8s.App(), "t", parse_settings(SETTINGS["external-loki"]))


def test_fails_alloy_asked_to_ship_what_its_settings_refuse() -> None:
    chart = StackChart(cdk8s.App(), "t")
    loki = Loki(chart, "Loki")
    alloy = Alloy(chart, "Alloy", AlloyProps(ship_logs=False))
    with pytest.raises(ValueError, match=r"alloy: ship_logs_to\(\) but 'ship_logs' is false"):
        alloy.ship_logs_to(loki)


def test_grafana_composed_by_hand_keeps_only_dashboards_it_can_fill() -> None:
    """Grafana with only Loki (composed in Python): no metric dashboard, the log ones stay."""
    chart = StackChart(cdk8s.App(), "t")
    loki = Loki(chart, "Loki")
    grafana = Grafana(chart, "Grafana", GrafanaProps(home_dashboard="vault-audit"))
    grafana.use_loki(loki)
    chart.finish()
    assert [d.name for d in grafana.dashboards] == ["vault-audit", "container-logs"]
    logs = json.loads(next(d for d in grafana.dashboards if d.name == "container-logs").json)
    assert '"prometheus"' not in json.dumps(logs)
