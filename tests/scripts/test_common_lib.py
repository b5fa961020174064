"""scripts/lib/common.sh: both scripts source it from their own directory, and each helper exists once."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.scripts.conftest import REPO, SCRIPTS, FakeCluster
from tests.scripts.fake_kubectl import FIXTURES, fixture, new_state
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


# ---- the bash readers that replace a process: each against the program it stands in for --------------------


def lib_run(tmp_path: Path, script: str, *args: str, jq_runs: bool = True) -> list[list[str]]:
    """Run ``script`` in bash after sourcing the lib, with a ``jq`` on PATH that logs each start to
    ``$JQ_LOG`` (and, without ``jq_runs``, does nothing else: prints nothing, fails) and the real one in
    ``$REAL_JQ``; its stdout, one tab-separated row per line."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    jq = bin_dir / "jq"
    then = f'exec "{require_tool("jq")}" "$@"' if jq_runs else "exit 1"
    jq.write_text(f'#!{require_tool("bash")}\necho started >>"$JQ_LOG"\n{then}\n')
    jq.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "JQ_LOG": str(tmp_path / "jq.log"),
        "REAL_JQ": require_tool("jq"),
        "LC_ALL": "C",
    }
    driver = f'set -euo pipefail\nsource "{LIB}"\n{script}'
    result = subprocess.run(
        [require_tool("bash"), "-c", driver, "driver", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [line.split("\t") for line in result.stdout.splitlines()]


def write_documents(folder: Path, docs: dict[str, tuple[str, str]]) -> list[str]:
    folder.mkdir()
    for name, (text, _) in docs.items():
        (folder / name).write_text(text)
    return [str(folder / name) for name in docs]


#: For each document: whether status_fields started jq, the fields as it read them, and, when it read them
#: in bash, as the jq the scripts used before (and still use for other text) reads them. (When it goes to
#: jq it runs that same filter; the jq on PATH is a stub that only logs, so 20 ms per start add up less.)
STATUS_DRIVER = r"""
fields() {
  printf '%s|' "$S_INITIALIZED" "$S_SEALED" "$S_TYPE" "$S_RECOVERY" "$S_T" "$S_PROGRESS" "$S_IS_SELF"
}
old_jq='[.initialized, .sealed, .type, .recovery_seal, .t, .progress, (.is_self // false)] | @tsv'
for f in "$@"; do
  doc=$(<"$f") # as the scripts capture `vault status`: trailing newlines dropped
  : >"$JQ_LOG"
  status_fields "$doc"
  read_by=bash
  [ ! -s "$JQ_LOG" ] || read_by=jq
  ours=$(fields) by_jq=-
  if [ "$read_by" = bash ]; then
    S_INITIALIZED="" S_SEALED="" S_TYPE="" S_RECOVERY="" S_T="" S_PROGRESS="" S_IS_SELF=""
    IFS=$'\t' read -r S_INITIALIZED S_SEALED S_TYPE S_RECOVERY S_T S_PROGRESS S_IS_SELF < <(
      printf '%s' "$doc" | "$REAL_JQ" -r "$old_jq" 2>/dev/null
    ) || true
    by_jq=$(fields)
  fi
  printf '%s\t%s\t%s\t%s\n' "${f##*/}" "$read_by" "$ours" "$by_jq"
done
"""


def _status_documents() -> dict[str, tuple[str, str]]:
    """name: (text, reader): the vault CLI's layout with plain fields is read by bash, the rest by jq."""
    docs: dict[str, tuple[str, str]] = {}
    statuses = sorted(p.name for p in Path(FIXTURES).glob("status_*.json"))
    assert len(statuses) >= 5
    for name in statuses:
        docs[name] = (json.dumps(fixture(name), indent=2) + "\n", "bash")  # json.MarshalIndent's layout
    active = fixture("status_unsealed_active.json")
    variants: dict[str, tuple[dict[str, Any], str]] = {
        "is-self-false": ({**active, "is_self": False}, "bash"),
        "is-self-missing": ({k: v for k, v in active.items() if k != "is_self"}, "bash"),
        "transit": ({**active, "type": "transit", "recovery_seal": True}, "bash"),
        # members whose names only nested values carry, and a nested "sealed" that must not count
        "nested": ({**active, "warnings": ["a", "b"], "x": {"sealed": "nested", "t": 9}}, "bash"),
        "type-escaped": ({**active, "type": 'a"b'}, "jq"),
        "type-empty": ({**active, "type": ""}, "jq"),
        "type-spaced": ({**active, "type": "a b"}, "jq"),
        "t-null": ({**active, "t": None}, "jq"),
        "t-float": ({**active, "t": 3.5}, "jq"),
        "sealed-string": ({**active, "sealed": "false"}, "jq"),
        "is-self-string": ({**active, "is_self": "true"}, "jq"),
        "progress-missing": ({k: v for k, v in active.items() if k != "progress"}, "jq"),
    }
    for name, (data, reader) in variants.items():
        docs[name] = (json.dumps(data, indent=2), reader)
    pretty = json.dumps(active, indent=2)
    repeated = pretty.replace('  "sealed": false,', '  "sealed": true,\n  "sealed": false,')
    docs["repeated-member"] = (repeated, "bash")
    docs["compact"] = (json.dumps(active), "jq")
    docs["cut"] = (pretty[:120], "jq")
    docs["crlf"] = (pretty.replace("\n", "\r\n"), "jq")
    docs["two-documents"] = (pretty.replace('"sealed": false', '"sealed": true') + "\n" + pretty, "jq")
    for name, text in {"empty": "", "not-json": "Error", "empty-object": "{}", "array": "[1]"}.items():
        docs[name] = (text, "jq")
    return docs


def test_status_fields_reads_vaults_own_layout_in_bash_as_jq_does(tmp_path: Path) -> None:
    docs = _status_documents()
    rows = lib_run(tmp_path, STATUS_DRIVER, *write_documents(tmp_path / "docs", docs), jq_runs=False)
    assert len(rows) == len(docs)
    for name, read_by, ours, by_jq in rows:
        assert read_by == docs[name][1], f"{name} was read by {read_by}"
        assert read_by == "jq" or ours == by_jq, f"{name}: bash read {ours}, jq {by_jq}"
    plain = dict((row[0], row[2]) for row in rows)
    assert plain["status_unsealed_active.json"] == "true|false|shamir|false|3|0|true|"
    assert plain["transit"] == "true|false|transit|true|3|0|true|"
    assert plain["is-self-missing"] == plain["is-self-false"] == "true|false|shamir|false|3|0|false|"
    assert plain["repeated-member"] == plain["status_unsealed_active.json"], "the last one, as jq"


def test_status_fields_read_by_jq_keep_every_field_in_its_place(tmp_path: Path) -> None:
    """The documents bash leaves to jq: an empty or null field must not shift the ones after it (a
    tab-separated read collapses empty fields), and anything that is not a JSON object gives no field."""
    docs = _status_documents()
    rows = lib_run(tmp_path, STATUS_DRIVER, *write_documents(tmp_path / "docs", docs), jq_runs=True)
    read = {row[0]: row[2] for row in rows if row[1] == "jq"}
    assert set(read) == {name for name, (_, reader) in docs.items() if reader == "jq"}
    active = "true|false|shamir|false|3|0|true|"
    assert read["compact"] == read["crlf"] == active
    assert read["type-empty"] == "true|false||false|3|0|true|"
    assert read["t-null"] == "true|false|shamir|false||0|true|"
    assert read["progress-missing"] == "true|false|shamir|false|3||true|"
    assert read["type-spaced"] == "true|false|a b|false|3|0|true|"
    assert read["type-escaped"] == 'true|false|a"b|false|3|0|true|'
    assert read["t-float"] == "true|false|shamir|false|3.5|0|true|"
    for name in ("empty", "not-json", "array", "cut"):
        assert read[name] == "||||||" + "|", name
    assert read["empty-object"] == "||||||false|"


HAS_DRIVER = r"""
for f in "$@"; do
  doc=$(<"$f")
  for name in stdout/ pki/ sys/ type; do
    : >"$JQ_LOG"
    ours=no
    ! json_has "$doc" "$name" 2>/dev/null || ours=yes
    read_by=bash
    [ ! -s "$JQ_LOG" ] || read_by=jq
    printf '%s\t%s\t%s\t%s\n' "${f##*/}" "$name" "$read_by" "$ours"
  done
done
"""


def test_json_has_reads_vaults_own_layout_in_bash_as_jq_does(tmp_path: Path) -> None:
    """The mount and audit device lists: top-level members only ("type" is a member of each entry); jq
    (has) reads any other layout."""
    lists = {n: fixture(n) for n in ("audit_list_stdout.json", "secrets_list.json", "auth_list.json")}
    docs = {name: (json.dumps(data, indent=2), "bash") for name, data in lists.items()}
    docs["empty-object"] = ("{}", "bash")
    docs["compact"] = (json.dumps(lists["secrets_list.json"]), "jq")
    docs["array"] = ("[]", "jq")
    objects = {**lists, "empty-object": {}, "compact": lists["secrets_list.json"]}
    rows = lib_run(tmp_path, HAS_DRIVER, *write_documents(tmp_path / "docs", docs))
    assert len(rows) == 4 * len(docs)
    for doc, name, read_by, ours in rows:
        assert read_by == docs[doc][1], f"{doc} was read by {read_by}"
        has = "yes" if name in objects.get(doc, {}) else "no"  # what has() says; on an array, an error
        assert ours == has, f"{doc} has {name}: {ours}, has() says {has}"
    found = {(doc, name) for doc, name, _, ours in rows if ours == "yes"}
    assert ("audit_list_stdout.json", "stdout/") in found and ("compact", "sys/") in found


PATHS = ["/", "//", "///a", "/a", "/a/", "/a/b", "/a//b//", "a", "a/", "a/b", "./a", "../a/b", ".", "..", "",
         "/tmp/x y/z", "keys/init.json", "/home/u/.local/state/vault-aio/vault-aio/init.json"]  # fmt: skip


def test_parent_dir_is_dirname(tmp_path: Path) -> None:
    """parent_dir (the git work tree walk's step) gives what dirname(1) prints."""
    rows = lib_run(
        tmp_path,
        'for p in "$@"; do\n'
        '  parent_dir "$p"; printf "%s\\t%s\\t%s\\n" "$p" "$PARENT" "$(dirname -- "$p")"\n'
        "done",
        *PATHS,
    )
    assert len(rows) == len(PATHS)
    for path, ours, theirs in rows:
        assert ours == theirs, f"parent_dir {path!r} gives {ours!r}, dirname {theirs!r}"


def test_file_has_is_grep_for_a_fixed_string(tmp_path: Path) -> None:
    err = tmp_path / "get.err"
    err.write_text(
        "E0901 03:00:00.000000 memcache.go:265] couldn't get current server API group list\n"
        'Error from server (NotFound): secrets "vault-tls" not found\n'
    )
    missing = tmp_path / "missing.err"
    rows = lib_run(
        tmp_path,
        'for t in "(NotFound)" "(Forbidden)" "not found" "group list Error"; do for f in "$1" "$2"; do\n'
        '  ours=no; ! file_has "$f" "$t" || ours=yes\n'
        '  grep_says=no; ! grep -qF -- "$t" "$f" 2>/dev/null || grep_says=yes\n'
        '  printf "%s\\t%s\\t%s\\t%s\\n" "$t" "${f##*/}" "$ours" "$grep_says"; done; done',
        str(err),
        str(missing),
    )
    assert len(rows) == 8
    assert [row[2] for row in rows] == [row[3] for row in rows], rows
    assert [row[2] for row in rows if row[1] == "get.err"] == ["yes", "no", "yes", "no"]
