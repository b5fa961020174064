"""The fake kubectl's client and server (tests/scripts/conftest.py) fail loudly, never like a kubectl error.

A test that asserts only that a script failed must not pass because the fake broke: a request the server
cannot handle, a bug in the fake and a server that cannot be reached each give an exit code of their own
(98, 97) with a message naming the fake, and :meth:`FakeCluster.run` fails the test when it sees one.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.scripts.conftest import FakeCluster
from tests.scripts.fake_kubectl import new_state
from tests.tools import require_tool


def _kubectl(
    cluster: FakeCluster, *args: str | bytes, state: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = {
        "PATH": str(cluster.bin_dir),
        "FAKE_KUBECTL_STATE": str(state or cluster.state_file),
        "FAKE_KUBECTL_LOG": str(cluster.log_file),
    }
    # a hang (the old server thread died on a bad request) shows as TimeoutExpired, well before pytest's
    return subprocess.run(
        [str(cluster.bin_dir / "kubectl"), *args], env=env, capture_output=True, timeout=20, check=False
    )


def test_a_non_utf8_argument_gets_an_answer_and_the_server_goes_on(cluster: FakeCluster) -> None:
    cluster.state = new_state()
    bad = _kubectl(cluster, "get", "namespace", b"caf\xe9")
    assert bad.returncode == 1, bad.stderr  # an ordinary NotFound, the bytes intact in the message
    assert b'namespaces "caf\xe9" not found' in bad.stderr
    ok = _kubectl(cluster, "-n", "vault-aio", "get", "statefulset", "vault", "-o", "name")
    assert (ok.returncode, ok.stdout) == (0, b"statefulset.apps/vault\n"), ok.stderr


def test_a_bug_in_the_fake_is_a_server_failure_not_a_kubectl_error(
    cluster: FakeCluster, tmp_path: Path
) -> None:
    broken = _kubectl(cluster, "get", "namespace", "x", state=tmp_path / "no-such-state")
    assert broken.returncode == 98, broken.stderr
    assert b"fake kubectl server failed" in broken.stderr and b"FileNotFoundError" in broken.stderr
    # a script run that meets it fails the test, whatever the script makes of the error
    cluster.state_file.unlink(missing_ok=True)
    with pytest.raises(pytest.fail.Exception, match="fake kubectl server failed"):
        cluster.run("init-vault.sh", "--tls-only")


def _dead_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port: int = s.getsockname()[1]
    return port  # closed: nothing listens there


def test_an_unreachable_server_is_exit_97_and_fails_the_run(cluster: FakeCluster) -> None:
    cluster.state = new_state()
    client = cluster.bin_dir / "kubectl"
    text = client.read_text()
    port = text.split("/dev/tcp/127.0.0.1/", 1)[1].split('"', 1)[0]
    client.write_text(text.replace(f"/dev/tcp/127.0.0.1/{port}", f"/dev/tcp/127.0.0.1/{_dead_port()}"))
    unreachable = _kubectl(cluster, "get", "namespace", "vault-aio")
    assert unreachable.returncode == 97, unreachable.stderr
    assert b"cannot reach the fake kubectl server" in unreachable.stderr
    with pytest.raises(pytest.fail.Exception, match="cannot reach the fake kubectl server"):
        cluster.run("init-vault.sh", "--tls-only")


def test_a_client_that_never_finishes_its_request_does_not_block_the_others(cluster: FakeCluster) -> None:
    from tests.scripts.conftest import kubectl_server

    cluster.state = new_state()
    with socket.create_connection(("127.0.0.1", kubectl_server().port)) as stuck:
        stuck.sendall(b"half a request")
        ok = _kubectl(cluster, "-n", "vault-aio", "get", "statefulset", "vault", "-o", "name")
    assert (ok.returncode, ok.stdout) == (0, b"statefulset.apps/vault\n"), ok.stderr


def test_a_request_the_server_cannot_read_is_answered_as_a_server_failure(cluster: FakeCluster) -> None:
    from tests.scripts.conftest import kubectl_server

    with socket.create_connection(("127.0.0.1", kubectl_server().port), timeout=20) as conn:
        conn.sendall(b"state\0log\0/\0\0not-a-count\0")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    marker, text, _ = answer.split(b"\0", 2)
    assert marker == b"E" and b"ValueError" in text, answer


def test_the_client_passes_shellcheck(cluster: FakeCluster) -> None:
    shellcheck = require_tool("shellcheck")
    client = cluster.bin_dir / "kubectl"
    proc = subprocess.run([shellcheck, str(client)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout
