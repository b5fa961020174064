"""``vault-aio upgrade-vault`` against the fake cluster: Vault's order (standbys, then the stepped-down active
pod), health checked between pods, and a stop at the first failed check."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from tests.verify.conftest import ADMIN_TOKEN, DIST, Clock, FakeRunner, fake_cluster, load_objects
from vaultaio_constructs.verify import cli
from vaultaio_constructs.verify.kube import Kubectl
from vaultaio_constructs.verify.manifest import Manifests
from vaultaio_constructs.verify.upgrade import Target, Upgrade, UpgradeError


def test_dist_vault_statefulset_is_on_delete() -> None:
    vault = Manifests.load(DIST).component("vault")
    assert vault is not None
    assert vault.obj["spec"]["updateStrategy"] == {"type": "OnDelete"}


@pytest.fixture
def ha(cert_pem: str) -> dict[str, Any]:
    """Three unsealed pods (auto-unseal: a restarted pod unseals itself) on revision 1, StatefulSet on 2."""
    objects = load_objects()
    state = fake_cluster.build(objects, vault_replicas=3, cert_pem=cert_pem)
    state["cluster"]["objects"]["StatefulSet/vault-aio/vault"]["status"]["updateRevision"] = "vault-rev2"
    return state


def upgrade(state: dict[str, Any], timeout: float = 60) -> tuple[int | str, FakeRunner, str]:
    runner = FakeRunner(state)
    clock = Clock()
    out = io.StringIO()
    target = Target(
        namespace="vault-aio",
        statefulset="vault",
        container="vault",
        selector="app.kubernetes.io/instance=vault-aio,app.kubernetes.io/name=vault",
        token=ADMIN_TOKEN,
        timeout=timeout,
        interval=5,
    )
    try:
        rc: int | str = Upgrade(Kubectl(runner), target, out=out, clock=clock, sleep=clock.sleep).run()
    except UpgradeError as err:
        rc = str(err)
    return rc, runner, out.getvalue()


def actions(runner: FakeRunner) -> list[str]:
    """The disruptive calls in order: deletions and step-downs."""
    seen = []
    for c in runner.calls:
        argv = c["argv"]
        if argv[:2] == ["delete", "pod"]:
            seen.append(f"delete {argv[2]}")
        elif argv[:1] == ["exec"] and "step-down" in argv:
            seen.append(f"step-down {argv[argv.index('--') - 3]}")
    return seen


def test_standbys_first_then_the_active_pod_after_a_step_down(ha: dict[str, Any]) -> None:
    rc, runner, out = upgrade(ha)
    assert rc == 0, rc
    assert actions(runner) == ["delete vault-2", "delete vault-1", "step-down vault-0", "delete vault-0"]
    pods = ha["cluster"]["pods"]
    assert {pods[f"vault-{i}"]["labels"]["controller-revision-hash"] for i in range(3)} == {"vault-rev2"}
    assert "done: every Vault pod runs revision vault-rev2" in out


def test_the_active_pod_goes_last_whatever_its_ordinal(ha: dict[str, Any]) -> None:
    ha["vault"]["active"] = "vault-1"
    rc, runner, _ = upgrade(ha)
    assert rc == 0, rc
    assert actions(runner) == ["delete vault-2", "delete vault-0", "step-down vault-1", "delete vault-1"]


def test_health_is_checked_after_every_restart(ha: dict[str, Any]) -> None:
    _, runner, _ = upgrade(ha)
    calls = [c["argv"] for c in runner.calls]
    deletions = [i for i, a in enumerate(calls) if a[:2] == ["delete", "pod"]]
    for before, after in zip(deletions, [*deletions[1:], len(calls)], strict=True):
        between = calls[before:after]
        assert any("autopilot" in a for a in between), "autopilot was asked after a restart"
        assert any("list-peers" in a for a in between)


def test_refuses_to_start_with_an_unhealthy_peer(ha: dict[str, Any]) -> None:
    ha["cluster"]["unhealthy"].append("vault-1")
    rc, runner, _ = upgrade(ha)
    assert isinstance(rc, str) and rc.startswith("preflight failed, no pod was touched")
    assert "autopilot: vault-1 unhealthy" in rc
    assert actions(runner) == []


def test_refuses_to_start_with_a_sealed_pod(ha: dict[str, Any]) -> None:
    ha["pods"]["vault-2"]["sealed"] = True
    rc, runner, _ = upgrade(ha)
    assert isinstance(rc, str) and "vault-2: sealed" in rc
    assert actions(runner) == []


def test_stops_when_a_restarted_peer_stays_unhealthy(ha: dict[str, Any]) -> None:
    ha["cluster"]["unhealthy_after_restart"].append("vault-2")
    rc, runner, _ = upgrade(ha, timeout=30)
    assert isinstance(rc, str) and rc.startswith("stopped: vault-2 not healthy 30 s after its restart")
    assert actions(runner) == ["delete vault-2"]
    assert ha["cluster"]["pods"]["vault-0"]["labels"]["controller-revision-hash"] == "vault-rev1"


def test_waits_for_a_shamir_pod_to_be_unsealed_then_stops(ha: dict[str, Any]) -> None:
    ha["vault"]["seal"] = "shamir"
    rc, runner, out = upgrade(ha, timeout=20)
    assert "vault-2 is sealed: unseal it" in out
    assert isinstance(rc, str) and "vault-2: sealed" in rc
    assert actions(runner) == ["delete vault-2"]


def test_nothing_to_do_when_every_pod_is_current(ha: dict[str, Any]) -> None:
    ha["cluster"]["objects"]["StatefulSet/vault-aio/vault"]["status"]["updateRevision"] = "vault-rev1"
    rc, runner, out = upgrade(ha)
    assert rc == 0 and "nothing to do" in out
    assert actions(runner) == []


def test_refuses_a_rolling_update_statefulset(ha: dict[str, Any]) -> None:
    ha["cluster"]["objects"]["StatefulSet/vault-aio/vault"]["spec"]["updateStrategy"] = {
        "type": "RollingUpdate"
    }
    rc, runner, _ = upgrade(ha)
    assert isinstance(rc, str) and "updateStrategy RollingUpdate" in rc
    assert actions(runner) == []


def test_token_only_on_stdin(ha: dict[str, Any]) -> None:
    _, runner, out = upgrade(ha)
    assert any(c["stdin"] == ADMIN_TOKEN for c in runner.calls)
    for c in runner.calls:
        assert ADMIN_TOKEN.decode() not in " ".join(c["argv"])
    assert ADMIN_TOKEN.decode() not in out


def test_cli_exit_codes(ha: dict[str, Any], tmp_path: Path) -> None:
    token = tmp_path / "admin-token"
    token.write_bytes(ADMIN_TOKEN)
    ha["cluster"]["unhealthy"].append("vault-1")
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        rc = cli.main(
            ["upgrade-vault", "--token-file", str(token), "--dist", str(DIST)], runner=FakeRunner(ha)
        )
    assert rc == 1
    assert err.getvalue().startswith("upgrade-vault: preflight failed")
