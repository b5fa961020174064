"""Every scenario in ``examples/settings/`` synthesizes from its file and passes what the default passes.

The strict schema checks (1.27, newest, CRDs) and the hardening guarantees run over every scenario in
``tests/test_schemas.py`` and ``tests/test_hardening.py``. Here: each scenario's rule files pass promtool,
its NetworkPolicies allow exactly the default's connections plus the ones the scenario declares, and what
each scenario is for is really in its output.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.crds import is_custom, validate_custom_resource
from tests.scenarios import REPO, SCENARIOS, scenario_stack
from tests.stack import Stack, synth_stack
from tests.test_network_matrix import Row, rows
from tests.tools import require_tool
from vaultaio_constructs.analysis import connectivity
from vaultaio_constructs.output import write

#: ``examples/settings/operator.yaml``: kube-prometheus-stack's Prometheus pods in namespace monitoring.
CLUSTER_PROMETHEUS = "kubernetes.io/metadata.name=monitoring/app.kubernetes.io/name=prometheus"

#: Connections each scenario adds to the default stack's, and why. A new scenario must declare its own.
ADDED: dict[str, set[Row]] = {
    # the cluster's Prometheus scrapes Vault's metrics listener, and nothing else
    "operator": {(CLUSTER_PROMETHEUS, "vault", 8202, "TCP")},
    # three raft voters: retry_join and request forwarding between Vault pods, on the API and cluster ports
    "cert-manager": {("vault", "vault", 8200, "TCP"), ("vault", "vault", 8201, "TCP")},
}


def test_every_scenario_is_known() -> None:
    assert {"operator", "cert-manager"} <= set(SCENARIOS)
    assert set(SCENARIOS) == set(ADDED), "declare the connections of every scenario in ADDED"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_adds_exactly_its_connections(name: str, stack: Stack) -> None:
    default = rows(connectivity(stack.objects))
    allowed = rows(connectivity(scenario_stack(name).objects))
    assert (allowed - default, default - allowed) == (ADDED[name], set())


def _rule_files(stack: Stack) -> dict[str, dict[str, Any]]:
    """Every Prometheus rule file of a stack: the own Prometheus' and each PrometheusRule's groups."""
    files: dict[str, dict[str, Any]] = {}
    if stack.has("ConfigMap", "prometheus-rules"):
        for key, text in stack.config_data("prometheus-rules").items():
            files[f"configmap-{key}"] = yaml.safe_load(text)
    for rule in stack.all("PrometheusRule"):
        files[f"prometheusrule-{rule['metadata']['name']}.yaml"] = {"groups": rule["spec"]["groups"]}
    return files


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_rule_files_pass_promtool(name: str, tmp_path: Path) -> None:
    files = _rule_files(scenario_stack(name))
    assert files
    promtool = require_tool("promtool")
    for file_name, document in files.items():
        path = tmp_path / file_name
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, f"{name}/{file_name}: {result.stdout}{result.stderr}"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_custom_resources_match_their_crds(name: str) -> None:
    problems = [
        p for o in scenario_stack(name).objects if is_custom(o) for p in validate_custom_resource(o)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_output_builds_with_kustomize(name: str, tmp_path: Path) -> None:
    """Written as make synth writes dist/, the scenario builds with kustomize, custom resources included."""
    stack = scenario_stack(name)
    kubectl = require_tool("kubectl")
    write(stack.manifests, tmp_path / "dist")
    result = subprocess.run(
        [kubectl, "kustomize", str(tmp_path / "dist")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    built = sorted((d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(result.stdout) if d)
    assert built == sorted((m.kind, m.name) for m in stack.manifests)


# -- what each scenario is for -----------------------------------------------------------------------------


def test_operator_scenario_serves_an_existing_kube_prometheus_stack() -> None:
    stack = scenario_stack("operator")
    custom = sorted((o["kind"], o["metadata"]["name"]) for o in stack.objects if is_custom(o))
    assert custom == [("PodMonitor", "vault"), ("PrometheusRule", "vault")]
    for obj in stack.all("PodMonitor") + stack.all("PrometheusRule"):
        assert obj["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    dashboards = [m.body for m in stack.manifests if m.path.startswith("dashboards/")]
    assert len(dashboards) == 5
    for config_map in dashboards:
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert config_map["metadata"]["annotations"]["k8s-sidecar-target-directory"] == "Vault"


def test_cert_manager_scenario_needs_no_script_for_tls() -> None:
    stack = scenario_stack("cert-manager")
    chain = sorted((o["kind"], o["metadata"]["name"]) for o in stack.objects if is_custom(o))
    assert chain == [
        ("Certificate", "vault-ca"),
        ("Certificate", "vault-tls"),
        ("Issuer", "vault-ca"),
        ("Issuer", "vault-selfsigned"),
    ]
    assert stack.get("Certificate", "vault-tls")["spec"]["secretName"] == "vault-tls"
    assert stack.get("StatefulSet", "vault")["spec"]["replicas"] == 3


def test_readme_kube_prometheus_stack_example_is_the_operator_scenario() -> None:
    """The README's snippet synthesizes and says what examples/settings/operator.yaml says."""
    section = (REPO / "README.md").read_text().split("### Already running kube-prometheus-stack?", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block, "README has no yaml block under 'Already running kube-prometheus-stack?'"
    readme = yaml.safe_load(block.group(1))
    scenario = yaml.safe_load(SCENARIOS["operator"].read_text())
    assert readme["monitoring"] == scenario["monitoring"]
    stack = synth_stack(readme)
    assert stack.has("PodMonitor", "vault") and stack.has("PrometheusRule", "vault")
