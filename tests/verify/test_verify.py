"""``vault-aio verify`` against the fake cluster: a healthy stack passes every check; each broken one
fails exactly the checks it breaks (the cause, and the symptoms a real cluster shows with it), with the
RUNBOOK link.
"""

from __future__ import annotations

import copy
import io
import json
import re
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from tests.verify.conftest import (
    DIST,
    OPERATOR_TOKEN,
    FakeRunner,
    fake_cluster,
    load_objects,
    make_cert,
    run_verify,
    write_dist,
)
from vaultaio_constructs.alerts.model import github_anchor
from vaultaio_constructs.verify import checks, cli

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "RUNBOOK.md"
ALL = {c.id for c in checks.CHECKS}


def test_healthy_stack_passes_every_check(state: dict[str, Any]) -> None:
    run = run_verify(state)
    assert run.not_passed() == {}
    assert set(run.outcomes) == ALL


def test_healthy_ha_stack_passes_every_check(tmp_path: Path, cert_pem: str) -> None:
    objects = load_objects()
    next(o for o in objects if o["kind"] == "StatefulSet" and o["metadata"]["name"] == "vault")["spec"][
        "replicas"
    ] = 3
    dist = write_dist(objects, tmp_path / "dist")
    run = run_verify(fake_cluster.build(objects, cert_pem=cert_pem), dist)
    assert run.not_passed() == {}
    assert "3 voters for 3 replicas" in run.outcomes["vault.raft-peers"].evidence
    assert "vault 3/3" in run.outcomes["prometheus.targets"].evidence


def _ha(tmp_path: Path, cert_pem: str) -> tuple[dict[str, Any], Path]:
    objects = load_objects()
    next(o for o in objects if o["kind"] == "StatefulSet" and o["metadata"]["name"] == "vault")["spec"][
        "replicas"
    ] = 3
    return fake_cluster.build(objects, cert_pem=cert_pem), write_dist(objects, tmp_path / "dist")


def _break_sealed(state: dict[str, Any]) -> None:
    state["pods"]["vault-0"]["sealed"] = True
    state["vault"]["active"] = None


def _break_policies(state: dict[str, Any]) -> None:
    state["cluster"]["network"]["enforced"] = False


def _break_target(state: dict[str, Any]) -> None:
    target = next(t for t in state["cluster"]["prometheus"]["targets"] if t["job"] == "tempo")
    target.update(
        health="down", lastError='Get "http://tempo.vault-aio.svc:3200/metrics": context deadline exceeded'
    )


def _break_loki_ingest(state: dict[str, Any]) -> None:
    state["cluster"]["loki"]["ingest"] = False


def _break_pvc(state: dict[str, Any]) -> None:
    state["cluster"]["pvcs"]["vault-aio/data-loki-0"] = "Pending"
    state["cluster"]["pods"]["loki-0"].update(phase="Pending", ready=False)


def _break_drift(state: dict[str, Any]) -> None:
    objects = state["cluster"]["objects"]
    objects["ConfigMap/vault-aio/prometheus-config"]["data"]["prometheus.yml"] += "# edited by hand\n"
    objects["StatefulSet/vault-aio/loki"]["spec"]["template"]["spec"]["containers"][0]["image"] = (
        "grafana/loki:3.0.0"
    )
    del objects["NetworkPolicy/vault-aio/allow-dns"]


def _break_chrony(state: dict[str, Any]) -> None:
    state["cluster"]["chrony"]["chrony-b"] = (
        "00000000,,0,0.000000000,0.000000000,0.0,0.0,0.0,0.0,0.0,1.0,1.0,0.0,Not synchronised"
    )


def _break_tempo(state: dict[str, Any]) -> None:
    state["cluster"]["tempo"]["ingest"] = False


def _break_grafana(state: dict[str, Any]) -> None:
    state["cluster"]["grafana"]["dashboards"].remove("vault-audit")
    state["cluster"]["grafana"]["datasources"]["tempo"] = (
        "failed to connect to Tempo: context deadline exceeded"
    )


def _break_audit_device(state: dict[str, Any]) -> None:
    state["vault"]["audit"] = {}


#: scenario -> (how to break it, the check it must fail, every check that fails with it, evidence pattern)
SCENARIOS = {
    # a sealed pod is not ready (its readiness probe gets 503), and a sealed single node cannot be asked for
    # raft, autopilot or audit state: those are skipped, not failed
    "sealed vault pod": (
        _break_sealed,
        "vault.unsealed",
        {"vault.unsealed", "workloads"},
        r"vault-0: sealed",
    ),
    "policies not enforced": (
        _break_policies,
        "network.enforced",
        {"network.enforced"},
        r"your CNI does not enforce NetworkPolicies: grafana -> vault\.vault-aio\.svc:8200",
    ),
    "scrape target down": (
        _break_target,
        "prometheus.targets",
        {"prometheus.targets"},
        r"1 scrape problems",
    ),
    "no audit entries in loki": (
        _break_loki_ingest,
        "logs.audit-in-loki",
        {"logs.audit-in-loki"},
        r"no audit entry for sys/policies/acl/vault-aio-verify-\w+ in Loki after 30 s",
    ),
    # the pod of a pending claim cannot start: its workload is not ready, its scrape target is down, and
    # Loki (its only pod) answers no query, from Grafana or from anywhere
    "pvc pending": (
        _break_pvc,
        "pvcs",
        {"pvcs", "workloads", "prometheus.targets", "logs.audit-in-loki", "grafana.datasources"},
        r"1 of 6 PVCs not bound",
    ),
    "dist drifted": (
        _break_drift,
        "objects",
        {"objects"},
        r"3 of \d+ objects differ from .*dist \(1 missing\)",
    ),
    # an unsynchronised chronyd fails its readiness probe (chronyc waitsync)
    "clock not synchronised": (
        _break_chrony,
        "time.chrony",
        {"time.chrony", "workloads"},
        r"1 of 2 nodes",
    ),
    "span lost": (_break_tempo, "traces.span-in-tempo", {"traces.span-in-tempo"}, r"not in Tempo after 30 s"),
    "grafana": (
        _break_grafana,
        "grafana.dashboards",
        {"grafana.dashboards", "grafana.datasources"},
        r"1 of 5 dashboards missing",
    ),
    # without an audit device the Loki check has nothing to look for: skipped
    "no audit device": (
        _break_audit_device,
        "vault.audit-device",
        {"vault.audit-device"},
        r"no audit device",
    ),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_broken_stack_fails_the_right_check(state: dict[str, Any], scenario: str) -> None:
    breaker, check, failing, evidence = SCENARIOS[scenario]
    breaker(state)
    run = run_verify(state)
    assert run.failed() == failing, run.not_passed()
    outcome = run.outcomes[check]
    assert re.search(evidence, outcome.evidence), outcome.evidence
    anchor = next(c.anchor for c in checks.CHECKS if c.id == check)
    assert outcome.runbook.endswith(f"RUNBOOK.md#{anchor}")
    assert anchor in runbook_anchors()


def test_sealed_pod_skips_what_only_an_unsealed_vault_can_answer(state: dict[str, Any]) -> None:
    _break_sealed(state)
    run = run_verify(state)
    for check in ("vault.raft-peers", "vault.autopilot", "vault.audit-device", "logs.audit-in-loki"):
        assert run.status(check) == "SKIP"
        assert "unsealed" in run.outcomes[check].evidence


def test_sealed_standby_of_ha_fails_unsealed_and_autopilot(tmp_path: Path, cert_pem: str) -> None:
    state, dist = _ha(tmp_path, cert_pem)
    state["pods"]["vault-2"]["sealed"] = True
    run = run_verify(state, dist)
    assert run.failed() == {"vault.unsealed", "vault.autopilot", "workloads"}, run.not_passed()
    assert "vault-2: sealed" in run.outcomes["vault.unsealed"].evidence
    assert any(d.startswith("vault-2:") for d in run.outcomes["vault.autopilot"].details)
    # the raft membership itself is intact: a sealed voter is still a voter
    assert run.status("vault.raft-peers") == "PASS"


def test_drift_names_objects_and_fields(state: dict[str, Any]) -> None:
    _break_drift(state)
    details = run_verify(state).outcomes["objects"].details
    assert "networking.k8s.io/v1 NetworkPolicy vault-aio/allow-dns: missing in the cluster" in details
    assert (
        "apps/v1 StatefulSet vault-aio/loki: spec.template.spec.containers[loki].image: "
        "cluster grafana/loki:3.0.0, dist docker.io/grafana/loki:3.7.6"
    ) in details
    assert any(
        d.startswith("v1 ConfigMap vault-aio/prometheus-config: data.prometheus.yml:") for d in details
    )


def test_objects_check_runs_kubectl_diff_with_the_field_level_program(state: dict[str, Any]) -> None:
    run = run_verify(state)
    diff = [c for c in run.runner.calls if c["argv"][:1] == ["diff"]]
    assert [c["argv"] for c in diff] == [["diff", "-k", str(DIST)]]


def test_tls_certificate_close_to_expiry_fails(state: dict[str, Any], tmp_path: Path) -> None:
    state["pod_files"]["vault-0"]["/vault/tls/tls.crt"] = make_cert(tmp_path, 3).encode()
    run = run_verify(state)
    assert run.failed() == {"vault.tls"}
    assert re.search(
        r"expires .*: [23] days left \(alerts at 30 and 7 days\)", run.outcomes["vault.tls"].evidence
    )


def test_tls_certificate_within_warning_window_warns(state: dict[str, Any], tmp_path: Path) -> None:
    state["pod_files"]["vault-0"]["/vault/tls/tls.crt"] = make_cert(tmp_path, 20).encode()
    assert run_verify(state).status("vault.tls") == "WARN"


def test_unhealthy_rule_fails_rules_check(state: dict[str, Any]) -> None:
    rule = state["cluster"]["prometheus"]["groups"][0]["rules"][0]
    rule.update(health="err", lastError="query timed out in expression evaluation")
    run = run_verify(state)
    assert run.failed() == {"prometheus.rules"}
    assert "query timed out" in run.outcomes["prometheus.rules"].details[0]


def test_without_token_the_token_checks_are_skipped_and_the_rest_pass(state: dict[str, Any]) -> None:
    run = run_verify(state, token=None)
    assert run.failed() == set()
    skipped = {k for k, o in run.outcomes.items() if str(o.status) == "SKIP"}
    assert skipped == {"vault.raft-peers", "vault.autopilot", "vault.audit-device"}
    assert "--token-file" in run.outcomes["vault.autopilot"].evidence
    # the audit entry is still proven end to end, by an unauthenticated (denied, audited) request
    assert run.status("logs.audit-in-loki") == "PASS"


def test_token_travels_on_stdin_only(state: dict[str, Any]) -> None:
    run = run_verify(state)
    with_token = [c for c in run.runner.calls if c["stdin"] is not None]
    assert with_token, "the token checks ran"
    for call in run.runner.calls:
        assert OPERATOR_TOKEN.decode() not in " ".join(call["argv"])
        if call["stdin"] is not None:
            assert call["stdin"] == OPERATOR_TOKEN
            assert "-i" in call["argv"]
            assert call["argv"][call["argv"].index("--") + 1 : call["argv"].index("--") + 4] == [
                "sh",
                "-c",
                'VAULT_TOKEN="$(cat)" exec vault "$@"',
            ]
    text = json.dumps([o.to_json() for o in run.outcomes.values()])
    assert OPERATOR_TOKEN.decode() not in text


def test_every_pod_command_uses_a_tool_its_image_has(state: dict[str, Any]) -> None:
    run = run_verify(state)
    tools_by_component = {
        "vault": {"vault", "sh", "cat"},
        "prometheus": {"wget"},
        "loki": {"wget"},
        "grafana": {"sh", "curl", "timeout"},
        "alloy": {"timeout"},
        "chrony": {"chronyc", "timeout"},
    }
    pods = state["cluster"]["pods"]
    seen = set()
    for pod, cmd in run.runner.execs():
        component = pods[pod]["component"]
        assert cmd[0] in tools_by_component[component], (pod, cmd)
        if cmd[0] == "timeout":
            assert cmd[2] == "bash"  # bash and timeout: Grafana (alpine + bash), Alloy (ubuntu), Chrony
        seen.add(component)
    assert "tempo" not in seen  # distroless: Tempo's API is asked from another pod
    assert seen == set(tools_by_component)


def test_a_component_absent_from_dist_is_skipped_with_a_reason(tmp_path: Path, cert_pem: str) -> None:
    objects = [
        o
        for o in load_objects()
        if (o["metadata"].get("labels") or {}).get("app.kubernetes.io/name") != "tempo"
    ]
    dist = write_dist(objects, tmp_path / "dist")
    run = run_verify(fake_cluster.build(objects, cert_pem=cert_pem), dist)
    assert run.status("traces.span-in-tempo") == "SKIP"
    assert "no tempo workload" in run.outcomes["traces.span-in-tempo"].evidence
    assert run.failed() == set(), run.not_passed()


def test_missing_namespace_fails_objects_and_skips_the_rest(state: dict[str, Any]) -> None:
    state["namespaces"].remove("vault-aio")
    run = run_verify(state)
    assert run.failed() == {"objects"}
    assert "vault-aio does not exist" in run.outcomes["objects"].evidence
    assert {k for k, o in run.outcomes.items() if str(o.status) == "SKIP"} == ALL - {"objects"}


# ---- the command line -------------------------------------------------------------------------------------


def _cli(state: dict[str, Any], *args: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        rc = cli.main(["verify", "--dist", str(DIST), *args], runner=FakeRunner(state))
    return rc, out.getvalue()


def test_cli_exit_code_and_one_line_per_check(state: dict[str, Any], tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_bytes(OPERATOR_TOKEN + b"\n")
    rc, out = _cli(state, "--token-file", str(token))
    assert rc == 0
    lines = out.splitlines()
    assert lines[-1] == f"OK: {len(ALL)} passed, 0 failed, 0 warnings, 0 skipped"
    assert [line.split()[:2] for line in lines[1:-1]] == [["PASS", c.id] for c in checks.CHECKS]

    _break_sealed(state)
    rc, out = _cli(state, "--token-file", str(token))
    assert rc == 1
    line = next(line for line in out.splitlines() if line.startswith("FAIL  vault.unsealed"))
    assert line.endswith("-> https://github.com/vault-aio/vault-aio/blob/main/docs/RUNBOOK.md#unseal")
    assert OPERATOR_TOKEN.decode() not in out


def test_cli_json(state: dict[str, Any]) -> None:
    _break_policies(state)
    rc, out = _cli(state, "--json", "--only", "network.enforced")
    doc = json.loads(out)
    assert rc == 1 and doc["ok"] is False
    assert [c["id"] for c in doc["checks"]] == ["network.enforced"]
    assert doc["checks"][0]["status"] == "FAIL"
    assert doc["checks"][0]["runbook"].endswith("#networkpolicies-not-enforced")


def test_cli_rejects_unknown_check(state: dict[str, Any]) -> None:
    assert _cli(state, "--only", "nope")[0] == 2


def test_cli_unreachable_cluster_exits_1(state: dict[str, Any]) -> None:
    state["reachable"] = False
    assert _cli(state)[0] == 1


# ---- RUNBOOK ----------------------------------------------------------------------------------------------


def runbook_anchors() -> set[str]:
    text = RUNBOOK.read_text()
    return {github_anchor(h) for h in re.findall(r"^#{2,4} (.+)$", text, flags=re.MULTILINE)}


@pytest.mark.parametrize("spec", checks.CHECKS, ids=lambda s: s.id)
def test_every_check_links_to_a_runbook_heading(spec: checks.CheckSpec) -> None:
    assert spec.anchor in runbook_anchors(), f"docs/RUNBOOK.md has no heading with anchor #{spec.anchor}"


def test_runbook_base_comes_from_the_alert_rules(tmp_path: Path, cert_pem: str) -> None:
    objects = copy.deepcopy(load_objects())
    for o in objects:
        for key, text in (o.get("data") or {}).items():
            o["data"][key] = text.replace(
                "https://github.com/vault-aio/vault-aio/blob/main/docs/RUNBOOK.md",
                "https://wiki.example/runbook",
            )
    dist = write_dist(objects, tmp_path / "dist")
    state = fake_cluster.build(objects, cert_pem=cert_pem)
    _break_policies(state)
    run = run_verify(state, dist)
    assert (
        run.outcomes["network.enforced"].runbook
        == "https://wiki.example/runbook#networkpolicies-not-enforced"
    )


# ---- the installed command, as an operator runs it -------------------------------------------------------


def test_verify_imports_no_jsii() -> None:
    import subprocess
    import sys

    code = (
        "import sys, vaultaio_constructs.verify.cli, vaultaio_constructs.verify.checks, "
        "vaultaio_constructs.verify.upgrade; "
        "bad = [m for m in ('jsii', 'cdk8s', 'cdk8s_plus_27', 'pydantic') if m in sys.modules]; "
        "sys.exit(f'imported {bad}' if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_console_script_is_declared() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["vault-aio"] == "vaultaio_constructs.verify.cli:main"


def test_end_to_end_through_the_kubectl_program(state: dict[str, Any], tmp_path: Path) -> None:
    """The real subprocess runner and the fake kubectl as a program on PATH (marshal state file)."""
    import subprocess
    import sys

    from tests.scripts.conftest import FakeCluster

    fake = FakeCluster(tmp_path)
    _break_policies(state)
    fake.state = state
    token = tmp_path / "token"
    token.write_bytes(OPERATOR_TOKEN)
    env = {
        "PATH": str(fake.bin_dir),
        "HOME": str(tmp_path),
        "FAKE_KUBECTL_STATE": str(fake.state_file),
        "FAKE_KUBECTL_LOG": str(fake.log_file),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "vaultaio_constructs.verify", "verify", "--dist", str(DIST), "--token-file",
         str(token), "--timeout", "0"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    fails = [line for line in proc.stdout.splitlines() if line.startswith("FAIL ")]
    assert len(fails) == 1 and fails[0].startswith("FAIL  network.enforced")
    assert "your CNI does not enforce NetworkPolicies" in fails[0]
    assert proc.stdout.splitlines()[-1] == f"FAILED: {len(ALL) - 1} passed, 1 failed, 0 warnings, 0 skipped"
    assert OPERATOR_TOKEN.decode() not in proc.stdout + proc.stderr
    from tests.scripts.fake_kubectl import read_log

    for call in read_log(fake.log_file):
        assert OPERATOR_TOKEN.decode() not in " ".join(call["argv"])


def test_settings_file_is_synthesized_first(state: dict[str, Any], tmp_path: Path) -> None:
    settings = tmp_path / "vaultaio.yaml"
    settings.write_text("namespace: vault-aio\n")
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = cli.main(["verify", "--settings", str(settings), "--only", "pvcs"], runner=FakeRunner(state))
    out = buf.getvalue()
    assert rc == 0, out
    assert "PASS  pvcs  6 PVCs bound" in out


def test_without_grafana_the_policy_probe_runs_from_another_pod_with_bash(
    tmp_path: Path, cert_pem: str
) -> None:
    objects = [
        o
        for o in load_objects()
        if (o["metadata"].get("labels") or {}).get("app.kubernetes.io/name") != "grafana"
    ]
    dist = write_dist(objects, tmp_path / "dist")
    state = fake_cluster.build(objects, cert_pem=cert_pem)
    run = run_verify(state, dist)
    evidence = run.outcomes["network.enforced"].evidence
    # chrony has no allowed peer in the stack (NTP and DNS only); alloy may reach vault:8200, not alertmanager
    assert evidence.startswith("from alloy-a: alloy -> vault.vault-aio.svc:8200 (allowed) connected"), (
        evidence
    )
    assert "alloy -> alertmanager.vault-aio.svc:9093 (forbidden) blocked" in evidence
    _break_policies(state)
    assert run_verify(state, dist).status("network.enforced") == "FAIL"


def test_vault_pods_on_an_old_revision_warn_and_name_the_upgrade_command(state: dict[str, Any]) -> None:
    state["cluster"]["objects"]["StatefulSet/vault-aio/vault"]["status"]["updateRevision"] = "vault-rev2"
    run = run_verify(state)
    assert run.failed() == set()
    assert run.status("workloads") == "WARN"
    assert run.outcomes["workloads"].details == [
        "vault-aio/statefulset/vault: 1/1 ready, 1 on an old revision "
        "(OnDelete: vault-aio upgrade-vault rolls them)"
    ]


def test_autopilot_state_reads_the_cli_and_the_api_shapes() -> None:
    from tests.scripts.fake_kubectl import fixture

    cli_doc = fixture("raft_autopilot_state.json")  # Go field names
    api_doc = {"data": {"healthy": False, "failure_tolerance": 0, "servers": {"vault-0": {"healthy": False}}}}
    assert checks.autopilot_state(cli_doc)["servers"]["vault-0"]["last_contact"] == "0s"
    assert checks.autopilot_state(cli_doc)["healthy"] is True
    assert checks.autopilot_state(api_doc)["servers"] == {"vault-0": {"healthy": False}}


def test_a_target_not_scraped_yet_warns(state: dict[str, Any]) -> None:
    next(t for t in state["cluster"]["prometheus"]["targets"] if t["job"] == "loki")["health"] = "unknown"
    run = run_verify(state)
    assert run.failed() == set()
    assert run.status("prometheus.targets") == "WARN"
    assert run.outcomes["prometheus.targets"].details == ["job loki: loki.vault-aio.svc:3100 not scraped yet"]
