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


#: Name of the Loki rule group (and ``<name>.yaml`` file) of the backup CronJob's rule.
BACKUP_GROUP: Final = "vault-backup"
#: Loki's default ``limits_config.max_query_length`` (721h): a rule may not query a longer range.
LOKI_MAX_QUERY_HOURS: Final = 721
#: How far back the "Loki has collected this namespace for long enough" guard looks (one hour, offset).
_GUARD_RANGE_MINUTES: Final = 60


def _duration(minutes: int) -> str:
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def backup_alert_window_minutes(schedule: str) -> int:
    """How long without a successful backup before ``VaultBackupMissing`` fires: the longest gap between two
    runs of ``schedule`` plus a margin of 10 % (at least 1h, rounded up to whole hours) for a job that
    starts late, retries (backoffLimit 2) or runs up to its 15-minute deadline."""
    from vaultaio_constructs.vault.props import cron_max_gap_minutes

    gap = cron_max_gap_minutes(schedule)
    if gap is None:
        raise ValueError(
            f"vault.backup.schedule {schedule!r} runs less than twice in 8 years: use a regular schedule"
        )
    tenth = -(-gap // 10)  # minutes, rounded up
    return gap + max(60, -(-tenth // 60) * 60)


def vault_backup_missing(
    settings: AlertSettings, namespace: str, schedule: str, retention_days: int, success_marker: str
) -> AlertRule:
    """No backup CronJob run printed ``success_marker`` within the schedule plus a margin.

    The signal is the job's own log line in Loki: this stack has no kube-state-metrics (no CronJob or Job
    metrics), the job runs too briefly to be scraped, and Vault has no metric for snapshots. The log covers
    every failure alike: a job that fails (full volume, refused token), one that never starts (Secret
    missing, image pull) and a CronJob that is suspended or gone. So that a stack younger than the window
    (or a Loki that lost its data) does not alert, the rule also needs the namespace's other pods to have
    logged something in the hour before the window began; it compares two ``sum by (namespace)`` vectors, so
    it needs no ``absent`` labels and no vector-matching modifiers.
    """
    window = backup_alert_window_minutes(schedule)
    hours_needed = -(-(window + _GUARD_RANGE_MINUTES) // 60)
    if hours_needed > retention_days * 24 or hours_needed > LOKI_MAX_QUERY_HOURS:
        raise ValueError(
            f"vault.backup.schedule {schedule!r} leaves up to {_duration(window)} (with the margin) "
            f"between two runs: the VaultBackupMissing rule reads {hours_needed}h of logs, more than "
            f"loki.retention_days ({retention_days}, {retention_days * 24}h) or Loki's "
            f"{LOKI_MAX_QUERY_HOURS}h query limit allow: schedule the backup more often (e.g. daily) or "
            "raise loki.retention_days"
        )
    success = f'{{namespace="{namespace}", app="vault-backup", container="backup"}} |= "{success_marker}"'
    guard = f'{{namespace="{namespace}", job="{loglabels.JOB_PODS}", app!="vault"}}'
    expr = (
        f"sum by (namespace) (count_over_time({guard} [{_duration(_GUARD_RANGE_MINUTES)}] "
        f"offset {_duration(window)}))\n"
        f"unless\nsum by (namespace) (count_over_time({success} [{_duration(window)}]))"
    )
    return AlertRule(
        name="VaultBackupMissing",
        expr=expr,
        for_="0",
        severity=Severity.WARNING,
        summary=f"No Vault backup succeeded in the last {_duration(window)}",
        description=(
            f"The vault-backup CronJob (schedule {schedule}) has not logged a saved snapshot in namespace "
            "{{ $labels.namespace }} for longer than its schedule allows plus a margin "
            f"({_duration(window)}): the job fails (full volume, expired token), never starts (missing "
            "token Secret, image pull) or the CronJob is suspended. The newest snapshot is "
            "getting old."
        ),
    )


def render_backup_rules(
    settings: AlertSettings, namespace: str, schedule: str, retention_days: int, success_marker: str
) -> str:
    """The Loki ruler's rule file for the backup CronJob (``vault-backup.yaml``)."""
    rule = vault_backup_missing(settings, namespace, schedule, retention_days, success_marker)
    return render_rules((RuleGroup(name=BACKUP_GROUP, rules=(rule,)),), settings.runbook_base_url)


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
