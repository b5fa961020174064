"""The README's example of importing and extending the constructs really works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def test_extended_stack_example_synthesizes_and_extends(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "extended_stack.py"), str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    docs = {p.relative_to(out).as_posix(): yaml.safe_load(p.read_text()) for p in out.rglob("*.yaml")}
    # the extra dashboard is provisioned like the built-in ones
    board = docs["dashboards/configmap-grafana-dashboard-payments-vault.yaml"]
    assert board["metadata"]["labels"]["grafana_dashboard"] == "1"
    # the extra scrape target is in prometheus.yml and its NetworkPolicy edge exists on both sides
    prom = yaml.safe_load(docs["monitoring/configmap-prometheus-config.yaml"]["data"]["prometheus.yml"])
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    assert "payments.payments-vault.svc:9102" in str(jobs["payments"])
    assert "network-policies/networkpolicy-allow-prometheus-to-payments.yaml" in docs
    assert "network-policies/networkpolicy-allow-payments-from-prometheus.yaml" in docs
    # the extra Vault policy ships with the built-in ones
    assert "payments.hcl" in docs["vault/configmap-vault-policies.yaml"]["data"]
    # settings in code took effect
    assert docs["vault/statefulset-vault.yaml"]["spec"]["replicas"] == 3
    assert docs["setup/namespace-payments-vault.yaml"]["metadata"]["name"] == "payments-vault"
