"""Every scenario in ``examples/settings/*.yaml`` loads through the same entry point as ``vaultaio.yaml`` and
its synthesized stack passes the validators the default does: strict Kubernetes schemas (1.27 and the
newest), the hardening guarantees (tests/test_hardening.py runs over every scenario too), every in-cluster
address resolves and is allowed and no policy is unused (tests/test_network_urls.py's checks), and
``promtool check config`` on its Prometheus configuration.

Scenario-specific expectations (what makes ``ha.yaml`` highly available) are asserted below, so a scenario
that silently stops exercising its feature fails.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.stack import Stack, synth_stack
from tests.test_network_urls import _analyse, check
from tests.test_schemas import VERSIONS, _failures
from tests.tools import require_tool
from vaultaio_constructs.settings import load_settings

SCENARIOS_DIR = Path(__file__).resolve().parent.parent / "examples" / "settings"
SCENARIOS = sorted(SCENARIOS_DIR.glob("*.yaml"))


def scenario_stack(path: Path) -> Stack:
    return synth_stack(load_settings(path))


@pytest.fixture(scope="module", params=SCENARIOS, ids=[p.stem for p in SCENARIOS])
def scenario(request: pytest.FixtureRequest) -> Stack:
    return scenario_stack(request.param)


@pytest.fixture(scope="module")
def ha() -> Stack:
    return scenario_stack(SCENARIOS_DIR / "ha.yaml")


def test_there_are_scenarios() -> None:
    assert (SCENARIOS_DIR / "ha.yaml") in SCENARIOS


@pytest.mark.parametrize("version", VERSIONS)
def test_scenario_validates_strictly(scenario: Stack, version: str) -> None:
    failures = _failures(scenario, version)
    assert not failures, "\n".join(failures)


def test_scenario_addresses_resolve_and_every_policy_is_used(scenario: Stack) -> None:
    _, refs, matrix = _analyse(scenario)
    problems, needed = check(scenario, matrix, refs)
    assert not problems, "\n".join(problems)
    assert not sorted(matrix.internal - needed), "policies allow connections no configuration uses"


def test_scenario_prometheus_config_passes_promtool(scenario: Stack, tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    config = tmp_path / "prometheus.yml"
    config.write_text(scenario.config_data("prometheus-config")["prometheus.yml"])
    result = subprocess.run(
        [promtool, "check", "config", "--syntax-only", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# -- what ha.yaml must keep exercising -------------------------------------------------------------------


def _config(stack: Stack, name: str, key: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(stack.config_data(name)[key])
    return doc


def test_ha_runs_three_of_each_stateful_store(ha: Stack) -> None:
    for name in ("vault", "loki", "tempo"):
        assert ha.get("StatefulSet", name)["spec"]["replicas"] == 3, name
        assert ha.has("PodDisruptionBudget", name), name


def test_ha_loki_and_tempo_use_object_storage_with_memberlist_rings(ha: Stack) -> None:
    loki = _config(ha, "loki-config", "loki.yaml")
    assert loki["common"]["ring"]["kvstore"]["store"] == "memberlist"
    assert loki["common"]["replication_factor"] == 3
    assert loki["schema_config"]["configs"][0]["object_store"] == "s3"
    assert loki["common"]["storage"]["s3"]["bucketnames"] == "loki-chunks"
    tempo = _config(ha, "tempo-config", "tempo.yaml")
    assert tempo["target"] == "scalable-single-binary"
    assert tempo["ingester"]["lifecycler"]["ring"]["replication_factor"] == 3
    assert tempo["storage"]["trace"]["backend"] == "s3"
    assert tempo["storage"]["trace"]["s3"]["bucket"] == "tempo-traces"
    # the metrics-generator still remote-writes to Prometheus
    assert tempo["metrics_generator"]["storage"]["remote_write"][0]["url"].endswith("/api/v1/write")
    for component in ("loki", "tempo"):
        assert ha.has("NetworkPolicy", f"allow-{component}-to-object-storage")
        assert ha.has("NetworkPolicy", f"allow-{component}-to-{component}")
