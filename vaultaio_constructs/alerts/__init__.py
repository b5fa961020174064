"""Typed alert rules for Prometheus and the Loki ruler, rendered with their promtool unit tests."""

from vaultaio_constructs.alerts.loki import loki_rule_groups, render_loki_rules
from vaultaio_constructs.alerts.model import (
    DEFAULT_RUNBOOK_BASE_URL,
    AlertRule,
    Check,
    InputSeries,
    Scenario,
    Severity,
    github_anchor,
)
from vaultaio_constructs.alerts.render import render_promtool_tests, render_rules
from vaultaio_constructs.alerts.routing import InhibitRule, default_inhibit_rules
from vaultaio_constructs.alerts.rules import RuleGroup, prometheus_rule_groups
from vaultaio_constructs.alerts.settings import AlertSettings, AlertThresholds

__all__ = [
    "DEFAULT_RUNBOOK_BASE_URL",
    "AlertRule",
    "AlertSettings",
    "AlertThresholds",
    "Check",
    "InhibitRule",
    "InputSeries",
    "RuleGroup",
    "Scenario",
    "Severity",
    "default_inhibit_rules",
    "github_anchor",
    "loki_rule_groups",
    "prometheus_rule_groups",
    "render_loki_rules",
    "render_promtool_tests",
    "render_rules",
]
