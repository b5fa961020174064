"""Inhibition between alerts: a cause silences the symptoms it produces.

Alertmanager's configuration takes these as plain data (:class:`InhibitRule`); the alert names come from
the rule definitions, so a renamed alert cannot leave a dangling inhibition (a test checks every name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


@dataclass(frozen=True, kw_only=True)
class InhibitRule:
    """While an alert named in ``sources`` fires, alerts named in ``targets`` with equal ``equal`` labels
    are muted."""

    sources: tuple[str, ...]
    targets: tuple[str, ...]
    #: Labels that must be equal on source and target (empty: any firing source mutes every target).
    equal: tuple[str, ...] = ()
    #: Why the sources explain the targets (documentation only).
    reason: str = ""

    def __post_init__(self) -> None:
        if not self.sources or not self.targets:
            raise ValueError("an inhibit rule needs at least one source and one target alert name")
        for name in (*self.sources, *self.targets):
            if not _NAME.fullmatch(name):
                raise ValueError(f"inhibit rule alert name {name!r} is not a valid alert name")
        for label in self.equal:
            if not _LABEL.fullmatch(label):
                raise ValueError(f"inhibit rule 'equal' label {label!r} is not a valid label name")
        overlap = set(self.sources) & set(self.targets)
        if overlap:
            raise ValueError(f"an alert cannot inhibit itself, got {sorted(overlap)} as source and target")


DEFAULT_INHIBIT_RULES: Final = (
    InhibitRule(
        sources=("VaultSealed",),
        targets=("VaultHighRequestLatency", "VaultAuditDeviceFailing", "VaultRaftLeaderContactSlow"),
        equal=("instance",),
        reason="a sealed or unreachable pod explains its own latency, audit and raft symptoms",
    ),
    InhibitRule(
        sources=("VaultSealed",),
        targets=(
            "VaultNoActiveNode",
            "VaultAutopilotUnhealthy",
            "VaultApiProbeFailing",
            "VaultLeadershipFlapping",
        ),
        reason="sealed pods explain a missing leader, unhealthy raft peers and a failing API probe",
    ),
    InhibitRule(
        sources=("VaultTLSCertificateExpiryCritical",),
        targets=("VaultTLSCertificateExpiringSoon",),
        equal=("instance",),
        reason="the critical expiry alert supersedes the early warning",
    ),
    InhibitRule(
        sources=("NodeFilesystemSpaceCritical",),
        targets=("NodeFilesystemSpaceLow",),
        equal=("instance", "mountpoint"),
        reason="the critical disk alert supersedes the warning for the same filesystem",
    ),
    InhibitRule(
        sources=("PersistentVolumeAlmostFull",),
        targets=("PersistentVolumeFillingUp",),
        equal=("instance", "mountpoint"),
        reason="the critical volume alert supersedes the warning for the same volume",
    ),
    InhibitRule(
        sources=("AlloyMetricsAbsent",),
        targets=("NodeClockNotSynchronising", "VaultApiProbeFailing"),
        reason="without Alloy, node and probe metrics are stale rather than failing",
    ),
)


def default_inhibit_rules() -> tuple[InhibitRule, ...]:
    """The inhibit rules of the stack's alerts."""
    return DEFAULT_INHIBIT_RULES
