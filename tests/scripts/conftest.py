"""Run the operator scripts against the fake kubectl (``fake_kubectl.py``) with a PATH of known tools only."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.scripts.fake_kubectl import (
    error_text,
    fixture,
    forwards_stdin,
    invoke,
    load_state,
    read_log,
    save_state,
)
from tests.tools import require_tool

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"

#: Every external program the scripts may run. The PATH of a test run holds only these (and the fake
#: kubectl), so a script that starts to depend on something else fails here first.
TOOLS = (
    "base64", "bash", "cat", "chmod", "cut", "date", "dirname", "env", "grep", "head", "jq", "ls", "mkdir",
    "mktemp", "mv", "openssl", "rm", "sed", "sha256sum", "sleep", "sort", "tr", "wc",
)  # fmt: skip


#: Exit code of the client when the fake server cannot be reached or hangs up without an answer.
NO_SERVER = 97
#: Exit code of the client when the fake server failed on the request (a bug in the fake, a bad request).
SERVER_FAILED = 98
#: Seconds the server waits for a client's next bytes, and a client for the server's answer.
SOCKET_TIMEOUT = 60

#: The ``kubectl`` on a FakeCluster's PATH: a bash client of :class:`KubectlServer`, which runs the fake
#: (``fake_kubectl.invoke``) inside the test process. The scripts call kubectl dozens of times per run; a
#: Python start per call (what ``python fake_kubectl.py`` costs) was most of the script tests' CPU time.
#: Request: state file, log file, working directory, KUBECTL_EXTERNAL_DIFF, argument count, arguments; the
#: server answers whether this invocation reads stdin (kubectl ``-i``), the client then sends it; the reply is
#: the exit code, stderr, whether stdout follows, then stdout (binary, e.g. a raft snapshot) until the server
#: closes. All fields end with a NUL byte. A server that fails before it knows about stdin answers ``E`` and
#: the traceback instead. The first line resets the options a script's exported SHELLOPTS passes on (xtrace
#: must not trace the client; errexit would stop it at the ``read`` that meets the end of stdin). The fake's
#: own failures exit with :data:`NO_SERVER` or :data:`SERVER_FAILED`, never like a kubectl error, and are
#: appended to ``$FAKE_KUBECTL_LOG.failed``, which :meth:`FakeCluster.run` turns into a test failure.
KUBECTL_CLIENT = r"""#!{bash}
{{ set +x; }} 2>/dev/null; set +eu +o pipefail
call="$*"
fail() {{
  printf 'fake kubectl: %s\n' "$2" >&2
  [ -z "${{FAKE_KUBECTL_LOG-}}" ] || printf 'kubectl %s: %s\n' "$call" "$2" >>"$FAKE_KUBECTL_LOG.failed"
  exit "$1"
}}
{{ exec 3<>"/dev/tcp/127.0.0.1/{port}"; }} 2>/dev/null ||
  fail {no_server} "cannot reach the fake kubectl server at 127.0.0.1:{port} (is the test process alive?)"
printf '%s\0' "$FAKE_KUBECTL_STATE" "$FAKE_KUBECTL_LOG" "$PWD" "${{KUBECTL_EXTERNAL_DIFF-}}" "$#" "$@" >&3
IFS= read -r -t {timeout} -d '' -u 3 wants_stdin
if [ "$wants_stdin" = E ]; then
  IFS= read -r -t {timeout} -d '' -u 3 err
  fail {failed} "fake kubectl server failed: $err"
elif [ "$wants_stdin" = 1 ]; then
  IFS= read -r -d '' data
  printf '%s\0' "$data" >&3
fi
IFS= read -r -t {timeout} -d '' -u 3 rc
IFS= read -r -t {timeout} -d '' -u 3 err
IFS= read -r -t {timeout} -d '' -u 3 has_stdout
case $rc in
  '' | *[!0-9]*) fail {no_server} "the fake kubectl server gave no answer (rc '$rc')" ;;
esac
if [ "$has_stdout" = 1 ]; then "{cat}" <&3; fi
printf '%s' "$err" >&2
[ "$rc" != {failed} ] || fail {failed} "fake kubectl server failed (see the traceback above)"
exit "$rc"
"""


#: The ``jq`` on a FakeCluster's PATH: the real jq, each argument list appended to ``$FAKE_JQ_LOG`` first
#: (its count, then the arguments, each ending with a NUL byte), so a test sees every jq a script starts and
#: that no secret is ever one of its arguments (``--arg`` values are argv too). Tracing is reset as in the
#: kubectl client.
JQ_WRAPPER = r"""#!{bash}
{{ set +x; }} 2>/dev/null
[ -z "${{FAKE_JQ_LOG-}}" ] || printf '%s\0' "$#" "$@" >>"$FAKE_JQ_LOG"
exec "{jq}" "$@"
"""


def _read_argv_log(path: Path) -> list[list[str]]:
    """The argument lists :data:`JQ_WRAPPER` logged."""
    fields = path.read_bytes().split(b"\0")[:-1] if path.exists() else []
    calls, i = [], 0
    while i < len(fields):
        count = int(fields[i])
        calls.append([_text(f) for f in fields[i + 1 : i + 1 + count]])
        i += 1 + count
    return calls


def _text(value: bytes) -> str:
    """Bytes as the fake sees them: UTF-8, other bytes kept as surrogates (os.fsdecode's way)."""
    return value.decode("utf-8", "surrogateescape")


class KubectlServer:
    """Answers the ``kubectl`` client of every FakeCluster in this test process. Each connection has a
    thread of its own (a client that never finishes its request blocks nobody else; ``kubectl … | kubectl
    … -i`` can work); the calls themselves run one at a time (they share state files)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, name="fake-kubectl", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            conn, _ = self.listener.accept()
            threading.Thread(
                target=self._connection, args=(conn,), name="fake-kubectl-call", daemon=True
            ).start()

    def _connection(self, conn: socket.socket) -> None:
        # a client killed mid-call (e.g. by a script's timeout) fails alone; the server goes on
        with conn, contextlib.suppress(OSError):
            conn.settimeout(SOCKET_TIMEOUT)
            self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        buf = bytearray()

        def field() -> bytes:
            while b"\0" not in buf:
                chunk = conn.recv(65536)
                if not chunk:
                    raise EOFError("the kubectl client hung up")
                buf.extend(chunk)
            end = buf.index(b"\0")
            value = bytes(buf[:end])
            del buf[: end + 1]
            return value

        try:
            state, log, cwd, diff_program, count = (_text(field()) for _ in range(5))
            argv = [_text(field()) for _ in range(int(count))]
            wants_stdin = forwards_stdin(argv)
        except EOFError:
            return  # nobody left to tell
        except Exception:  # a request the fake cannot read: say so, the client exits SERVER_FAILED
            conn.sendall(b"E\0" + _bytes(traceback.format_exc()) + b"\0")
            return
        conn.sendall(b"1\0" if wants_stdin else b"0\0")
        try:
            stdin = field() if wants_stdin else None
        except EOFError:
            return
        try:
            with self.lock:
                result = invoke(state, log, argv, stdin, cwd, diff_program)
            rc, out, err = result.rc, result.out, error_text(result)
        except Exception:  # a bug in the fake fails the script loudly, with an exit code of its own
            rc, out, err = SERVER_FAILED, b"", "fake kubectl server failed:\n" + traceback.format_exc()
        conn.sendall(_bytes(f"{rc}\0{err.replace(chr(0), '^@')}\0{int(bool(out))}\0") + out)


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


_server: KubectlServer | None = None


def kubectl_server() -> KubectlServer:
    global _server
    if _server is None:
        _server = KubectlServer()
    return _server


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
    #: the argument lists of the jq processes the script started
    jq_calls: list[list[str]] = field(default_factory=list)

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
    jq_log: Path = field(init=False)
    bin_dir: Path = field(init=False)
    tmp_dir: Path = field(init=False)
    cwd: Path = field(init=False)

    def __post_init__(self) -> None:
        self.state_file = self.root / "state.json"
        self.log_file = self.root / "kubectl.log"
        self.jq_log = self.root / "jq.log"
        self.bin_dir = self.root / "bin"
        self.tmp_dir = self.root / "tmp"
        self.cwd = self.root / "work"
        for d in (self.bin_dir, self.tmp_dir, self.cwd):
            d.mkdir(parents=True, exist_ok=True)
        for tool in TOOLS:
            path = require_tool(tool)  # skips (or fails under VAULTAIO_REQUIRE_TOOLS=1) when missing
            link = self.bin_dir / tool
            if tool != "jq" and not link.exists():
                link.symlink_to(path)
        jq = self.bin_dir / "jq"
        jq.write_text(JQ_WRAPPER.format(bash=require_tool("bash"), jq=require_tool("jq")))
        jq.chmod(0o755)
        client = self.bin_dir / "kubectl"
        port = kubectl_server().port
        text = KUBECTL_CLIENT.format(
            bash=require_tool("bash"),
            cat=require_tool("cat"),
            port=port,
            no_server=NO_SERVER,
            failed=SERVER_FAILED,
            timeout=SOCKET_TIMEOUT,
        )
        client.write_text(text)
        client.chmod(0o755)

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
        self.jq_log.write_bytes(b"")
        failures = Path(f"{self.log_file}.failed")
        failures.unlink(missing_ok=True)
        full_env = {
            "PATH": str(self.bin_dir),
            "HOME": str(self.root),
            "TMPDIR": str(self.tmp_dir),
            "VAULTAIO_WAIT_INTERVAL": "0",
            "VAULTAIO_WAIT_TIMEOUT": "3",
            "FAKE_KUBECTL_STATE": str(self.state_file),
            "FAKE_KUBECTL_LOG": str(self.log_file),
            "FAKE_JQ_LOG": str(self.jq_log),
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
        if failures.exists():  # whatever the script made of it: the fake broke, not the script
            pytest.fail(
                f"{script}: the fake kubectl failed:\n{failures.read_text(errors='replace')}\n{proc.stderr}"
            )
        return Run(
            proc.returncode, proc.stdout, proc.stderr, read_log(self.log_file), _read_argv_log(self.jq_log)
        )


def assert_no_secrets(run: Run, extra: list[str] | tuple[str, ...] = ()) -> None:
    """No key share, token, password or private key reached stdout or stderr."""
    for value in [*secrets_in_fixtures(), *extra]:
        assert value and value not in run.output, f"a secret leaked to the output: {value[:12]}..."


def assert_secrets_only_on_stdin(run: Run, extra: list[str] | tuple[str, ...] = ()) -> None:
    """No secret appears in any kubectl or jq argument list."""
    for call in run.calls:
        joined = "\0".join(call["argv"])
        for value in [*secrets_in_fixtures(), *extra]:
            assert value not in joined, f"a secret was passed on a kubectl command line: {call['argv'][:6]}"
    for argv in run.jq_calls:
        joined = "\0".join(argv)
        for value in [*secrets_in_fixtures(), *extra]:
            assert value not in joined, f"a secret was passed on a jq command line: {argv[:3]}"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[FakeCluster]:
    yield FakeCluster(tmp_path)


def make_cluster(root: Path, state: dict[str, Any]) -> FakeCluster:
    fake = FakeCluster(root)
    fake.state = state
    return fake
