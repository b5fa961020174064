"""scripts/lib/common.sh: both scripts source it from their own directory, and each helper exists once."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.scripts.conftest import REPO, SCRIPTS, FakeCluster
from tests.scripts.fake_kubectl import fixture, new_state
from tests.tools import require_tool

LIB = SCRIPTS / "lib" / "common.sh"
SOURCE_LINE = 'source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"'
#: The one hook a script may define over the lib's (cleanup runs it before removing WORK).
HOOKS = {"on_exit"}


def functions(path: Path) -> set[str]:
    return set(re.findall(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\(\) *\{", path.read_text(), re.M))


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("script", ["init-vault.sh", "backup.sh", "kube-api-cidrs.sh"])
def test_script_sources_the_lib_and_redefines_none_of_it(script: str) -> None:
    text = (SCRIPTS / script).read_text()
    assert text.count(SOURCE_LINE) == 1
    shared = functions(LIB)
    assert {"log", "die", "usage_error", "kc", "summary", "preflight", "is_dns_label"} <= shared
    assert functions(SCRIPTS / script) & shared <= HOOKS


@pytest.mark.parametrize("script", ["init-vault.sh", "backup.sh"])
def test_script_works_from_any_working_directory(script: str, tmp_path: Path) -> None:
    """The lib is found next to the script whether it is called by absolute or relative path."""
    absolute = run(["bash", str(SCRIPTS / script), "--help"], cwd=tmp_path)
    from_repo = run(["bash", f"scripts/{script}", "--help"], cwd=REPO)
    from_scripts = run(["bash", script, "--help"], cwd=SCRIPTS)
    assert absolute.returncode == 0, absolute.stderr
    assert absolute.stdout.startswith(f"Usage: {script} ")
    assert absolute.stdout == from_repo.stdout == from_scripts.stdout
    assert absolute.stderr == from_repo.stderr == from_scripts.stderr == ""
    bad = run(["bash", str(SCRIPTS / script), "--bogus"], cwd=tmp_path)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == f"{script}: unknown option: --bogus (see --help)\n"


def test_backup_by_absolute_path_writes_into_the_state_folder(cluster: FakeCluster) -> None:
    cluster.state = new_state(initialized=True, sealed=False)  # the root token may take snapshots too
    token = cluster.root / "root-token"
    token.write_text(fixture("operator_init_shamir.json")["root_token"])
    assert not cluster.cwd.is_relative_to(REPO)
    result = cluster.run("backup.sh", "--token-file", str(token))
    assert result.rc == 0, result.stderr
    assert len(list((cluster.state_dir() / "backups").glob("vault-raft-*.snap"))) == 1
    assert list(cluster.cwd.iterdir()) == [], "nothing is written into the working directory"
    assert list(cluster.tmp_dir.iterdir()) == [], "cleanup left the work directory behind"


@pytest.mark.parametrize("script", ["init-vault.sh", "backup.sh"])
def test_script_copied_without_the_lib_fails_before_doing_anything(script: str, tmp_path: Path) -> None:
    shutil.copy(SCRIPTS / script, tmp_path / script)
    result = run(["bash", str(tmp_path / script), "--help"], cwd=tmp_path)
    assert result.returncode != 0
    assert "lib/common.sh" in result.stderr
    assert "Usage:" not in result.stdout


@pytest.mark.parametrize(
    "name",
    [
        "vault-aio-init.json",
        "vault-aio-init.json.partial",
        "vault-aio-grafana-admin.json",
        "vault-aio-grafana-admin.json.tmp",
        "backups/vault-raft-20260901T030000Z.snap",
    ],
)
def test_secrets_older_versions_wrote_into_the_repository_are_git_ignored(name: str) -> None:
    """Until the scripts wrote to the state folder, these landed in the working directory (the repo root)."""
    git = require_tool("git")
    result = run([git, "-C", str(REPO), "check-ignore", "--no-index", "-q", name], cwd=REPO)
    assert result.returncode == 0, f"{name} is not git-ignored"
