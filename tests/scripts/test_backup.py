"""scripts/backup.sh against the fake kubectl: the snapshot it saves, what it prunes, how it fails."""

from __future__ import annotations

import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.scripts.conftest import (
    SCRIPTS,
    FakeCluster,
    Run,
    assert_no_secrets,
    assert_secrets_only_on_stdin,
    make_cluster,
)
from tests.scripts.fake_kubectl import FIXTURES, TOKEN_WRAPPER, new_state
from tests.tools import require_tool

BACKUP_TOKEN = "hvs.CAESIBackupOnlyTokenForTests0x7f"
SNAPSHOT = (Path(FIXTURES) / "raft.snap").read_bytes()
NAME = re.compile(r"vault-raft-\d{8}T\d{6}Z\.snap")


def cluster_state(pods: int = 3, active: str = "vault-1") -> dict[str, Any]:
    state = new_state(pods=pods, initialized=True, sealed=False)
    state["vault"]["active"] = active
    state["vault"]["tokens"][BACKUP_TOKEN] = "backup"
    return state


def token_file(fake: FakeCluster, value: str = BACKUP_TOKEN) -> str:
    path = fake.root / "backup-token"
    path.write_text(value + "\n")
    return str(path)


def snapshots(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> tuple[FakeCluster, Run]:
    fake = make_cluster(tmp_path_factory.mktemp("backup"), cluster_state())
    return fake, fake.run("backup.sh", "--token-file", token_file(fake))


def test_snapshot_is_taken_on_the_active_pod_with_the_token_on_stdin(
    backed_up: tuple[FakeCluster, Run],
) -> None:
    _fake, run = backed_up
    assert run.rc == 0, run.stderr
    saves = [e for e in run.execs() if "snapshot" in e["cmd"]]
    assert len(saves) == 1
    save = saves[0]
    assert save["pod"] == "vault-1"
    assert save["cmd"][:4] == ["sh", "-c", TOKEN_WRAPPER, "sh"]
    assert save["cmd"][4:8] == ["operator", "raft", "snapshot", "save"]
    assert re.fullmatch(r"/tmp/" + NAME.pattern, save["cmd"][8])
    assert save["stdin"] == BACKUP_TOKEN
    assert "active pod: vault-1" in run.stdout


def test_the_active_pod_is_found_without_starting_jq(backed_up: tuple[FakeCluster, Run]) -> None:
    """Each status is in the vault CLI's own JSON layout, read in bash (lib/common.sh vault_json)."""
    _fake, run = backed_up
    assert run.jq_calls == []


def test_another_json_layout_finds_the_active_pod_through_jq(cluster: FakeCluster) -> None:
    state = cluster_state()
    state["vault_json_compact"] = True
    cluster.state = state
    run = cluster.run("backup.sh", "--token-file", token_file(cluster))
    assert run.rc == 0, run.stderr
    assert "active pod: vault-1" in run.stdout
    assert [e["pod"] for e in run.execs() if "snapshot" in e["cmd"]] == ["vault-1"]
    assert len(run.jq_calls) == 2, "vault-0's and vault-1's status"
    assert_secrets_only_on_stdin(run, [BACKUP_TOKEN])


def test_the_local_copy_is_byte_identical_with_a_verifiable_checksum(
    backed_up: tuple[FakeCluster, Run],
) -> None:
    fake, _run = backed_up
    out = fake.state_dir() / "backups"
    names = snapshots(out)
    assert len(names) == 2
    snap, checksum = out / names[0], out / names[1]
    assert NAME.fullmatch(snap.name) and checksum.name == snap.name + ".sha256"
    assert snap.read_bytes() == SNAPSHOT
    assert re.fullmatch(r"[0-9a-f]{64}  " + re.escape(snap.name) + "\n", checksum.read_text())
    sha256sum = require_tool("sha256sum")
    check = subprocess.run(
        [sha256sum, "-c", checksum.name], cwd=out, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    for path in (snap, checksum):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_pod_copy_is_removed_and_nothing_leaks(backed_up: tuple[FakeCluster, Run]) -> None:
    fake, run = backed_up
    assert all(files == {} for files in fake.state["pod_files"].values())
    removals = [e["cmd"] for e in run.execs() if e["cmd"][0] == "rm"]
    assert (
        len(removals) == 1
        and removals[0][:2] == ["rm", "-f"]
        and removals[0][2].startswith("/tmp/vault-raft-")
    )
    assert_no_secrets(run, [BACKUP_TOKEN])
    assert_secrets_only_on_stdin(run, [BACKUP_TOKEN])
    assert list(fake.tmp_dir.iterdir()) == []


def test_prunes_to_the_newest_n_and_leaves_other_files_alone(cluster: FakeCluster) -> None:
    cluster.state = cluster_state()
    out = cluster.cwd / "snaps"
    out.mkdir()
    old = [f"vault-raft-2026090{d}T020000Z.snap" for d in range(1, 10)]
    for name in old:
        (out / name).write_bytes(b"old")
        (out / f"{name}.sha256").write_text("x")
    (out / "vault-raft-before-upgrade.snap").write_bytes(b"kept by hand")
    (out / "notes.txt").write_text("keep me")
    run = cluster.run("backup.sh", "--token-file", token_file(cluster), "--output-dir", "snaps", "--keep=3")
    assert run.rc == 0, run.stderr
    left = snapshots(out)
    new = [n for n in left if NAME.fullmatch(n) and n not in old]
    assert len(new) == 1
    assert left == sorted(
        [
            *(n for name in old[-2:] for n in (name, f"{name}.sha256")),
            new[0],
            new[0] + ".sha256",
            "notes.txt",
            "vault-raft-before-upgrade.snap",
        ]
    )
    assert run.stdout.count("pruned ") == 7


def test_fails_when_the_snapshot_fails_and_cleans_up(cluster: FakeCluster) -> None:
    state = cluster_state(pods=1, active="vault-0")
    state["vault"]["snapshot_error"] = "write /tmp/vault-raft.snap: no space left on device"
    cluster.state = state
    run = cluster.run("backup.sh", "--token-file", token_file(cluster))
    assert run.rc == 1
    assert "vault operator raft snapshot save failed in vault-0" in run.stderr
    assert "no space left on device" in run.stderr
    assert snapshots(cluster.state_dir() / "backups") == []
    assert cluster.state["pod_files"]["vault-0"] == {}, "the partial snapshot in the pod is removed"
    assert_no_secrets(run, [BACKUP_TOKEN])


def test_fails_when_vault_refuses_the_token(cluster: FakeCluster) -> None:
    cluster.state = cluster_state(pods=1, active="vault-0")
    run = cluster.run("backup.sh", "--token-file", token_file(cluster, "hvs.RevokedBackupToken000"))
    assert run.rc == 1
    assert "permission denied" in run.stderr and "Code: 403" in run.stderr
    assert "hvs.RevokedBackupToken000" not in run.output
    assert snapshots(cluster.state_dir() / "backups") == []


def test_fails_when_the_copy_differs_from_the_pod_file(cluster: FakeCluster) -> None:
    state = cluster_state(pods=1, active="vault-0")
    state["corrupt_copy"] = True
    cluster.state = state
    run = cluster.run("backup.sh", "--token-file", token_file(cluster))
    assert run.rc == 1
    assert "differs from the file in vault-0" in run.stderr
    assert snapshots(cluster.state_dir() / "backups") == [], "no .partial file is left behind"
    assert cluster.state["pod_files"]["vault-0"] == {}


def test_an_image_without_sha256sum_is_reported_not_fatal(cluster: FakeCluster) -> None:
    state = cluster_state(pods=1, active="vault-0")
    state["has_sha256sum"] = False
    cluster.state = state
    run = cluster.run("backup.sh", "--token-file", token_file(cluster))
    assert run.rc == 0, run.stderr
    assert "was not compared with the pod's file" in run.stdout


def test_fails_when_vault_is_sealed(cluster: FakeCluster) -> None:
    state = cluster_state(pods=1, active="vault-0")
    state["pods"]["vault-0"]["sealed"] = True
    cluster.state = state
    run = cluster.run("backup.sh", "--token-file", token_file(cluster))
    assert run.rc == 1
    assert "Vault in vault-0 is sealed: unseal it first" in run.stderr
    assert not [e for e in run.execs() if "snapshot" in e["cmd"]]


def test_falls_back_to_vault_0_without_an_active_pod_and_honours_pod(cluster: FakeCluster) -> None:
    cluster.state = cluster_state(pods=2, active="vault-9")
    run = cluster.run("backup.sh", "--token-file", token_file(cluster))
    assert run.rc == 0, run.stderr
    assert "no pod reports itself active: using vault-0" in run.stdout
    assert [e["pod"] for e in run.execs() if "snapshot" in e["cmd"]] == ["vault-0"]
    run = cluster.run(
        "backup.sh",
        "--token-file",
        token_file(cluster),
        "--pod",
        "vault-1",
        "-n",
        "vault-aio",
        "--output-dir",
        "b2",
    )
    assert run.rc == 0, run.stderr
    assert [e["pod"] for e in run.execs() if "snapshot" in e["cmd"]] == ["vault-1"]


def test_fails_when_the_cluster_is_unreachable(cluster: FakeCluster) -> None:
    state = cluster_state()
    state["reachable"] = False
    cluster.state = state
    run = cluster.run("backup.sh", "--token-file", token_file(cluster))
    assert run.rc == 1
    assert "cannot reach the Kubernetes API" in run.stderr and "was refused" in run.stderr


def test_token_file_from_env(cluster: FakeCluster) -> None:
    cluster.state = cluster_state(pods=1, active="vault-0")
    run = cluster.run("backup.sh", env={"VAULT_TOKEN_FILE": token_file(cluster)})
    assert run.rc == 0, run.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--token-file (or VAULT_TOKEN_FILE) is required"),
        (["--token-file", "x", "--keep", "0"], "--keep must be a whole number >= 1, got '0'"),
        (["--token-file", "x", "--keep=many"], "--keep must be a whole number >= 1, got 'many'"),
        (["--token-file", "x", "--bogus"], "unknown option: --bogus"),
        (["--token-file"], "option --token-file needs a value"),
    ],
)
def test_fails_on_bad_options(cluster: FakeCluster, args: list[str], message: str) -> None:
    cluster.state = cluster_state()
    run = cluster.run("backup.sh", *args)
    assert run.rc == 2
    assert message in run.stderr
    assert run.calls == []


def test_fails_on_an_empty_token_file(cluster: FakeCluster) -> None:
    cluster.state = cluster_state()
    empty = cluster.root / "empty"
    empty.write_text("\n")
    run = cluster.run("backup.sh", "--token-file", str(empty))
    assert run.rc == 1
    assert "is empty" in run.stderr


def test_help_documents_every_option(cluster: FakeCluster) -> None:
    run = cluster.run("backup.sh", "--help")
    assert run.rc == 0
    source = (SCRIPTS / "backup.sh").read_text()
    parsed = set(
        re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", source.split("while [ $# -gt 0 ]")[1].split("done")[0])
    )
    assert parsed >= {"--token-file", "--output-dir", "--keep", "--namespace", "--pod"}
    for option in parsed:
        assert option in run.stdout, f"{option} is parsed but not documented in --help"


# ------------------------------------------------------------------------------------------------------
# where snapshots go (issue 14): a private folder outside any git work tree, files created exclusively


def test_default_output_is_a_private_state_folder(backed_up: tuple[FakeCluster, Run]) -> None:
    fake, run = backed_up
    out = fake.state_dir() / "backups"
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert f"saved {out}/vault-raft-" in run.stdout
    assert list(fake.cwd.iterdir()) == []


def test_refuses_an_output_dir_inside_a_git_work_tree(cluster: FakeCluster) -> None:
    cluster.state = cluster_state(pods=1, active="vault-0")
    (cluster.cwd / ".git").write_text("gitdir: /elsewhere/.git/worktrees/x\n")  # a linked work tree
    run = cluster.run("backup.sh", "--token-file", token_file(cluster), "--output-dir", "snaps")
    assert run.rc == 2
    assert f"--output-dir snaps is inside the git work tree {cluster.cwd}" in run.stderr
    assert run.calls == []
    allowed = cluster.run(
        "backup.sh", "--token-file", token_file(cluster), "--output-dir", "snaps", "--allow-git-work-tree"
    )
    assert allowed.rc == 0, allowed.stderr
    assert len([n for n in snapshots(cluster.cwd / "snaps") if NAME.fullmatch(n)]) == 1


def test_a_symlink_planted_at_the_partial_snapshot_is_never_written_through(cluster: FakeCluster) -> None:
    cluster.state = cluster_state(pods=1, active="vault-0")
    out = cluster.root / "snaps"
    out.mkdir(mode=0o700)
    stolen = cluster.root / "stolen.snap"
    # the name the script will use this second and the next few (the clock moves on while it runs)
    import datetime

    now = datetime.datetime.now(datetime.UTC)
    for second in range(0, 30):
        stamp = (now + datetime.timedelta(seconds=second)).strftime("%Y%m%dT%H%M%SZ")
        (out / f"vault-raft-{stamp}.snap.partial").symlink_to(stolen)
    run = cluster.run("backup.sh", "--token-file", token_file(cluster), "--output-dir", str(out))
    assert run.rc == 1
    assert "cannot create" in run.stderr and ".snap.partial" in run.stderr
    assert not stolen.exists()
    assert cluster.state["pod_files"]["vault-0"] == {}, "the pod copy is removed all the same"


@pytest.mark.parametrize("bash_args", [["-x"], ["-v"]], ids=["bash -x", "bash -v"])
def test_shell_tracing_never_prints_the_token(cluster: FakeCluster, bash_args: list[str]) -> None:
    cluster.state = cluster_state(pods=1, active="vault-0")
    run = cluster.run("backup.sh", "--token-file", token_file(cluster), bash_args=bash_args)
    assert run.rc == 0, run.stderr
    assert_no_secrets(run, [BACKUP_TOKEN])
    assert "shell tracing (bash -x or -v, SHELLOPTS=xtrace or verbose) is off" in run.stderr
