"""Run the operator scripts against the fake kubectl (``fake_kubectl.py``) with a PATH of known tools only."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.scripts.fake_kubectl import fixture, load_state, read_log, save_state
from tests.tools import require_tool

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
FAKE = Path(__file__).resolve().parent / "fake_kubectl.py"

#: Every external program the scripts may run. The PATH of a test run holds only these (and the fake
#: kubectl), so a script that starts to depend on something else fails here first.
TOOLS = (
    "base64", "bash", "cat", "chmod", "cut", "date", "dirname", "env", "grep", "head", "jq", "ls", "mkdir",
    "mktemp", "mv", "openssl", "rm", "sed", "sha256sum", "sleep", "sort", "tr", "wc",
)  # fmt: skip


def secrets_in_fixtures() -> list[str]:
    """Every key share and root token the fake can hand out."""
    values: list[str] = []
    for name in ("operator_init_shamir.json", "operator_init_recovery.json"):
        data = fixture(name)
        for key in ("unseal_keys_b64", "unseal_keys_hex", "recovery_keys_b64", "recovery_keys_hex"):
            values.extend(data[key])
        values.append(data["root_token"])
    return values


@dataclass
class Run:
    """The outcome of one script run."""

    rc: int
    stdout: str
    stderr: str
    calls: list[dict[str, Any]]

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def argvs(self) -> list[list[str]]:
        return [c["argv"] for c in self.calls]

    def execs(self) -> list[dict[str, Any]]:
        """The ``kubectl exec`` calls, each with ``pod``, ``cmd`` (after ``--``) and ``stdin``."""
        out = []
        for call in self.calls:
            argv = call["argv"]
            if "exec" not in argv or "--" not in argv:
                continue
            head, cmd = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
            words = [a for i, a in enumerate(head) if not a.startswith("-") and not _is_flag_value(head, i)]
            out.append({"pod": words[-1], "cmd": cmd, "stdin": call["stdin"], "argv": argv})
        return out

    def vault_calls(self) -> list[list[str]]:
        """The vault CLI argument lists run in pods (with or without the token wrapper)."""
        out = []
        for e in self.execs():
            cmd = e["cmd"]
            if cmd[:1] == ["vault"]:
                out.append(cmd[1:])
            elif cmd[:2] == ["sh", "-c"] and "exec vault" in cmd[2]:
                out.append(cmd[4:])
        return out


def _is_flag_value(argv: list[str], i: int) -> bool:
    return i > 0 and argv[i - 1] in ("-n", "--namespace", "-c", "--container", "--context")


@dataclass
class FakeCluster:
    """A state file for the fake kubectl, a PATH with the known tools, and a way to run the scripts."""

    root: Path
    state_file: Path = field(init=False)
    log_file: Path = field(init=False)
    bin_dir: Path = field(init=False)
    tmp_dir: Path = field(init=False)
    cwd: Path = field(init=False)

    def __post_init__(self) -> None:
        self.state_file = self.root / "state.json"
        self.log_file = self.root / "kubectl.log"
        self.bin_dir = self.root / "bin"
        self.tmp_dir = self.root / "tmp"
        self.cwd = self.root / "work"
        for d in (self.bin_dir, self.tmp_dir, self.cwd):
            d.mkdir(parents=True, exist_ok=True)
        for tool in TOOLS:
            path = require_tool(tool)  # skips (or fails under VAULTAIO_REQUIRE_TOOLS=1) when missing
            link = self.bin_dir / tool
            if not link.exists():
                link.symlink_to(path)
        wrapper = self.bin_dir / "kubectl"
        # import the module rather than run the file, so its cached bytecode is used (faster start)
        run = (
            f"import sys; sys.path.insert(0, {str(FAKE.parent)!r}); "
            "import fake_kubectl as f; sys.exit(f.main(sys.argv[1:]))"
        )
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -I -S -c "{run}" "$@"\n')
        wrapper.chmod(0o755)

    def state_dir(self, namespace: str = "vault-aio") -> Path:
        """The scripts' default folder for keys, credentials and snapshots (``HOME`` is :attr:`root`)."""
        return self.root / ".local" / "state" / "vault-aio" / namespace

    def write_private(self, name: str, text: str, namespace: str = "vault-aio") -> Path:
        """Write ``text`` to ``name`` in :meth:`state_dir` (created private, as the scripts create it)."""
        folder = self.state_dir(namespace)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / name
        path.write_text(text)
        path.chmod(0o600)
        return path

    @property
    def state(self) -> dict[str, Any]:
        return load_state(self.state_file)

    @state.setter
    def state(self, value: dict[str, Any]) -> None:
        save_state(self.state_file, value)

    def remove_kubectl(self) -> None:
        (self.bin_dir / "kubectl").unlink()

    def run(
        self, script: str, *args: str, env: dict[str, str] | None = None, bash_args: list[str] | None = None
    ) -> Run:
        """Run ``scripts/<script>`` with ``args`` (``bash_args`` go to bash itself, e.g. ``-x``); only the
        calls of this run are in ``Run.calls``."""
        self.log_file.write_bytes(b"")
        full_env = {
            "PATH": str(self.bin_dir),
            "HOME": str(self.root),
            "TMPDIR": str(self.tmp_dir),
            "VAULTAIO_WAIT_INTERVAL": "0",
            "VAULTAIO_WAIT_TIMEOUT": "3",
            "FAKE_KUBECTL_STATE": str(self.state_file),
            "FAKE_KUBECTL_LOG": str(self.log_file),
        }
        full_env.update(env or {})
        proc = subprocess.run(
            [str(self.bin_dir / "bash"), *(bash_args or []), str(SCRIPTS / script), *args],
            cwd=self.cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr, read_log(self.log_file))


def assert_no_secrets(run: Run, extra: list[str] | tuple[str, ...] = ()) -> None:
    """No key share, token, password or private key reached stdout or stderr."""
    for value in [*secrets_in_fixtures(), *extra]:
        assert value and value not in run.output, f"a secret leaked to the output: {value[:12]}..."


def assert_secrets_only_on_stdin(run: Run, extra: list[str] | tuple[str, ...] = ()) -> None:
    """No secret appears in any kubectl argument list."""
    for call in run.calls:
        joined = "\0".join(call["argv"])
        for value in [*secrets_in_fixtures(), *extra]:
            assert value not in joined, f"a secret was passed on a kubectl command line: {call['argv'][:6]}"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[FakeCluster]:
    yield FakeCluster(tmp_path)


def make_cluster(root: Path, state: dict[str, Any]) -> FakeCluster:
    fake = FakeCluster(root)
    fake.state = state
    return fake
