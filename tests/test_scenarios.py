"""Every scenario in ``examples/settings/`` synthesizes from its file and passes what the default passes.

The strict schema checks (1.27, newest), the hardening guarantees and the in-cluster address checks run
over every scenario in ``tests/test_schemas.py``, ``tests/test_hardening.py`` and
``tests/test_network_urls.py``. Here: each scenario's NetworkPolicies allow exactly the default's
connections plus the ones it declares and minus the ones it declares gone (each with its reason), its
Prometheus and Alertmanager configurations pass promtool and amtool, and what each scenario is for is
really in its output.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.scenarios import SCENARIOS, scenario_stack
from tests.stack import Stack
from tests.test_network_matrix import OWN_LOKI, Row, rows
from tests.tools import require_tool
from vaultaio_constructs.analysis import connectivity

#: ``examples/settings/external-loki.yaml``: the grafana/loki chart's gateway pods in namespace logging.
LOKI_GATEWAY = (
    "kubernetes.io/metadata.name=logging/"
    "app.kubernetes.io/component=gateway,app.kubernetes.io/instance=loki,app.kubernetes.io/name=loki"
)

#: Connections each scenario adds to the default stack's, and why. A new scenario must declare its own.
ADDED: dict[str, set[Row]] = {
    # today's stack: nothing more
    "full": set(),
    # the two readers and writers of logs reach the gateway's pod port (the Service maps 80 to it), only them
    "external-loki": {("alloy", LOKI_GATEWAY, 8080, "TCP"), ("grafana", LOKI_GATEWAY, 8080, "TCP")},
}

#: Connections each scenario takes away from the default stack's (nothing unless listed), and why.
REMOVED: dict[str, set[Row]] = {
    # no Loki of the stack's own: its clients, its scrape, its ruler's alerts and its DNS go; Alloy keeps
    # discovering pods (it still ships their logs, to the gateway)
    "external-loki": OWN_LOKI,
}


def test_every_scenario_is_known() -> None:
    assert {"full", "external-loki"} <= set(SCENARIOS)
    assert set(SCENARIOS) == set(ADDED), "declare the connections of every scenario in ADDED"
    assert set(REMOVED) <= set(SCENARIOS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_changes_exactly_its_connections(name: str, stack: Stack) -> None:
    default = rows(connectivity(stack.objects))
    allowed = rows(connectivity(scenario_stack(name).objects))
    assert (allowed - default, default - allowed) == (ADDED[name], REMOVED.get(name, set()))


def _config(stack: Stack, config_map: str, key: str) -> str | None:
    return stack.config_data(config_map)[key] if stack.has("ConfigMap", config_map) else None


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_prometheus_config_and_rules_pass_promtool(name: str, tmp_path: Path) -> None:
    """The same check as the default's (tests/prometheus): the config with its rule files and CA in place."""
    stack = scenario_stack(name)
    config = _config(stack, "prometheus-config", "prometheus.yml")
    if config is None:
        pytest.skip(f"{name}: runs no Prometheus of its own")
    promtool = require_tool("promtool")
    document = yaml.safe_load(config)
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    for key, text in stack.config_data("prometheus-rules").items():
        (rules_dir / key).write_text(text)
    document["rule_files"] = [str(rules_dir / "*.yaml")]
    for job in document["scrape_configs"]:
        ca = (job.get("tls_config") or {}).get("ca_file")
        if ca:
            path = tmp_path / "ca" / Path(ca).name
            path.parent.mkdir(exist_ok=True)
            path.write_text("")
            job["tls_config"]["ca_file"] = str(path)
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(document))
    result = subprocess.run(
        [promtool, "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for rule_file in rules_dir.iterdir():
        result = subprocess.run([promtool, "check", "rules", str(rule_file)], capture_output=True, text=True)
        assert result.returncode == 0, f"{name}/{rule_file.name}: {result.stdout}{result.stderr}"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_alertmanager_config_passes_amtool(name: str, tmp_path: Path) -> None:
    stack = scenario_stack(name)
    config = _config(stack, "alertmanager-config", "alertmanager.yml")
    if config is None:
        pytest.skip(f"{name}: runs no Alertmanager of its own")
    amtool = require_tool("amtool")
    (tmp_path / "alertmanager.yml").write_text(config)
    result = subprocess.run(
        [amtool, "check-config", str(tmp_path / "alertmanager.yml")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


# -- what each scenario is for -----------------------------------------------------------------------------


def test_full_scenario_is_exactly_the_default_stack(stack: Stack) -> None:
    """full.yaml spells out the defaults: it synthesizes the same objects as no settings at all (which
    tests/test_dist.py proves is the committed dist/)."""
    full = scenario_stack("full")
    assert [m.path for m in full.manifests] == [m.path for m in stack.manifests]
    assert full.yaml() == stack.yaml()


def _datasources(stack: Stack) -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(stack.config_data("grafana-provisioning")["datasources.yaml"])
    return {d["uid"]: d for d in doc["datasources"]}


def test_external_loki_scenario_ships_and_queries_logs_in_the_existing_loki() -> None:
    stack = scenario_stack("external-loki")
    assert "loki" not in {o["metadata"]["name"] for o in stack.all("StatefulSet")}
    assert not [o for o in stack.objects if o["metadata"]["labels"].get("app.kubernetes.io/name") == "loki"]
    alloy = stack.config_data("alloy-config")["config.alloy"]
    assert 'url       = "http://loki-gateway.logging.svc/loki/api/v1/push"' in alloy
    assert 'tenant_id = "vault-aio"' in alloy
    loki = _datasources(stack)["loki"]
    assert loki["url"] == "http://loki-gateway.logging.svc"
    assert (loki["jsonData"]["httpHeaderName1"], loki["secureJsonData"]["httpHeaderValue1"]) == (
        "X-Scope-OrgID",
        "vault-aio",
    )
    # the audit and log dashboards have their Loki; the audit pipeline (Alloy's pod logs) is intact
    boards = {o["metadata"]["name"] for o in stack.all("ConfigMap")}
    assert {"grafana-dashboard-vault-audit", "grafana-dashboard-container-logs"} <= boards
    assert 'pipeline_name = "vault_audit"' in alloy
    # one-sided: the policies of the stack allow egress to the gateway, nothing into the stack from it
    matrix = connectivity(stack.objects)
    assert not [c for c in matrix.ingress_other_namespaces if "logging" in c.source]
