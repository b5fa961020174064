"""Render rule groups to the files Prometheus, the Loki ruler and ``promtool test rules`` read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vaultaio_constructs.alerts.model import DEFAULT_RUNBOOK_BASE_URL, AlertRule, expand_annotations
from vaultaio_constructs.alerts.rules import RuleGroup
from vaultaio_constructs.rendering import dump_yaml

#: Evaluation interval of the generated promtool tests; scenario values are one sample per interval.
TEST_INTERVAL = "1m"


def _dump(document: dict[str, Any]) -> str:
    return dump_yaml(document, width=1000)


def rule_groups_document(
    groups: Iterable[RuleGroup], runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL
) -> dict[str, Any]:
    """The rule file as data: ``{"groups": [{"name": ..., "rules": [...]}]}``."""
    return {
        "groups": [
            {"name": group.name, "rules": [rule.to_rule(runbook_base_url) for rule in group.rules]}
            for group in groups
        ]
    }


def render_rules(groups: Iterable[RuleGroup], runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL) -> str:
    """The rule file (Prometheus format; the Loki ruler reads the same format with LogQL expressions)."""
    return _dump(rule_groups_document(groups, runbook_base_url))


def _expected_alerts(
    rule: AlertRule, firing: Iterable[dict[str, str]], runbook_base_url: str
) -> list[dict[str, Any]]:
    expected = []
    for labels in firing:
        all_labels = {**labels, **rule.rule_labels()}
        expected.append(
            {
                "exp_labels": all_labels,
                "exp_annotations": expand_annotations(rule.annotations(runbook_base_url), all_labels),
            }
        )
    return expected


def promtool_tests_document(
    groups: Iterable[RuleGroup],
    rule_file: str,
    runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL,
) -> dict[str, Any]:
    """A ``promtool test rules`` file with one test per scenario of every rule.

    ``rule_file`` is the path of the rendered rule file relative to the test file.
    """
    tests: list[dict[str, Any]] = []
    for group in groups:
        for rule in group.rules:
            for scenario in rule.scenarios:
                tests.append(
                    {
                        "name": f"{rule.name}: {scenario.description}",
                        "interval": TEST_INTERVAL,
                        "input_series": [{"series": s.series, "values": s.values} for s in scenario.series],
                        "alert_rule_test": [
                            {
                                "eval_time": check.at,
                                "alertname": rule.name,
                                "exp_alerts": _expected_alerts(
                                    rule, (dict(labels) for labels in check.firing), runbook_base_url
                                ),
                            }
                            for check in scenario.checks
                        ],
                    }
                )
    return {"rule_files": [rule_file], "evaluation_interval": TEST_INTERVAL, "tests": tests}


def render_promtool_tests(
    groups: Iterable[RuleGroup], rule_file: str, runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL
) -> str:
    """:func:`promtool_tests_document` as YAML."""
    return _dump(promtool_tests_document(groups, rule_file, runbook_base_url))
