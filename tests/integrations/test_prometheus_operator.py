"""Prometheus Operator mode: the PodMonitor scrapes Vault exactly as the stack's own Prometheus does, the
PrometheusRule carries the same Vault rules (promtool-checked and unit-tested), the Probe probes what Alloy
probes, and the NetworkPolicies admit the cluster's Prometheus to the metrics port and nothing more."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.crds import validate_custom_resource
from tests.stack import Stack, synth_stack
from tests.tools import require_tool
from vaultaio_constructs.alerts import prometheus_rule_groups, render_promtool_tests, render_rules
from vaultaio_constructs.alerts.rules import VAULT_GROUP
from vaultaio_constructs.analysis import connectivity
from vaultaio_constructs.settings import SettingsError, parse_settings

MONITORING_NS = {"kubernetes.io/metadata.name": "monitoring"}
BLACKBOX = {
    "prober_url": "blackbox-exporter.monitoring.svc:9115",
    "module": "vault_tls",
    "namespace_labels": MONITORING_NS,
    "pod_labels": {"app.kubernetes.io/name": "prometheus-blackbox-exporter"},
}
SETTINGS: dict[str, Any] = {"monitoring": {"prometheus_operator": {"blackbox_probe": BLACKBOX}}}
PROMETHEUS_PEER = "kubernetes.io/metadata.name=monitoring/app.kubernetes.io/name=prometheus"
BLACKBOX_PEER = "kubernetes.io/metadata.name=monitoring/app.kubernetes.io/name=prometheus-blackbox-exporter"


@pytest.fixture(scope="module")
def operator() -> Stack:
    return synth_stack(SETTINGS)


def _custom(stack: Stack) -> list[dict[str, Any]]:
    return [o for o in stack.objects if o["apiVersion"].startswith("monitoring.coreos.com/")]


def _own_vault_job(stack: Stack) -> dict[str, Any]:
    config = yaml.safe_load(stack.config_data("prometheus-config")["prometheus.yml"])
    return next(job for job in config["scrape_configs"] if job["job_name"] == "vault")


def _vault_container(stack: Stack) -> dict[str, Any]:
    template = stack.get("StatefulSet", "vault")["spec"]["template"]
    return next(c for c in template["spec"]["containers"] if c["name"] == "vault")


def test_emits_exactly_podmonitor_prometheusrule_and_probe(operator: Stack, stack: Stack) -> None:
    assert sorted((o["kind"], o["metadata"]["name"]) for o in _custom(operator)) == [
        ("PodMonitor", "vault"),
        ("Probe", "vault-tls"),
        ("PrometheusRule", "vault"),
    ]
    assert _custom(stack) == []


def test_custom_resources_are_valid_against_their_crds(operator: Stack) -> None:
    problems = [p for o in _custom(operator) for p in validate_custom_resource(o)]
    assert not problems, "\n".join(problems)


def test_resource_labels_from_settings_on_every_custom_resource() -> None:
    stack = synth_stack({"monitoring": {"prometheus_operator": {"resource_labels": {"release": "prom"}}}})
    for obj in _custom(stack):
        assert obj["metadata"]["labels"]["release"] == "prom", obj["kind"]


def test_podmonitor_selects_every_vault_pod_on_the_metrics_port(operator: Stack) -> None:
    monitor = operator.get("PodMonitor", "vault")["spec"]
    template = operator.get("StatefulSet", "vault")["spec"]["template"]
    labels = template["metadata"]["labels"]
    assert monitor["namespaceSelector"] == {"matchNames": ["vault-aio"]}
    assert monitor["selector"]["matchLabels"].items() <= labels.items()
    # no other workload's pods match (the backup job, the rest of the stack)
    others = [w for w, t in operator.pod_templates() if w["metadata"]["name"] != "vault"]
    for workload in others:
        pod_labels = (
            workload["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
            if workload["kind"] == "CronJob"
            else workload["spec"]["template"]["metadata"]["labels"]
        )
        assert not monitor["selector"]["matchLabels"].items() <= pod_labels.items(), workload["metadata"]
    (endpoint,) = monitor["podMetricsEndpoints"]
    ports = {p["name"]: p["containerPort"] for p in _vault_container(operator)["ports"]}
    own = _own_vault_job(operator)
    assert ports[endpoint["port"]] == own["dns_sd_configs"][0]["port"] == 8202


def test_podmonitor_scrapes_like_the_own_prometheus(operator: Stack) -> None:
    (endpoint,) = operator.get("PodMonitor", "vault")["spec"]["podMetricsEndpoints"]
    own = _own_vault_job(operator)
    assert endpoint["path"] == own["metrics_path"]
    assert endpoint["scheme"] == own["scheme"] == "https"
    assert endpoint["params"] == own["params"]
    tls = endpoint["tlsConfig"]
    assert tls["serverName"] == own["tls_config"]["server_name"]
    assert tls["insecureSkipVerify"] is own["tls_config"]["insecure_skip_verify"] is False
    # the CA is the key the own Prometheus mounts from Vault's TLS Secret (Prometheus reads it in-pod)
    secret, key = tls["ca"]["secret"]["name"], tls["ca"]["secret"]["key"]
    assert own["tls_config"]["ca_file"].endswith(f"/{secret}/{key}")
    vault_volumes = operator.get("StatefulSet", "vault")["spec"]["template"]["spec"]["volumes"]
    assert any(v.get("secret", {}).get("secretName") == secret for v in vault_volumes)
    # the job label every alert and dashboard selects on
    assert endpoint["relabelings"] == [{"action": "replace", "targetLabel": "job", "replacement": "vault"}]


def test_plain_http_when_vault_tls_is_off() -> None:
    stack = synth_stack({**SETTINGS, "vault": {"tls": {"enabled": False}}})
    (endpoint,) = stack.get("PodMonitor", "vault")["spec"]["podMetricsEndpoints"]
    assert endpoint["scheme"] == "http" and "tlsConfig" not in endpoint
    assert not stack.has("Probe", "vault-tls")  # no certificate to watch


def test_scrape_interval_from_settings() -> None:
    stack = synth_stack({"monitoring": {"prometheus_operator": {"scrape_interval_seconds": 15}}})
    (endpoint,) = stack.get("PodMonitor", "vault")["spec"]["podMetricsEndpoints"]
    assert endpoint["interval"] == "15s"


# -- rules -----------------------------------------------------------------------------------------------


def _rule_groups(stack: Stack) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = stack.get("PrometheusRule", "vault")["spec"]["groups"]
    return groups


def test_prometheusrule_has_the_own_prometheus_vault_group_unchanged(operator: Stack) -> None:
    own = yaml.safe_load(operator.config_data("prometheus-rules")["vault-aio.yaml"])["groups"]
    own_vault = [g for g in own if g["name"] == VAULT_GROUP]
    assert _rule_groups(operator) == own_vault
    assert len(own_vault[0]["rules"]) == len(prometheus_rule_groups()[0].rules) > 10


def test_rule_thresholds_and_runbook_come_from_the_same_settings() -> None:
    stack = synth_stack(
        {
            **SETTINGS,
            "prometheus": {
                "alerts": {
                    "thresholds": {"sealed_for": "3m"},
                    "runbook_base_url": "https://wiki.example.com/vault",
                }
            },
        }
    )
    rules = {r["alert"]: r for r in _rule_groups(stack)[0]["rules"]}
    assert rules["VaultSealed"]["for"] == "3m"
    assert rules["VaultSealed"]["annotations"]["runbook_url"] == "https://wiki.example.com/vault#vaultsealed"
    own = yaml.safe_load(stack.config_data("prometheus-rules")["vault-aio.yaml"])["groups"]
    assert _rule_groups(stack)[0] == own[0]


def test_rules_select_only_series_the_podmonitor_and_probes_produce(operator: Stack) -> None:
    jobs = set()
    for rule in _rule_groups(operator)[0]["rules"]:
        jobs |= set(re.findall(r'job="([^"]+)"', rule["expr"]))
    assert jobs == {"vault", "blackbox"}


@pytest.fixture(scope="module")
def rule_files(operator: Stack, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The PrometheusRule's groups as a rule file, and the promtool tests of those rules beside it."""
    directory = tmp_path_factory.mktemp("prometheusrule")
    rules = directory / "vault.yaml"
    rules.write_text(yaml.safe_dump({"groups": _rule_groups(operator)}, sort_keys=False))
    tests = directory / "vault.test.yaml"
    groups = tuple(g for g in prometheus_rule_groups() if g.name == VAULT_GROUP)
    tests.write_text(render_promtool_tests(groups, rules.name))
    # the unit tests are generated from the same rules: their file must equal the PrometheusRule's groups
    assert yaml.safe_load(render_rules(groups)) == yaml.safe_load(rules.read_text())
    return rules, tests


def test_promtool_accepts_the_prometheusrule_groups(rule_files: tuple[Path, Path]) -> None:
    promtool = require_tool("promtool")
    result = subprocess.run([promtool, "check", "rules", str(rule_files[0])], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass_on_the_prometheusrule_groups(rule_files: tuple[Path, Path]) -> None:
    promtool = require_tool("promtool")
    result = subprocess.run([promtool, "test", "rules", str(rule_files[1])], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# -- probe -----------------------------------------------------------------------------------------------


def test_probe_targets_what_alloy_probes_with_the_alert_job(operator: Stack) -> None:
    probe = operator.get("Probe", "vault-tls")["spec"]
    alloy = operator.config_data("alloy-config")["config.alloy"]
    (target,) = probe["targets"]["staticConfig"]["static"]
    assert f'"{target}"' in alloy  # the same URL, health path included
    assert probe["jobName"] == "blackbox"
    assert probe["prober"]["url"] == BLACKBOX["prober_url"] and probe["module"] == BLACKBOX["module"]


def test_no_probe_without_blackbox_settings() -> None:
    stack = synth_stack({"monitoring": {"prometheus_operator": {}}})
    assert not stack.has("Probe", "vault-tls")
    assert not stack.has("NetworkPolicy", "allow-vault-from-blackbox-exporter")


# -- network ---------------------------------------------------------------------------------------------


def test_cluster_prometheus_reaches_the_metrics_port_only(operator: Stack, stack: Stack) -> None:
    added = (
        connectivity(operator.objects).ingress_other_namespaces
        - connectivity(stack.objects).ingress_other_namespaces
    )
    assert {(c.source, c.destination, c.port) for c in added} == {
        (PROMETHEUS_PEER, "vault", 8202),
        (BLACKBOX_PEER, "vault", 8200),
    }
    matrix = connectivity(operator.objects)
    assert matrix.internal == connectivity(stack.objects).internal  # nothing changes inside the stack


def test_prometheus_peer_labels_come_from_settings() -> None:
    settings = {
        "prometheus_operator": {
            "name": "corp-prometheus",
            "prometheus_namespace_labels": {"team": "observability"},
            "prometheus_pod_labels": {},
        }
    }
    stack = synth_stack({"monitoring": settings})
    policy = stack.get("NetworkPolicy", "allow-vault-from-corp-prometheus")["spec"]
    assert policy["ingress"] == [
        {
            "from": [{"namespaceSelector": {"matchLabels": {"team": "observability"}}}],
            "ports": [{"port": 8202, "protocol": "TCP"}],
        }
    ]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"prometheus_namespace_labels": {}}, "prometheus_namespace_labels"),
        ({"resource_labels": {"release": "kube prometheus"}}, "invalid value"),
        ({"scrape_interval_seconds": 1}, "scrape_interval_seconds"),
        ({"blackbox_probe": {**BLACKBOX, "prober_url": "http://blackbox:9115"}}, "prober_url"),
        ({"blackbox_probe": {**BLACKBOX, "namespace_labels": {}}}, "namespace_labels"),
        ({"unknown": 1}, "unknown setting"),
    ],
)
def test_fails_on_bad_settings(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_settings({"monitoring": {"prometheus_operator": settings}})
