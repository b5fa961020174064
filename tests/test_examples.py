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


def test_vault_alone_in_a_users_own_chart_is_complete_and_protected(tmp_path: Path) -> None:
    """examples/vault_only.py: a team's StackChart with only Vault, never calling finish(), gives the whole
    of Vault (deferred config included), its Namespace at Pod Security restricted, and default-deny
    policies that allow exactly what Vault needs."""
    from tests.pss import admitted
    from vaultaio_constructs.analysis import connectivity

    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "vault_only.py"), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.safe_load_all((tmp_path / "out" / "platform-secrets.k8s.yaml").read_text()) if d]
    objects = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    ns = "platform-secrets"
    # complete: every object Vault needs, the ones rendered at finish() too
    assert {("StatefulSet", "vault"), ("Service", "vault"), ("Service", "vault-internal"),
            ("ConfigMap", "vault-config"), ("ConfigMap", "vault-policies"), ("Role", "vault"),
            ("PodDisruptionBudget", "vault"), ("Namespace", ns)} <= set(objects)  # fmt: skip
    assert "ci-deployer.hcl" in objects[("ConfigMap", "vault-policies")]["data"]
    assert objects[("StatefulSet", "vault")]["spec"]["replicas"] == 3
    # only the stack's own namespace: no node namespace without node agents, restricted enforced
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"] == [ns]
    labels = objects[("Namespace", ns)]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert admitted("restricted", objects[("StatefulSet", "vault")]["spec"]["template"]["spec"]) == []
    # protected: default deny, and exactly Vault's own connections allowed
    matrix = connectivity(docs)
    assert {(c.source, c.destination, c.port) for c in matrix.internal} == {
        ("vault", "vault", 8200),
        ("vault", "vault", 8201),
    }
    assert not matrix.ingress_other_namespaces
    # the API server (any address by default, IPv4 and IPv6) for service registration, nothing else outside
    assert {(c.destination, c.port) for c in matrix.egress_external} == {
        (cidr, port) for cidr in ("0.0.0.0/0", "::/0") for port in (443, 6443)
    }
    assert {d["metadata"]["name"] for d in docs if d["kind"] == "NetworkPolicy"} == {
        "default-deny-all",
        "allow-dns",
        "allow-vault-to-vault",
        "allow-vault-from-vault",
        "allow-vault-to-kube-apiserver",
    }
    for d in docs:
        if d["kind"] not in ("Namespace",):
            assert d["metadata"]["namespace"] == ns, d["metadata"]["name"]


def test_examples_import_only_the_top_level_package() -> None:
    """What an importer needs is exported from vaultaio_constructs itself (lazily, PEP 562)."""
    import vaultaio_constructs

    for name in vaultaio_constructs.__all__:
        assert getattr(vaultaio_constructs, name) is not None, name
    text = (REPO / "examples" / "vault_only.py").read_text()
    assert "from vaultaio_constructs import " in text and "from vaultaio_constructs." not in text
