"""Alert rules: promtool checks and unit tests, catalogue and runbook cross-checks, Loki rule structure."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.tools import require_tool
from vaultaio_constructs import loglabels
from vaultaio_constructs.alerts import (
    AlertRule,
    AlertSettings,
    AlertThresholds,
    Check,
    InputSeries,
    RuleGroup,
    Scenario,
    Severity,
    default_inhibit_rules,
    github_anchor,
    loki_rule_groups,
    prometheus_rule_groups,
    render_promtool_tests,
    render_rules,
)
from vaultaio_constructs.alerts.loki import stream_selector_labels
from vaultaio_constructs.catalog import metrics_in_promql, unknown_metrics

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "RUNBOOK.md"
GROUPS = prometheus_rule_groups()
RULES = [rule for group in GROUPS for rule in group.rules]
LOKI_RULES = [rule for group in loki_rule_groups() for rule in group.rules]


def _write(directory: Path, groups: tuple[RuleGroup, ...], prefix: str = "") -> tuple[Path, Path]:
    rules = directory / f"{prefix}rules.yaml"
    tests = directory / f"{prefix}rules.test.yaml"
    rules.write_text(render_rules(groups))
    tests.write_text(render_promtool_tests(groups, rules.name))
    return rules, tests


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _write(tmp_path_factory.mktemp("rules"), GROUPS)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=120)


def test_promtool_check_rules(rendered: tuple[Path, Path]) -> None:
    promtool = require_tool("promtool")
    result = _run(promtool, "check", "rules", "--lint=all", "--lint-fatal", str(rendered[0]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(RULES)} rules found" in result.stdout


def _one_rule_each(directory: Path, groups: tuple[RuleGroup, ...]) -> list[Path]:
    """The promtool tests of every rule, each against a rule file holding that rule alone.

    promtool evaluates every rule of its rule files at every step of every test, and a test checks one
    alert: with 30 rules, 29 of every 30 evaluations were spent on rules no check looks at (4.3 s of
    promtool for the whole file, 0.8 s this way). It checks the same thing because the rules do not read
    each other: none records a series and none reads ``ALERTS`` (asserted here, so the isolation is
    dropped by a failing test, not silently, the day one does).
    """
    tests = []
    for index, (group, rule) in enumerate((g, r) for g in groups for r in g.rules):
        assert "ALERTS" not in rule.expr, f"{rule.name} reads other alerts: test the rules together"
        alone = (dataclasses.replace(group, rules=(rule,)),)
        rules, test = _write(directory, alone, f"{index:02d}-")
        assert "record:" not in rules.read_text()
        tests.append(test)
    return tests


def test_promtool_unit_tests_pass(tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    tests = _one_rule_each(tmp_path, GROUPS)
    assert len(tests) == len(RULES)
    result = _run(promtool, "test", "rules", *map(str, tests))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(RULES)


def test_promtool_unit_tests_catch_a_broken_rule(tmp_path: Path) -> None:
    """The generated tests must fail when a rule no longer fires or fires too early."""
    promtool = require_tool("promtool")
    sealed = next(rule for rule in GROUPS[0].rules if rule.name == "VaultSealed")
    for broken in (
        dataclasses.replace(sealed, expr="vault_core_unsealed == 0"),
        dataclasses.replace(sealed, for_="0"),
    ):
        rules = tuple(broken if rule.name == "VaultSealed" else rule for rule in GROUPS[0].rules)
        groups = (RuleGroup(name=GROUPS[0].name, rules=rules),)
        rules_file = tmp_path / "rules.yaml"
        rules_file.write_text(render_rules(groups))
        (tmp_path / "tests.yaml").write_text(
            render_promtool_tests((RuleGroup(name="x", rules=(sealed,)),), "rules.yaml")
        )
        result = _run(promtool, "test", "rules", str(tmp_path / "tests.yaml"))
        assert result.returncode != 0, (
            f"promtool accepted a broken VaultSealed: {broken.expr} for {broken.for_}"
        )


def test_custom_thresholds_still_pass_promtool(tmp_path: Path) -> None:
    """Scenarios follow the thresholds, so tuned rules stay proven."""
    promtool = require_tool("promtool")
    thresholds = AlertThresholds(
        sealed_for="3m",
        token_creation_per_second=40,
        auth_failures_per_second=0.2,
        request_latency_ms=1200,
        leadership_losses_per_hour=5,
        lease_count=3000,
        tls_cert_warning_days=45,
        tls_cert_critical_days=14,
        disk_free_warning_percent=20,
        disk_free_critical_percent=8,
        clock_offset_seconds=0.5,
        target_down_for="10m",
    )
    default_exprs = {rule.name: (rule.expr, rule.for_) for rule in RULES}
    tuned = tuple(
        RuleGroup(
            name=group.name,
            rules=tuple(rule for rule in group.rules if default_exprs[rule.name] != (rule.expr, rule.for_)),
        )
        for group in prometheus_rule_groups(thresholds)
    )
    assert sum(len(group.rules) for group in tuned) >= 12
    _, tests = _write(tmp_path, tuned)
    result = _run(promtool, "test", "rules", str(tests))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "> 40" in render_rules(tuned)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
def test_every_rule_has_firing_and_quiet_checks(rule: AlertRule) -> None:
    checks = [check for scenario in rule.scenarios for check in scenario.checks]
    assert any(check.firing for check in checks), f"{rule.name} has no scenario in which it fires"
    assert any(not check.firing for check in checks), f"{rule.name} has no check in which it stays quiet"


def test_vault_sealed_covers_sealed_down_and_absent() -> None:
    sealed = next(rule for rule in RULES if rule.name == "VaultSealed")
    reasons = {
        labels["reason"]
        for scenario in sealed.scenarios
        for check in scenario.checks
        for labels in check.firing
    }
    assert reasons == {"sealed", "scrape_failed", "no_metrics", "no_targets"}
    assert 'up{job="vault"} == 0' in sealed.expr
    assert 'absent(up{job="vault"})' in sealed.expr


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
def test_every_metric_is_in_the_catalogue(rule: AlertRule) -> None:
    assert metrics_in_promql(rule.expr), f"no metric found in {rule.expr!r}"
    assert unknown_metrics(rule.expr) == ()


def test_catalogue_check_rejects_an_invented_metric() -> None:
    assert unknown_metrics('rate(vault_login_failures_total{job="vault"}[5m]) > 0') == (
        "vault_login_failures_total for job 'vault'",
    )
    assert unknown_metrics('node_timex_sync_status{job="vault"}') == (
        "node_timex_sync_status for job 'vault'",
    )


def _runbook_anchors() -> set[str]:
    text = RUNBOOK.read_text()
    alerts = text.split("\n## Alerts", 1)[1]
    return {github_anchor(heading) for heading in re.findall(r"^### (.+)$", alerts, flags=re.MULTILINE)}


@pytest.mark.parametrize("rule", RULES + LOKI_RULES, ids=lambda rule: rule.name)
def test_runbook_section_exists(rule: AlertRule) -> None:
    assert rule.anchor in _runbook_anchors(), f"docs/RUNBOOK.md has no '### {rule.name}' under '## Alerts'"


def test_rules_file_has_annotations_and_runbook_urls() -> None:
    base = "https://runbooks.example.org/vault-aio.md"
    document = yaml.safe_load(render_rules(GROUPS, base))
    assert [group["name"] for group in document["groups"]] == ["vault", "vault-aio-stack"]
    for group in document["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in {str(s) for s in Severity}
            assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}
            assert rule["annotations"]["runbook_url"] == f"{base}#{rule['alert'].lower()}"


def test_specification_alerts_exist() -> None:
    names = {rule.name for rule in RULES + LOKI_RULES}
    expected = {
        "VaultSealed",
        "VaultHighTokenCreationRate",
        "VaultAuthFailuresSpike",
        "VaultLoginFailuresSpike",
        "VaultTLSCertificateExpiringSoon",
        "NodeFilesystemSpaceLow",
        "VaultNoActiveNode",
        "VaultAutopilotUnhealthy",
        "VaultHighRequestLatency",
        "VaultAuditDeviceFailing",
        "VaultLeaseCountHigh",
        "PrometheusRuleEvaluationFailures",
        "AlertmanagerNotificationsFailing",
        "TargetDown",
        "PersistentVolumeFillingUp",
        "NodeClockNotSynchronising",
    }
    assert expected <= names


def test_certificate_alert_uses_the_blackbox_probe_of_the_listener() -> None:
    expiring = next(rule for rule in RULES if rule.name == "VaultTLSCertificateExpiringSoon")
    assert [use.metric for use in metrics_in_promql(expiring.expr)] == ["probe_ssl_earliest_cert_expiry"]
    assert "PKI root CA" in expiring.description


def test_inhibit_rules_name_existing_alerts() -> None:
    names = {rule.name for rule in RULES + LOKI_RULES}
    for inhibit in default_inhibit_rules():
        assert set(inhibit.sources) | set(inhibit.targets) <= names
    sealed = [rule for rule in default_inhibit_rules() if rule.sources == ("VaultSealed",)]
    assert {"VaultNoActiveNode", "VaultHighRequestLatency"} <= {t for rule in sealed for t in rule.targets}


# ------------------------------------------------------------------------------------------- Loki rules


def test_loki_rules_structure() -> None:
    document = yaml.safe_load(render_rules(loki_rule_groups()))
    (group,) = document["groups"]
    (rule,) = group["rules"]
    assert rule["alert"] == "VaultLoginFailuresSpike"
    assert set(rule) == {"alert", "expr", "labels", "annotations"}
    assert 'log_type="vault_audit"' in rule["expr"]
    assert 'audit_type="response"' in rule["expr"]
    assert 'error="true"' in rule["expr"]
    assert '| json | request_path=~"auth/.+/login.*"' in rule["expr"]
    assert rule["expr"].rstrip().endswith("> 20")


@pytest.mark.parametrize("rule", LOKI_RULES, ids=lambda rule: rule.name)
def test_loki_rules_use_only_known_stream_labels(rule: AlertRule) -> None:
    labels = stream_selector_labels(rule.expr)
    assert {"log_type", "audit_type", "error", "namespace"} <= labels
    assert labels <= loglabels.ALL_LOG_LABELS


def test_stream_label_check_rejects_an_unknown_label() -> None:
    assert "request_path" in stream_selector_labels('count_over_time({request_path="x"}[5m])')
    assert "request_path" not in loglabels.ALL_LOG_LABELS


def test_loki_rule_follows_settings() -> None:
    settings = AlertSettings(thresholds=AlertThresholds(audit_login_failures_per_5m=3))
    (group,) = loki_rule_groups(settings, namespace="vault-prod")
    assert 'namespace="vault-prod"' in group.rules[0].expr
    assert group.rules[0].expr.endswith("> 3")


# ------------------------------------------------------------------------------------------- validation


def test_fails_critical_days_not_below_warning() -> None:
    with pytest.raises(
        ValueError, match=r"'tls_cert_critical_days' \(30\) must be < 'tls_cert_warning_days' \(30\)"
    ):
        AlertThresholds(tls_cert_critical_days=30)


def test_fails_bad_duration() -> None:
    with pytest.raises(
        ValueError, match="'sealed_for' must be a duration like '30s', '5m' or '1h', got '1 minute'"
    ):
        AlertThresholds(sealed_for="1 minute")


def test_fails_regex_with_quote() -> None:
    with pytest.raises(
        ValueError, match="'kubelet_volume_mountpoint_regex' must be a non-empty regex without '\"'"
    ):
        AlertThresholds(kubelet_volume_mountpoint_regex='/var/lib/kubelet/"x')


def test_fails_runbook_url_with_fragment() -> None:
    with pytest.raises(ValueError, match="'runbook_base_url' must be an http"):
        AlertSettings(runbook_base_url="https://example.org/RUNBOOK.md#alerts")


def _rule(**changes: object) -> AlertRule:
    fields: dict[str, object] = {
        "name": "SomethingWrong",
        "expr": "up == 0",
        "for_": "5m",
        "severity": Severity.WARNING,
        "summary": "s",
        "description": "d",
        "scenarios": (
            Scenario(
                description="x",
                series=(InputSeries(series='up{job="x"}', values="0x10"),),
                checks=(Check(at="1m"),),
            ),
        ),
    }
    fields.update(changes)
    return AlertRule(**fields)  # type: ignore[arg-type]


def test_fails_value_template_in_annotation() -> None:
    with pytest.raises(ValueError, match=r"annotation template \{\{ \$value \}\} is not supported"):
        _rule(description="value is {{ $value }}")


def test_fails_lowercase_alert_name() -> None:
    with pytest.raises(ValueError, match="alert 'name' must be UpperCamelCase"):
        _rule(name="vault_sealed")


def test_fails_reserved_label() -> None:
    with pytest.raises(ValueError, match="label 'severity' is not allowed"):
        _rule(labels={"severity": "page"})


def test_clustered_alertmanagers_and_remote_write_queues_are_seen_one_by_one() -> None:
    """What the two scale-out alerts compare exists in the HA scenario: every Alertmanager replica is its
    own scrape target (the members alert counts the series per replica), each remote_write entry has a
    ``name`` (the ``remote_name`` the lag alert reports), and Prometheus loads both alerts."""
    from tests.stack import scenario_stack

    stack = scenario_stack("ha")
    config = yaml.safe_load(stack.config_data("prometheus-config")["prometheus.yml"])
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "alertmanager"]
    replicas = stack.get("StatefulSet", "alertmanager")["spec"]["replicas"]
    assert replicas > 1
    (sd,) = job["dns_sd_configs"]
    headless = stack.get("Service", "alertmanager-internal")["spec"]
    assert headless["clusterIP"] == "None"
    assert sd["names"] == ["alertmanager-internal.vault-aio.svc.cluster.local"] and sd["type"] == "A"
    assert sd["port"] in {port["port"] for port in headless["ports"]}
    assert config["remote_write"] and all(entry.get("name") for entry in config["remote_write"])
    loaded = yaml.safe_load(stack.config_data("prometheus-rules")["vault-aio.yaml"])
    names = {rule["alert"] for group in loaded["groups"] for rule in group["rules"]}
    assert {"AlertmanagerClusterMembersInconsistent", "PrometheusRemoteWriteBehind"} <= names
