"""RUNBOOK, *Remove the stack and keep the data*: its commands delete every object but the Namespace and
the PersistentVolumeClaims (run against a synthesized dist/ with the backup claim, kubectl recorded)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.scripts.test_shellcheck import RUNBOOK, bash_blocks
from tests.stack import Stack, synth_stack
from tests.tools import require_tool
from vaultaio_constructs.output import write

KEEP = {"Namespace", "PersistentVolumeClaim"}


def _section() -> str:
    text = RUNBOOK.read_text()
    start = text.index("\n### Remove the stack and keep the data\n")
    return text[start : text.index("\n## ", start)]


@pytest.fixture(scope="module")
def with_backup() -> Stack:
    return synth_stack({"vault": {"backup": {}}})


def test_the_section_warns_that_deleting_the_namespace_deletes_every_claim() -> None:
    section = _section()
    assert "Never remove a stack whose data you want to keep with `kubectl delete -k dist/`" in section
    assert "persistentVolumeClaimRetentionPolicy" in section
    patch, _delete = bash_blocks(section)
    assert '"persistentVolumeReclaimPolicy":"Retain"' in patch, "volumes outlive their claims first"


def test_the_removal_commands_keep_the_namespace_and_every_claim(with_backup: Stack, tmp_path: Path) -> None:
    bash = require_tool("bash")
    repo = tmp_path / "repo"
    write(with_backup.manifests, repo / "dist")
    assert any(m.kind == "PersistentVolumeClaim" for m in with_backup.manifests), "the backup claim is a file"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "kubectl.log"
    (bin_dir / "kubectl").write_text(f'#!/bin/sh\necho "$*" >> "{log}"\n')
    (bin_dir / "kubectl").chmod(0o755)
    _patch, delete = bash_blocks(_section())
    result = subprocess.run(
        [bash, "-euo", "pipefail", "-c", delete],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "REPO": str(repo), "NS": "vault-aio"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    deleted = {c.split(" -f ", 1)[1] for c in calls if c.startswith("delete ")}
    expected = {str(repo / "dist" / m.path) for m in with_backup.manifests if m.kind not in KEEP}
    assert deleted == expected
    assert all(c.startswith("delete --ignore-not-found -f ") for c in calls if c.startswith("delete"))
    stateful = [m for m in with_backup.manifests if m.kind == "StatefulSet"]
    for m in stateful:
        policy = m.body["spec"]["persistentVolumeClaimRetentionPolicy"]
        assert policy == {"whenDeleted": "Retain", "whenScaled": "Retain"}, "deleting them keeps their claims"
