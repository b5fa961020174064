"""Alert rules for the Loki ruler: signals that exist only in logs.

Vault emits no metric for failed logins (see ``docs/RUNBOOK.md#vaultloginfailuresspike``); the audit log
does: each failed login is a ``response`` entry whose ``request.path`` is ``auth/<mount>/login...`` and that
carries an ``error``. Alloy labels audit streams with :mod:`vaultaio_constructs.loglabels`
(``log_type``, ``audit_type``, ``error``), so the rule selects the few failing response streams cheaply and
parses JSON only for them. The Loki ruler reads the Prometheus rule-group format with LogQL expressions.
"""

from __future__ import annotations

import re
from typing import Final

from vaultaio_constructs import loglabels
from vaultaio_constructs.alerts.model import AlertRule, Severity
from vaultaio_constructs.alerts.render import render_rules
from vaultaio_constructs.alerts.rules import RuleGroup
from vaultaio_constructs.alerts.settings import AlertSettings

#: Name of the Loki rule group.
LOKI_GROUP: Final = "vault-audit"

_SELECTOR = re.compile(r"\{([^}]*)\}")
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*')
_GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def vault_login_failures_spike(settings: AlertSettings, namespace: str) -> AlertRule:
    n = settings.thresholds.audit_login_failures_per_5m
    selector = ", ".join(
        f'{name}="{value}"'
        for name, value in (
            ("namespace", namespace),
            ("log_type", loglabels.AUDIT_LOG_TYPE),
            ("audit_type", "response"),
            ("error", "true"),
        )
    )
    expr = (
        "sum by (namespace) (\n"
        f'  count_over_time({{{selector}}} | json | request_path=~"auth/.+/login.*" [5m])\n'
        f") > {n}"
    )
    return AlertRule(
        name="VaultLoginFailuresSpike",
        expr=expr,
        for_="0",
        severity=Severity.WARNING,
        summary=f"More than {n} failed Vault logins in 5 minutes",
        description=(
            f"Vault's audit log (in Loki) recorded more than {n} failed logins within 5 minutes in namespace "
            "{{ $labels.namespace }}: response entries for auth/<mount>/login paths that carry an error. "
            "Query the audit streams for request_remote_address and auth_display_name to find the client."
        ),
    )


def loki_rule_groups(
    settings: AlertSettings | None = None, namespace: str = "vault-aio"
) -> tuple[RuleGroup, ...]:
    """The Loki ruler's rule groups; ``namespace`` is the stack's (its audit streams carry it)."""
    settings = settings or AlertSettings()
    return (RuleGroup(name=LOKI_GROUP, rules=(vault_login_failures_spike(settings, namespace),)),)


def render_loki_rules(settings: AlertSettings | None = None, namespace: str = "vault-aio") -> str:
    """The Loki ruler's rule file (Prometheus rule-group format, LogQL expressions)."""
    settings = settings or AlertSettings()
    return render_rules(loki_rule_groups(settings, namespace), settings.runbook_base_url)


def stream_selector_labels(expr: str) -> frozenset[str]:
    """Label names used by the stream selectors (``{...}``) and grouping clauses of a LogQL expression."""
    names: set[str] = set()
    for selector in _SELECTOR.findall(expr):
        for part in selector.split(","):
            if not part.strip():
                continue
            match = _MATCHER.fullmatch(part)
            if match is None:
                raise ValueError(f"cannot parse stream matcher {part!r} in {expr!r}")
            names.add(match.group(1))
    for grouping in _GROUPING.findall(expr):
        names.update(label.strip() for label in grouping.split(",") if label.strip())
    return frozenset(names)
