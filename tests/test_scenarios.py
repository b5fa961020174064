"""Every scenario in ``examples/settings/`` goes through the same gates as the default stack.

For each ``examples/settings/<name>.yaml``: the settings file loads through the real loader, the stack
synthesizes into a folder as ``make synth`` writes ``dist/``, ``kubectl kustomize`` builds it, every object
validates strictly against the oldest Kubernetes version it targets (``kubernetes_version``) and the
newest schema (custom resources against their CRD), ``promtool`` checks the Prometheus configuration and
every rule file (the own Prometheus' and each PrometheusRule's), ``amtool`` the Alertmanager configuration,
and every in-cluster address in every
configuration resolves and is allowed by the NetworkPolicies (which allow nothing unused). The hardening
guarantees and the exact connectivity table of each scenario are in tests/test_hardening.py and
tests/test_network_matrix.py. What each scenario is for is checked in its output at the end.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.crds import validate_object
from tests.prometheus.promtool import check_config_as_mounted
from tests.stack import SAME_AS_DEFAULT, SCENARIOS_DIR, Stack, scenario_names, scenario_settings, synth_stack
from tests.stack import scenario_stack as synth_scenario
from tests.test_network_urls import _analyse, check
from tests.tools import require_tool
from vaultaio_constructs.analysis import connectivity
from vaultaio_constructs.output import synth
from vaultaio_constructs.settings import load_settings

#: libyaml's safe loader (same documents as ``yaml.safe_load``, ten times faster on a stack's manifests).
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: The oldest version the scenario targets (its ``kubernetes_version``) and the newest schema.
SCHEMA_VERSIONS = ("oldest", "newest")
SCENARIOS = scenario_names()


@pytest.fixture(scope="module", params=[s for s in SCENARIOS if s not in SAME_AS_DEFAULT])
def scenario(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """``(name, dist folder)``: the scenario loaded from its file and written like ``make synth`` does."""
    name: str = request.param
    props = load_settings(SCENARIOS_DIR / f"{name}.yaml")
    out = tmp_path_factory.mktemp(name) / "dist"
    synth(props, out)
    return name, out


def _objects(dist: Path) -> list[dict[str, Any]]:
    return [
        d
        for f in sorted(dist.rglob("*.yaml"))
        if f.name != "kustomization.yaml"
        for d in yaml.load_all(f.read_text(), LOADER)
        if d
    ]


def _config_map(dist: Path, name: str) -> dict[str, str]:
    found = [o for o in _objects(dist) if o["kind"] == "ConfigMap" and o["metadata"]["name"] == name]
    assert len(found) == 1, name
    data: dict[str, str] = found[0]["data"]
    return data


def test_there_is_a_scenario_for_high_availability_operator_and_cert_manager() -> None:
    assert {"ha", "operator", "cert-manager"} <= set(SCENARIOS)


def test_kustomize_builds_every_object(scenario: tuple[str, Path]) -> None:
    kubectl = require_tool("kubectl")
    _, dist = scenario
    out = subprocess.run([kubectl, "kustomize", str(dist)], check=True, capture_output=True, text=True).stdout
    built = sorted((d["kind"], d["metadata"]["name"]) for d in yaml.load_all(out, LOADER) if d)
    assert built == sorted((o["kind"], o["metadata"]["name"]) for o in _objects(dist))


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_objects_validate_strictly(scenario: tuple[str, Path], version: str) -> None:
    name, dist = scenario
    if version == "oldest":
        version = load_settings(SCENARIOS_DIR / f"{name}.yaml").kubernetes_version
    else:
        version = kubernetes_validate.latest_version()
    failures = [problem for o in _objects(dist) for problem in validate_object(o, version)]
    assert not failures, "\n".join(failures)


def test_prometheus_config_and_rules_pass_promtool(scenario: tuple[str, Path], tmp_path: Path) -> None:
    """Full check with every file the pod mounts laid out (tests/prometheus/promtool.py), then the rules."""
    promtool = require_tool("promtool")
    name, dist = scenario
    rule_files: dict[str, str] = {}
    if load_settings(SCENARIOS_DIR / f"{name}.yaml").prometheus.enabled:
        check_config_as_mounted(_objects(dist), tmp_path / "pod")
        rule_files["vault-aio.yaml"] = _config_map(dist, "prometheus-rules")["vault-aio.yaml"]
    for rule in (o for o in _objects(dist) if o["kind"] == "PrometheusRule"):
        rule_files[f"prometheusrule-{rule['metadata']['name']}.yaml"] = yaml.safe_dump(
            {"groups": rule["spec"]["groups"]}, sort_keys=False
        )
    assert rule_files, f"{name}: no Prometheus rules at all (neither the own Prometheus nor a PrometheusRule)"
    for file_name, text in rule_files.items():
        rules = tmp_path / file_name
        rules.write_text(text)
        lint = ["--lint=all", "--lint-fatal"]
        command = [promtool, "check", "rules", *lint, str(rules)]
        result = subprocess.run(command, capture_output=True, text=True)
        assert result.returncode == 0, f"{file_name}: {result.stdout}{result.stderr}"


def test_alertmanager_config_passes_amtool(scenario: tuple[str, Path], tmp_path: Path) -> None:
    amtool = require_tool("amtool")
    name, dist = scenario
    if not load_settings(SCENARIOS_DIR / f"{name}.yaml").alertmanager.enabled:
        assert not [o for o in _objects(dist) if o["metadata"]["name"] == "alertmanager-config"]
        return  # an Alertmanager the cluster runs: its configuration is not ours
    config = tmp_path / "alertmanager.yml"
    config.write_text(_config_map(dist, "alertmanager-config")["alertmanager.yml"])
    result = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def scenario_stack(scenario: tuple[str, Path]) -> Stack:
    name, _ = scenario
    return synth_scenario(name)


def test_every_in_cluster_address_resolves_and_only_used_connections_are_allowed(
    scenario_stack: Stack,
) -> None:
    scanner, refs, matrix = _analyse(scenario_stack)
    problems, needed = check(scenario_stack, matrix, refs)
    problems = scanner.problems + problems
    unused = sorted(matrix.internal - needed)
    problems += [f"allowed but used by no configuration: {c}" for c in unused]
    assert not problems, "\n".join(problems)


# -- what each scenario is for -----------------------------------------------------------------------------


def _custom(stack: Stack) -> list[tuple[str, str]]:
    groups = ("monitoring.coreos.com/", "cert-manager.io/")
    return sorted(
        (o["kind"], o["metadata"]["name"]) for o in stack.objects if o["apiVersion"].startswith(groups)
    )


def test_operator_scenario_serves_an_existing_kube_prometheus_stack() -> None:
    stack = synth_scenario("operator")
    # instead of the stack's own monitoring, not beside it
    workloads = {(o["kind"], o["metadata"]["name"]) for o in stack.objects if o["kind"].endswith("Set")}
    assert not {("StatefulSet", n) for n in ("prometheus", "alertmanager", "grafana")} & workloads
    assert ("StatefulSet", "vault") in workloads
    assert _custom(stack) == [("PodMonitor", "vault"), ("PrometheusRule", "vault")]
    for obj in stack.all("PodMonitor") + stack.all("PrometheusRule"):
        assert obj["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    # Alloy remote-writes node metrics and the TLS probe to the cluster's Prometheus: the certificate
    # alerts of the PrometheusRule have their data there
    alloy = stack.config_data("alloy-config")["config.alloy"]
    assert "http://kube-prometheus-stack-prometheus.monitoring.svc:9090/api/v1/write" in alloy
    assert 'prometheus.exporter.blackbox "vault_tls"' in alloy
    # the dashboards its Grafana can fill from that Prometheus, for its sidecar, with no fixed data source
    dashboards = {m.name: m.body for m in stack.manifests if m.path.startswith("dashboards/")}
    assert set(dashboards) == {"grafana-dashboard-vault-overview", "grafana-dashboard-vm-system"}
    for config_map in dashboards.values():
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert config_map["metadata"]["annotations"]["k8s-sidecar-target-directory"] == "Vault"
        (text,) = config_map["data"].values()
        assert '"type": "loki"' not in text and '"uid": "prometheus"' not in text


def test_cert_manager_scenario_needs_no_script_for_tls() -> None:
    stack = synth_scenario("cert-manager")
    assert _custom(stack) == [
        ("Certificate", "vault-ca"),
        ("Certificate", "vault-tls"),
        ("Issuer", "vault-ca"),
        ("Issuer", "vault-selfsigned"),
    ]
    assert stack.get("Certificate", "vault-tls")["spec"]["secretName"] == "vault-tls"
    assert stack.get("StatefulSet", "vault")["spec"]["replicas"] == 3


def test_readme_kube_prometheus_stack_example_is_the_operator_scenario() -> None:
    """The README's snippet synthesizes and says what examples/settings/operator.yaml says."""
    readme_text = (SCENARIOS_DIR.parent.parent / "README.md").read_text()
    section = readme_text.split("### Already running kube-prometheus-stack?", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block, "README has no yaml block under 'Already running kube-prometheus-stack?'"
    readme = yaml.safe_load(block.group(1))
    assert readme["monitoring"] == scenario_settings("operator")["monitoring"]
    stack = synth_stack(readme)
    assert stack.has("PodMonitor", "vault") and stack.has("PrometheusRule", "vault")


@pytest.mark.parametrize("name", sorted(SAME_AS_DEFAULT))
def test_full_scenario_is_exactly_the_default_stack(name: str, stack: Stack) -> None:
    """full.yaml spells out the defaults: it synthesizes the same objects as no settings at all (which
    tests/test_dist.py proves is the committed dist/), so it passes every gate the default passes."""
    full = synth_scenario(name)
    assert [m.path for m in full.manifests] == [m.path for m in stack.manifests]
    assert full.yaml() == stack.yaml()


def test_external_loki_scenario_ships_and_queries_logs_in_the_existing_loki() -> None:
    stack = synth_scenario("external-loki")
    assert not [o for o in stack.objects if o["metadata"]["labels"].get("app.kubernetes.io/name") == "loki"]
    alloy = stack.config_data("alloy-config")["config.alloy"]
    assert 'url       = "http://loki-gateway.logging.svc/loki/api/v1/push"' in alloy
    assert 'tenant_id = "vault-aio"' in alloy
    datasources = yaml.safe_load(stack.config_data("grafana-provisioning")["datasources.yaml"])
    loki = {d["uid"]: d for d in datasources["datasources"]}["loki"]
    assert loki["url"] == "http://loki-gateway.logging.svc"
    assert (loki["jsonData"]["httpHeaderName1"], loki["secureJsonData"]["httpHeaderValue1"]) == (
        "X-Scope-OrgID",
        "vault-aio",
    )
    # the audit and log dashboards have their Loki; the audit pipeline (Alloy's pod logs) is intact
    boards = {o["metadata"]["name"] for o in stack.all("ConfigMap")}
    assert {"grafana-dashboard-vault-audit", "grafana-dashboard-container-logs"} <= boards
    assert 'pipeline_name = "vault_audit"' in alloy
    # one-sided: egress to the gateway, nothing into the stack from its namespace
    matrix = connectivity(stack.objects)
    assert not [c for c in matrix.ingress_other_namespaces if "logging" in c.source]


# -- what ha.yaml must keep exercising for Loki and Tempo ------------------------------------------------


def _config(stack: Stack, name: str, key: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(stack.config_data(name)[key])
    return doc


def test_ha_runs_three_loki_and_tempo_pods_with_disruption_budgets(ha_stack: Stack) -> None:
    for name in ("loki", "tempo"):
        assert ha_stack.get("StatefulSet", name)["spec"]["replicas"] == 3, name
        assert ha_stack.has("PodDisruptionBudget", name), name


def test_ha_loki_and_tempo_use_object_storage_with_memberlist_rings(ha_stack: Stack) -> None:
    loki = _config(ha_stack, "loki-config", "loki.yaml")
    assert loki["common"]["ring"]["kvstore"]["store"] == "memberlist"
    assert loki["common"]["replication_factor"] == 3
    assert loki["schema_config"]["configs"][0]["object_store"] == "s3"
    assert loki["common"]["storage"]["s3"]["bucketnames"] == "loki-chunks"
    tempo = _config(ha_stack, "tempo-config", "tempo.yaml")
    assert tempo["target"] == "scalable-single-binary"
    assert tempo["ingester"]["lifecycler"]["ring"]["replication_factor"] == 3
    assert tempo["storage"]["trace"]["backend"] == "s3"
    assert tempo["storage"]["trace"]["s3"]["bucket"] == "tempo-traces"
    # the metrics-generator still remote-writes to Prometheus (every replica of the HA pair)
    urls = [w["url"] for w in tempo["metrics_generator"]["storage"]["remote_write"]]
    assert urls and all(u.endswith("/api/v1/write") for u in urls)
    for component in ("loki", "tempo"):
        assert ha_stack.has("NetworkPolicy", f"allow-{component}-to-object-storage")
        assert ha_stack.has("NetworkPolicy", f"allow-{component}-to-{component}")
