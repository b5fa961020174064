"""Run ``vault-aio verify`` and ``upgrade-vault`` in-process against the fake cluster (``fake_cluster.py``).

The fake kubectl is called as a function (no process per call), with the same argv and stdin the real one
would get; every call is recorded so tests can assert what ran where and that no secret was on a command line.
"""

from __future__ import annotations

import copy
import functools
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.tools import require_tool
from vaultaio_constructs.verify import checks
from vaultaio_constructs.verify.kube import Kubectl, Result
from vaultaio_constructs.verify.manifest import Manifests

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "dist"
FAKE_DIR = REPO / "tests" / "scripts"
if str(FAKE_DIR) not in sys.path:
    sys.path.insert(0, str(FAKE_DIR))

import fake_cluster  # noqa: E402
import fake_kubectl  # noqa: E402

OPERATOR_TOKEN = b"operator-token-for-tests"
ADMIN_TOKEN = b"admin-token-for-tests"


class FakeRunner:
    """A kubectl runner backed by the fake's state; records each call."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        self.calls: list[dict[str, Any]] = []

    def __call__(self, argv: Sequence[str], stdin: bytes | None, env: Any) -> Result:
        argv = list(argv)
        self.calls.append({"argv": argv, "stdin": stdin})
        self.state["_env"] = dict(env)
        try:
            r = fake_kubectl.kubectl(self.state, argv, stdin if "-i" in argv else None)
        finally:
            self.state.pop("_env", None)
        return Result(r.rc, r.out.decode(errors="replace"), r.err)

    def execs(self) -> list[tuple[str, list[str]]]:
        out = []
        for c in self.calls:
            argv = c["argv"]
            if argv[:1] == ["exec"] and "--" in argv:
                head = argv[: argv.index("--")]
                out.append((head[-3], argv[argv.index("--") + 1 :]))
        return out


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.5)


@functools.lru_cache(maxsize=8)
def manifests(dist: Path) -> Manifests:
    return Manifests.load(dist)


def load_objects(dist: Path = DIST) -> list[dict[str, Any]]:
    return [dict(o) for o in Manifests.load(dist).objects]


def write_dist(objects: list[dict[str, Any]], root: Path) -> Path:
    """A dist/ directory holding ``objects`` (one file) and its kustomization."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "all.yaml").write_text(yaml.safe_dump_all(objects, sort_keys=False))
    (root / "kustomization.yaml").write_text("resources:\n- all.yaml\n")
    return root


def make_cert(tmp: Path, days: int) -> str:
    openssl = require_tool("openssl")
    key, cert = tmp / f"k{days}.pem", tmp / f"c{days}.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", str(days), "-subj", "/CN=vault.vault-aio.svc"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert.read_text()


class Run:
    def __init__(self, outcomes: list[Any], runner: FakeRunner) -> None:
        self.outcomes = {o.spec.id: o for o in outcomes}
        self.runner = runner

    def status(self, check: str) -> str:
        return str(self.outcomes[check].status)

    def failed(self) -> set[str]:
        return {k for k, o in self.outcomes.items() if o.status is checks.Status.FAIL}

    def not_passed(self) -> dict[str, str]:
        return {
            k: f"{o.status} {o.evidence}"
            for k, o in self.outcomes.items()
            if o.status is not checks.Status.PASS
        }


def run_verify(
    state: dict[str, Any], dist: Path = DIST, *, token: bytes | None = OPERATOR_TOKEN, timeout: float = 30
) -> Run:
    runner = FakeRunner(state)
    clock = Clock()
    options = checks.Options(
        token=token, e2e_timeout=timeout, poll_interval=3, dist=dist, clock=clock, sleep=clock.sleep,
        nonce=lambda: "0123456789abcdef",
    )  # fmt: skip
    outcomes = checks.Verifier(manifests(dist), Kubectl(runner), options).run()
    return Run(outcomes, runner)


@pytest.fixture(scope="session")
def dist_objects() -> list[dict[str, Any]]:
    return load_objects()


@pytest.fixture(scope="session")
def cert_pem(tmp_path_factory: pytest.TempPathFactory) -> str:
    return make_cert(tmp_path_factory.mktemp("cert"), 365)


@pytest.fixture(scope="session")
def healthy_state(dist_objects: list[dict[str, Any]], cert_pem: str) -> dict[str, Any]:
    return fake_cluster.build(dist_objects, cert_pem=cert_pem)


@pytest.fixture
def state(healthy_state: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of the healthy stack of the committed dist/ (one Vault replica)."""
    return copy.deepcopy(healthy_state)
