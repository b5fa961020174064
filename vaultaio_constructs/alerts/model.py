"""Typed alert rules and the promtool scenarios that prove each one fires when it should and only then.

An :class:`AlertRule` is rendered into a Prometheus (or Loki ruler) rule group; its :class:`Scenario` values
are rendered into a ``promtool test rules`` file from the same object, so a rule and its test cannot drift.
Annotations use only ``{{ $labels.<name> }}`` templates, which lets the expected annotations of a test be
computed here exactly as Prometheus expands them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

#: Default base of every ``runbook_url``: the RUNBOOK on the project's main branch.
DEFAULT_RUNBOOK_BASE_URL: Final = "https://github.com/vault-aio/vault-aio/blob/main/docs/RUNBOOK.md"

_ALERT_NAME = re.compile(r"^[A-Z][A-Za-z0-9]+$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_DURATION = re.compile(r"^(0|[1-9][0-9]*[smhd])$")
_TEMPLATE = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_LABEL_TEMPLATE = re.compile(r"^\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)$")


class Severity(StrEnum):
    """How urgently a person must act; Alertmanager routes on it."""

    #: Vault is unavailable or about to be; page someone.
    CRITICAL = "critical"
    #: Degradation that needs attention within working hours.
    WARNING = "warning"
    #: Context for other alerts; never notifies on its own by default.
    INFO = "info"


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lowercase, punctuation dropped, spaces to ``-``."""
    slug = heading.strip().lower()
    slug = re.sub(r"[^\w\- ]", "", slug)
    return slug.replace(" ", "-")


def check_duration(value: str, setting: str) -> str:
    """A Prometheus duration with one unit (``0``, ``30s``, ``5m``, ``1h``, ``7d``)."""
    if not _DURATION.fullmatch(value):
        raise ValueError(f"'{setting}' must be a duration like '30s', '5m' or '1h', got {value!r}")
    return value


def duration_seconds(value: str) -> int:
    """Seconds in a duration accepted by :func:`check_duration`."""
    if value == "0":
        return 0
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return int(value[:-1]) * units[value[-1]]


@dataclass(frozen=True, kw_only=True)
class InputSeries:
    """One input series of a promtool test, in promtool's expanding notation (``'1+0x10 0x20'``)."""

    #: Series selector with labels, e.g. ``vault_core_unsealed{job="vault", instance="10.0.0.1:8202"}``.
    series: str
    #: Values, one per test interval (1m), e.g. ``'1x10 0x20'`` or ``'_x5 1x5'`` (``_`` = no sample).
    values: str


@dataclass(frozen=True, kw_only=True)
class Check:
    """At ``at`` after the start, exactly the alerts with these label sets are firing (none when empty)."""

    #: Evaluation time as a duration from the start of the input series (``'12m'``).
    at: str
    #: Labels of each expected firing alert, without ``alertname`` and the rule's own labels (added here).
    firing: tuple[Mapping[str, str], ...] = ()

    def __post_init__(self) -> None:
        check_duration(self.at, "at")


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A realistic history of series and what the alert must do over it."""

    #: What the scenario shows, e.g. ``"sealed pod fires after 1m"``.
    description: str
    series: tuple[InputSeries, ...]
    checks: tuple[Check, ...]

    def __post_init__(self) -> None:
        if not self.series or not self.checks:
            raise ValueError(f"scenario {self.description!r} needs at least one series and one check")


@dataclass(frozen=True, kw_only=True)
class AlertRule:
    """One alerting rule, its documentation and its tests."""

    #: Alert name (UpperCamelCase); also the ``### <name>`` heading of its RUNBOOK section.
    name: str
    #: PromQL expression (LogQL for Loki ruler rules).
    expr: str
    #: How long the condition must hold before the alert fires (Prometheus duration; ``"0"`` fires at once).
    for_: str
    severity: Severity
    #: One line, may use ``{{ $labels.<name> }}``.
    summary: str
    #: What is wrong, why it matters and what signal it is based on; may use ``{{ $labels.<name> }}``.
    description: str
    #: Anchor of the RUNBOOK section (default: the GitHub anchor of ``### <name>``).
    runbook_anchor: str = ""
    #: Extra static labels on the alert (``severity`` is always added from :attr:`severity`).
    labels: Mapping[str, str] = field(default_factory=dict)
    #: promtool scenarios (Prometheus rules need one that fires and a check that stays quiet; LogQL rules
    #: have none because promtool cannot evaluate LogQL).
    scenarios: tuple[Scenario, ...] = ()

    def __post_init__(self) -> None:
        if not _ALERT_NAME.fullmatch(self.name):
            raise ValueError(f"alert 'name' must be UpperCamelCase letters and digits, got {self.name!r}")
        check_duration(self.for_, "for_")
        for key in self.labels:
            if not _LABEL_NAME.fullmatch(key) or key in ("alertname", "severity"):
                raise ValueError(
                    f"alert {self.name}: label {key!r} is not allowed (reserved or invalid name)"
                )
        for text in (self.summary, self.description):
            for expression in _TEMPLATE.findall(text):
                if not _LABEL_TEMPLATE.fullmatch(expression):
                    raise ValueError(
                        f"alert {self.name}: annotation template {{{{ {expression} }}}} is not supported: "
                        "use only {{ $labels.<name> }}"
                    )

    @property
    def anchor(self) -> str:
        """The RUNBOOK anchor this alert links to."""
        return self.runbook_anchor or github_anchor(self.name)

    def rule_labels(self) -> dict[str, str]:
        """Labels the rule attaches to every alert it fires."""
        return {**self.labels, "severity": str(self.severity)}

    def annotations(self, runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL) -> dict[str, str]:
        """``summary``, ``description`` and ``runbook_url``."""
        return {
            "summary": self.summary,
            "description": self.description,
            "runbook_url": f"{runbook_base_url}#{self.anchor}",
        }

    def to_rule(self, runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL) -> dict[str, object]:
        """The rule as a Prometheus rule-group entry."""
        rule: dict[str, object] = {
            "alert": self.name,
            "expr": self.expr,
            "labels": self.rule_labels(),
            "annotations": self.annotations(runbook_base_url),
        }
        if self.for_ != "0":
            rule["for"] = self.for_
        return rule


def expand_annotations(annotations: Mapping[str, str], labels: Mapping[str, str]) -> dict[str, str]:
    """Expand ``{{ $labels.<name> }}`` as Prometheus does (a missing label expands to an empty string)."""

    def substitute(match: re.Match[str]) -> str:
        label = _LABEL_TEMPLATE.fullmatch(match.group(1))
        assert label is not None  # guaranteed by AlertRule validation
        return labels.get(label.group(1), "")

    return {key: _TEMPLATE.sub(substitute, value) for key, value in annotations.items()}
