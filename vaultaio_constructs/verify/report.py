"""Check results and how they are printed (one line per check, or JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, TextIO


class Status(StrEnum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class CheckSpec:
    """One check: its id, what it proves, the RUNBOOK section to go to, and what it runs where."""

    id: str
    title: str
    #: Anchor of the docs/RUNBOOK.md heading (GitHub style) an operator goes to when it fails.
    anchor: str
    #: The pod and the tool it uses (documentation; ``vault-aio verify --list`` prints it).
    uses: str


@dataclass
class Outcome:
    spec: CheckSpec
    status: Status
    evidence: str
    details: list[str] = field(default_factory=list)
    runbook: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.spec.id,
            "title": self.spec.title,
            "status": str(self.status),
            "evidence": self.evidence,
            "details": self.details,
            "runbook": self.runbook,
        }


MAX_DETAILS: Final = 25


def print_text(outcomes: Sequence[Outcome], out: TextIO, header: str) -> None:
    print(header, file=out)
    width = max(len(o.spec.id) for o in outcomes) if outcomes else 10
    for o in outcomes:
        line = f"{o.status:<4}  {o.spec.id:<{width}}  {o.evidence}"
        if o.status in (Status.FAIL, Status.WARN) and o.runbook:
            line += f"  -> {o.runbook}"
        print(line, file=out)
        if o.status in (Status.FAIL, Status.WARN):
            for d in o.details[:MAX_DETAILS]:
                print(f"      {'':<{width}}  {d}", file=out)
            if len(o.details) > MAX_DETAILS:
                print(
                    f"      {'':<{width}}  ... {len(o.details) - MAX_DETAILS} more (--json lists all)",
                    file=out,
                )
    print(summary(outcomes), file=out)


def summary(outcomes: Sequence[Outcome]) -> str:
    counts = {s: sum(1 for o in outcomes if o.status is s) for s in Status}
    verdict = "FAILED" if counts[Status.FAIL] else "OK"
    return (
        f"{verdict}: {counts[Status.PASS]} passed, {counts[Status.FAIL]} failed, "
        f"{counts[Status.WARN]} warnings, {counts[Status.SKIP]} skipped"
    )


def print_json(outcomes: Sequence[Outcome], out: TextIO, meta: dict[str, object]) -> None:
    doc = {
        **meta,
        "ok": not any(o.status is Status.FAIL for o in outcomes),
        "checks": [o.to_json() for o in outcomes],
    }
    json.dump(doc, out, indent=2, sort_keys=True)
    out.write("\n")
