"""VaultBackupMissing: the Loki ruler alerts when the backup CronJob logged no saved snapshot in time."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.stack import Stack, synth_stack
from vaultaio_constructs import loglabels
from vaultaio_constructs.alerts import AlertSettings, github_anchor
from vaultaio_constructs.alerts.loki import (
    backup_alert_window_minutes,
    stream_selector_labels,
    vault_backup_missing,
)
from vaultaio_constructs.vault.construct import BACKUP_NAME, BACKUP_SCRIPT, BACKUP_SUCCESS_MARKER
from vaultaio_constructs.vault.props import cron_max_gap_minutes

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "RUNBOOK.md"
H, D = 60, 1440


@pytest.mark.parametrize(
    ("schedule", "gap"),
    [
        ("0 3 * * *", D),
        ("@daily", D),
        ("@hourly", H),
        ("*/5 * * * *", 5),
        ("15 1,13 * * *", 12 * H),
        ("0 3 * * 1", 7 * D),
        ("0 3 * * 1-5", 3 * D),  # Friday to Monday
        ("30 2 1,15 * *", 17 * D),  # the 15th to the 1st after a 31-day month
        ("0 3 1 * 1", 7 * D),  # day of month OR day of week: every Monday and the 1st
        ("@monthly", 31 * D),
    ],
)
def test_longest_gap_between_runs(schedule: str, gap: int) -> None:
    assert cron_max_gap_minutes(schedule) == gap


@pytest.mark.parametrize(
    ("schedule", "window"), [("0 3 * * *", 27 * H), ("@hourly", 2 * H), ("0 3 * * 1", 7 * D + 17 * H)]
)
def test_window_is_the_gap_plus_a_margin(schedule: str, window: int) -> None:
    """10 % of the gap, at least an hour, rounded up to whole hours (job retries, 15-minute deadline)."""
    assert backup_alert_window_minutes(schedule) == window


def _rule(schedule: str = "0 3 * * *", retention_days: int = 14) -> tuple[str, str]:
    rule = vault_backup_missing(AlertSettings(), "vault-aio", schedule, retention_days, BACKUP_SUCCESS_MARKER)
    return rule.name, rule.expr


def test_rule_looks_for_the_line_the_job_prints_on_success_only() -> None:
    _name, expr = _rule()
    assert f'|= "{BACKUP_SUCCESS_MARKER}"' in expr
    # the job prints the marker in its last line, after the checksum verified, and nowhere else
    lines = [line for line in BACKUP_SCRIPT.splitlines() if "saved" in line]
    assert lines == ['say "saved $name ($(wc -c < "$name") bytes), keeping the newest $KEEP snapshots"']
    assert BACKUP_SCRIPT.rstrip().splitlines()[-1] == lines[0]
    assert 'say() { echo "vault-backup: $*"; }' in BACKUP_SCRIPT
    assert BACKUP_SUCCESS_MARKER == "vault-backup: " + "saved "


def test_rule_reads_the_backup_pods_and_a_guard_with_known_labels_only() -> None:
    _name, expr = _rule()
    assert stream_selector_labels(expr) <= loglabels.ALL_LOG_LABELS
    assert f'app="{BACKUP_NAME}", container="backup"' in expr
    # success within the window; the guard: the namespace's other pods logged an hour before it began
    assert re.search(r'\|= "vault-backup: saved " \[27h\]\)\)$', expr)
    assert '{namespace="vault-aio", job="kubernetes-pods", app!="vault"} [1h] offset 27h' in expr
    left, right = expr.split("\nunless\n")
    assert left.startswith("sum by (namespace) (") and right.startswith("sum by (namespace) (")


def test_rule_refuses_a_window_loki_cannot_answer() -> None:
    with pytest.raises(
        ValueError, match=r"vault\.backup\.schedule '@monthly' leaves up to .* loki\.retention_days \(14"
    ):
        _rule("@monthly")
    assert _rule("0 3 * * 1", retention_days=9)[0] == "VaultBackupMissing"
    with pytest.raises(ValueError, match=r"loki\.retention_days \(7, 168h\)"):
        _rule("0 3 * * 1", retention_days=7)


def test_runbook_has_a_section_for_the_rule() -> None:
    alerts = RUNBOOK.read_text().split("\n## Alerts", 1)[1]
    headings = {github_anchor(h) for h in re.findall(r"^### (.+)$", alerts, flags=re.M)}
    assert "vaultbackupmissing" in headings


@pytest.fixture(scope="module")
def with_backup() -> Stack:
    return synth_stack({"vault": {"backup": {"schedule": "0 3 * * 1-5"}}})


def test_the_rule_reaches_loki_only_with_the_backup_cronjob(stack: Stack, with_backup: Stack) -> None:
    assert "vault-backup.yaml" not in stack.config_data("loki-rules")
    rules = yaml.safe_load(with_backup.config_data("loki-rules")["vault-backup.yaml"])
    (group,) = rules["groups"]
    (rule,) = group["rules"]
    assert rule["alert"] == "VaultBackupMissing"
    assert f"[{(3 * D + 8 * H) // 60}h]" in rule["expr"], "Friday to Monday plus 8h"
    assert rule["labels"] == {"severity": "warning"}
    assert rule["annotations"]["runbook_url"].endswith("#vaultbackupmissing")


def test_a_too_rare_schedule_stops_the_synth() -> None:
    with pytest.raises(ValueError, match=r"vault\.backup\.schedule '0 3 1 \* \*'"):
        synth_stack({"vault": {"backup": {"schedule": "0 3 1 * *"}}})
