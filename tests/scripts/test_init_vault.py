"""scripts/init-vault.sh against the fake kubectl: what it runs, what it writes, what it prints.

The fresh three-pod install runs once per module and several tests assert on it; so does the re-run on the
resulting state. The other scenarios are small runs of their own.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.scripts.conftest import (
    SCRIPTS,
    FakeCluster,
    Run,
    assert_no_secrets,
    assert_secrets_only_on_stdin,
    make_cluster,
)
from tests.scripts.fake_kubectl import TOKEN_WRAPPER, fixture, new_state
from tests.tools import require_tool
from tests.vault.acl_model import TokenRole, VaultRefused, token_create
from vaultaio_constructs.vault.policies import default_policies

SHAMIR = fixture("operator_init_shamir.json")
RECOVERY = fixture("operator_init_recovery.json")
POLICIES = ["admin", "backup", "operator", "pki-issuer", "prometheus-metrics"]
#: The token role the admin token makes `vault-aio verify`'s operator token from (docs/RUNBOOK.md).
OPERATOR_ROLE = {"allowed_policies": "operator", "orphan": "true"}
EXPECTED_SANS = {
    "DNS:vault",
    "DNS:vault.vault-aio",
    "DNS:vault.vault-aio.svc",
    "DNS:vault.vault-aio.svc.cluster.local",
    "DNS:vault-active",
    "DNS:vault-active.vault-aio",
    "DNS:vault-active.vault-aio.svc",
    "DNS:vault-active.vault-aio.svc.cluster.local",
    "DNS:vault-standby",
    "DNS:vault-standby.vault-aio",
    "DNS:vault-standby.vault-aio.svc",
    "DNS:vault-standby.vault-aio.svc.cluster.local",
    "DNS:*.vault-internal",
    "DNS:*.vault-internal.vault-aio.svc",
    "DNS:*.vault-internal.vault-aio.svc.cluster.local",
    "DNS:localhost",
    "IP Address:127.0.0.1",
}


def lean(state: dict[str, Any]) -> dict[str, Any]:
    """Only one policy file in /vault/policies: fewer calls for tests that are about something else."""
    state["policy_files"] = {"backup.hcl": state["policy_files"]["backup.hcl"]}
    return state


def configured(state: dict[str, Any]) -> dict[str, Any]:
    """An initialised cluster whose audit device, policies and PKI are already set up."""
    lean(state)
    vault = state["vault"]
    vault["audit"] = fixture("audit_list_stdout.json")
    vault["mounts"].append("pki")
    vault["pki_ca"] = True
    vault["policies"]["backup"] = state["policy_files"]["backup.hcl"]
    vault["writes"]["auth/token/roles/operator"] = [OPERATOR_ROLE]
    return state


def generated_secrets(state: dict[str, Any]) -> list[str]:
    """Secret values the run itself created: the Grafana password and the TLS private key body."""
    values = []
    grafana = state["secrets"].get("grafana-admin")
    if grafana:
        values.append(grafana["admin-password"])
    tls = state["secrets"].get("vault-tls")
    if tls and "PRIVATE KEY" in tls.get("tls.key", ""):
        body = [line for line in tls["tls.key"].splitlines() if line and not line.startswith("-----")]
        values.extend(body)
    return values


# ------------------------------------------------------------------------------------------------------
# fresh install of three pods, then a re-run


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> tuple[FakeCluster, Run]:
    fake = make_cluster(tmp_path_factory.mktemp("fresh"), new_state(pods=3))
    return fake, fake.run("init-vault.sh")


@pytest.fixture(scope="module")
def rerun(fresh: tuple[FakeCluster, Run]) -> tuple[FakeCluster, Run]:
    fake, first = fresh
    assert first.rc == 0, first.stderr
    return fake, fake.run("init-vault.sh")


def test_fresh_install_succeeds_and_initialises_once_on_vault_0(fresh: tuple[FakeCluster, Run]) -> None:
    fake, run = fresh
    assert run.rc == 0, run.stderr
    inits = [e for e in run.execs() if "init" in e["cmd"] and "operator" in e["cmd"]]
    assert len(inits) == 1
    assert inits[0]["pod"] == "vault-0"
    assert inits[0]["cmd"] == [
        "vault",
        "operator",
        "init",
        "-key-shares=5",
        "-key-threshold=3",
        "-format=json",
    ]
    assert fake.state["vault"]["initialized"] is True


def test_fresh_install_writes_the_init_output_to_a_0600_file(fresh: tuple[FakeCluster, Run]) -> None:
    fake, run = fresh
    init_file = fake.state_dir() / "init.json"
    assert stat.S_IMODE(init_file.stat().st_mode) == 0o600
    assert json.loads(init_file.read_text()) == SHAMIR
    assert str(init_file) in run.stdout
    assert stat.S_IMODE(init_file.parent.stat().st_mode) == 0o700
    assert list(fake.cwd.iterdir()) == [], "nothing is written into the working directory"


def test_fresh_install_unseals_every_pod_with_keys_on_stdin_only(fresh: tuple[FakeCluster, Run]) -> None:
    fake, run = fresh
    unseals = [e for e in run.execs() if e["cmd"][:3] == ["vault", "write", "sys/unseal"]]
    assert [e["pod"] for e in unseals] == ["vault-0"] * 3 + ["vault-1"] * 3 + ["vault-2"] * 3
    for e in unseals:
        assert e["cmd"] == ["vault", "write", "sys/unseal", "key=-"]
        assert "-i" in e["argv"]
        assert e["stdin"] in SHAMIR["unseal_keys_b64"]
    assert all(not pod["sealed"] for pod in fake.state["pods"].values())
    assert_secrets_only_on_stdin(run)


def test_fresh_install_never_prints_a_secret(fresh: tuple[FakeCluster, Run]) -> None:
    fake, run = fresh
    assert_no_secrets(run, generated_secrets(fake.state))


def test_root_token_travels_on_stdin_through_the_token_wrapper(fresh: tuple[FakeCluster, Run]) -> None:
    _fake, run = fresh
    authed = [e for e in run.execs() if e["cmd"][:2] == ["sh", "-c"]]
    assert authed, "no authenticated vault call"
    for e in authed:
        assert e["cmd"][2] == TOKEN_WRAPPER
        assert e["stdin"] == SHAMIR["root_token"]
        assert "-i" in e["argv"]
    for e in run.execs():
        if e["cmd"][:1] == ["vault"]:
            assert e["stdin"] is None or e["stdin"] in SHAMIR["unseal_keys_b64"]


def test_every_kubectl_call_targets_the_namespace_and_the_vault_container(
    fresh: tuple[FakeCluster, Run],
) -> None:
    _fake, run = fresh
    for argv in run.argvs():
        if argv[:2] == ["config", "current-context"]:
            continue
        assert argv[:2] == ["-n", "vault-aio"], argv
    for e in run.execs():
        assert e["argv"][e["argv"].index("-c") + 1] == "vault"


def test_fresh_install_creates_a_verifiable_tls_secret_and_removes_the_temp_files(
    fresh: tuple[FakeCluster, Run],
) -> None:
    fake, _run = fresh
    openssl = require_tool("openssl")
    tls = fake.state["secrets"]["vault-tls"]
    assert set(tls) == {"tls.crt", "tls.key", "ca.crt"}
    d = fake.root / "check"
    d.mkdir(exist_ok=True)
    for name, text in tls.items():
        (d / name).write_text(text)
    # tls.crt holds the chain, server certificate first; it verifies against ca.crt
    verify = subprocess.run(
        [openssl, "verify", "-CAfile", d / "ca.crt", d / "tls.crt"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stderr
    text = subprocess.run(
        [openssl, "x509", "-in", d / "tls.crt", "-noout", "-text"], capture_output=True, text=True, check=True
    ).stdout
    san_line = text.split("X509v3 Subject Alternative Name:")[1].splitlines()[1]
    assert {s.strip() for s in san_line.split(",")} == EXPECTED_SANS
    assert "TLS Web Server Authentication" in text
    assert "CN = vault.vault-aio.svc" in text or "CN=vault.vault-aio.svc" in text
    # the key matches the certificate
    cert_pub = subprocess.run(
        [openssl, "x509", "-in", d / "tls.crt", "-noout", "-pubkey"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    key_pub = subprocess.run(
        [openssl, "pkey", "-in", d / "tls.key", "-pubout"], capture_output=True, text=True, check=True
    ).stdout
    assert cert_pub == key_pub
    # created from files, never from literals, and those files are gone
    sources = fake.state["secret_sources"]["vault-tls"]
    assert sources["from_literal"] == []
    assert sorted(s.split("=")[0] for s in sources["from_file"]) == ["ca.crt", "tls.crt", "tls.key"]
    for spec in sources["from_file"]:
        assert not Path(spec.split("=", 1)[1]).exists()
    assert list(fake.tmp_dir.iterdir()) == []


def test_fresh_install_creates_grafana_admin_from_the_0600_credentials_file(
    fresh: tuple[FakeCluster, Run],
) -> None:
    fake, _run = fresh
    secret = fake.state["secrets"]["grafana-admin"]
    assert secret["admin-user"] == "admin"
    assert re.fullmatch(r"[A-Za-z0-9+/]{32}", secret["admin-password"])
    creds_file = fake.state_dir() / "grafana-admin.json"
    assert stat.S_IMODE(creds_file.stat().st_mode) == 0o600
    assert json.loads(creds_file.read_text()) == secret
    assert fake.state["secret_sources"]["grafana-admin"]["from_literal"] == []


def test_fresh_install_enables_the_stdout_audit_device(fresh: tuple[FakeCluster, Run]) -> None:
    fake, run = fresh
    assert ["audit", "enable", "-path=stdout", "file", "file_path=stdout", "format=json"] in run.vault_calls()
    assert fake.state["vault"]["audit"]["stdout/"]["options"] == {"file_path": "stdout", "format": "json"}


def test_fresh_install_writes_every_policy_from_the_mounted_directory(fresh: tuple[FakeCluster, Run]) -> None:
    fake, run = fresh
    writes = [c for c in run.vault_calls() if c[:2] == ["policy", "write"]]
    assert writes == [["policy", "write", name, f"/vault/policies/{name}.hcl"] for name in POLICIES]
    for name in POLICIES:
        assert fake.state["vault"]["policies"][name] == fake.state["policy_files"][f"{name}.hcl"]


def test_fresh_install_sets_up_the_pki_root_ca(fresh: tuple[FakeCluster, Run]) -> None:
    fake, run = fresh
    calls = run.vault_calls()
    assert ["secrets", "enable", "pki"] in calls
    assert ["secrets", "tune", "-max-lease-ttl=87600h", "pki"] in calls
    writes = fake.state["vault"]["writes"]
    assert writes["pki/root/generate/internal"] == [{"common_name": "vault-aio Root CA", "ttl": "87600h"}]
    assert writes["pki/config/urls"] == [
        {
            "issuing_certificates": "https://vault.vault-aio.svc:8200/v1/pki/ca",
            "crl_distribution_points": "https://vault.vault-aio.svc:8200/v1/pki/crl",
        }
    ]
    assert writes["pki/roles/vault-aio"] == [
        {"allowed_domains": "vault-aio.svc", "allow_subdomains": "true", "max_ttl": "72h"}
    ]
    assert not [c for c in calls if c[:2] == ["auth", "enable"]], "kubernetes auth is off by default"


def test_fresh_install_writes_the_operator_token_role(fresh: tuple[FakeCluster, Run]) -> None:
    """The admin token cannot give out the operator policy it does not hold; this role lets it (review
    finding 4: tests/scripts/test_token_commands.py proves the RUNBOOK's commands against Vault's rules)."""
    fake, run = fresh
    assert fake.state["vault"]["writes"]["auth/token/roles/operator"] == [OPERATOR_ROLE]
    assert "token role: wrote operator" in run.stdout


RUNBOOK = SCRIPTS.parent / "docs" / "RUNBOOK.md"
#: ``vault_as TOKEN_FILE POD token create ARGS [| ...] >OUT`` (the RUNBOOK's helper), continuations joined.
_TOKEN_CREATE = re.compile(
    r"vault_as\s+(?P<parent>[\w.-]+)\s+\S+\s+token create(?P<args>[^>`\n|]*)"
    r"(?:\|[^>`\n]*)?>\s*(?P<out>[\w.-]+)"
)


def test_every_token_the_runbook_makes_is_one_vault_allows(fresh: tuple[FakeCluster, Run]) -> None:
    """Replay the RUNBOOK's `token create` commands in order, from the root token, through the model of
    Vault's token rules (tests/vault/acl_model.py) with the policies the stack renders and the token roles
    init-vault.sh wrote: the fake Vault answers any of them, real Vault refused the old operator-token one
    ("child policies must be subset of parent"; review finding 4)."""
    fake, _ = fresh
    roles = {
        path.rsplit("/", 1)[1]: TokenRole.from_params(path.rsplit("/", 1)[1], writes[-1])
        for path, writes in fake.state["vault"]["writes"].items()
        if path.startswith("auth/token/roles/")
    }
    policies = {p.name: p for p in default_policies()}
    text = RUNBOOK.read_text().replace("\\\n", " ")
    lines = [line for line in text.splitlines() if "token create" in line]
    commands = [m for line in lines for m in _TOKEN_CREATE.finditer(line)]
    assert len(commands) == len(lines) >= 3, f"a 'token create' the check cannot read: {lines}"
    tokens: dict[str, frozenset[str]] = {"root-token": frozenset({"root"})}
    for m in commands:
        assert m["parent"] in tokens, f"{m[0]!r} uses {m['parent']}, which no earlier command makes"
        try:
            tokens[m["out"]] = token_create(tokens[m["parent"]], m["args"], policies, roles).policies
        except VaultRefused as refused:
            raise AssertionError(f"Vault refuses {m[0]!r}: {refused}") from None
    assert tokens["admin-token"] == {"admin", "default"}
    assert tokens["backup-token"] == {"backup", "default"}
    assert tokens["operator-token"] == {"operator", "default"}
    operator = next(m for m in commands if m["out"] == "operator-token")
    assert operator["parent"] != "root-token", "the operator token is made without the root token"


def test_fresh_install_starts_jq_only_for_the_init_output_and_the_pki_serial(
    fresh: tuple[FakeCluster, Run],
) -> None:
    """A jq 1.6 start costs about 20 ms: the vault CLI's JSON (a status at every poll, the mount lists) is
    read in bash (lib/common.sh vault_json); jq reads the init output (checked once, then every field of it
    in one run) and the new root CA's serial. The fake prints Vault's own layout, so a fallback to jq shows
    up here."""
    fake, run = fresh
    init_file = str(fake.state_dir() / "init.json")
    read = [Path(argv[-1]) for argv in run.jq_calls]  # each jq call reads a file
    assert read[:2] == [Path(f"{init_file}.partial"), Path(init_file)] and len(read) == 3, run.jq_calls
    assert read[2].name == "pki-root.json" and read[2].is_relative_to(fake.tmp_dir)
    assert_secrets_only_on_stdin(run)


def test_rerun_skips_every_step_and_says_so(rerun: tuple[FakeCluster, Run]) -> None:
    fake, run = rerun
    assert run.rc == 0, run.stderr
    for phrase in (
        "Secret vault-tls exists: skipping",
        "Secret grafana-admin exists: skipping",
        "already initialised: skipping",
        "vault-0 is already unsealed: skipping",
        "vault-2 is already unsealed: skipping",
        "device stdout/ exists: skipping",
        "policy: admin is up to date: skipping",
        "token role: operator is up to date: skipping",
        "root CA exists in pki/: skipping",
    ):
        assert phrase in run.stdout
    changing = [
        c
        for c in run.vault_calls()
        if c[:2] in (["operator", "init"], ["audit", "enable"], ["policy", "write"], ["secrets", "enable"])
        or c[:1] == ["write"]
    ]
    assert changing == []
    assert not [a for a in run.argvs() if "create" in a]
    assert_no_secrets(run, generated_secrets(fake.state))


def test_rerun_updates_a_policy_whose_file_changed(rerun: tuple[FakeCluster, Run], tmp_path: Path) -> None:
    fake, _ = rerun
    changed = make_cluster(tmp_path, fake.state)
    changed.write_private("init.json", json.dumps(SHAMIR))
    state = changed.state
    state["policy_files"]["backup.hcl"] += (
        '\npath "sys/storage/raft/configuration" {\n  capabilities = ["read"]\n}\n'
    )
    changed.state = state
    run = changed.run("init-vault.sh")
    assert run.rc == 0, run.stderr
    assert "policy: backup differs" in run.stdout
    assert [c for c in run.vault_calls() if c[:2] == ["policy", "write"]] == [
        ["policy", "write", "backup", "/vault/policies/backup.hcl"]
    ]


# ------------------------------------------------------------------------------------------------------
# other starting points


def test_sealed_cluster_with_an_init_file_is_unsealed_without_init(cluster: FakeCluster) -> None:
    cluster.state = configured(new_state(pods=1, initialized=True, sealed=True))
    cluster.write_private("init.json", json.dumps(SHAMIR))
    run = cluster.run("init-vault.sh")
    assert run.rc == 0, run.stderr
    assert not [c for c in run.vault_calls() if c[:2] == ["operator", "init"]]
    assert len([c for c in run.vault_calls() if c[:2] == ["write", "sys/unseal"]]) == 3
    assert "vault-0 is unsealed" in run.stdout
    assert_no_secrets(run)


def test_partial_unseal_progress_is_reset_first(cluster: FakeCluster) -> None:
    state = configured(new_state(pods=1, initialized=True, sealed=True))
    state["pods"]["vault-0"]["progress"] = [SHAMIR["unseal_keys_b64"][4]]
    cluster.state = state
    cluster.write_private("init.json", json.dumps(SHAMIR))
    run = cluster.run("init-vault.sh")
    assert run.rc == 0, run.stderr
    calls = run.vault_calls()
    reset = calls.index(["operator", "unseal", "-reset"])
    assert reset < calls.index(["write", "sys/unseal", "key=-"])
    assert "discarding a partial unseal attempt (1 key(s) entered earlier)" in run.stdout


def test_fails_when_sealed_and_no_init_file(cluster: FakeCluster) -> None:
    cluster.state = new_state(pods=1, initialized=True, sealed=True)
    run = cluster.run("init-vault.sh")
    assert run.rc == 1
    init_file = cluster.state_dir() / "init.json"
    assert f"vault-0 is sealed and there are no unseal keys in --init-file {init_file}" in run.stderr
    assert not [c for c in run.vault_calls() if c[:1] == ["write"]]


def test_fails_when_the_keys_do_not_open_this_vault(cluster: FakeCluster) -> None:
    cluster.state = new_state(pods=1, initialized=True, sealed=True)
    wrong = dict(SHAMIR, unseal_keys_b64=RECOVERY["recovery_keys_b64"])
    cluster.write_private("init.json", json.dumps(wrong))
    run = cluster.run("init-vault.sh")
    assert run.rc == 1
    assert "vault-0 refused unseal key 3" in run.stderr
    assert "message authentication failed" in run.stderr
    assert_no_secrets(run)


def made_before() -> dict[str, dict[str, str]]:
    """Secrets vault-tls and grafana-admin as an earlier run left them: the run goes straight to Vault."""
    return {
        "vault-tls": {"tls.crt": "chain", "tls.key": "key", "ca.crt": "ca"},
        "grafana-admin": {"admin-user": "admin", "admin-password": "kept"},
    }


#: Two init documents in one file (say, two runs' output appended): which keys are meant is not known.
TWO_INIT_DOCUMENTS = json.dumps(dict(SHAMIR, root_token="first")) + "\n" + json.dumps(SHAMIR)


@pytest.mark.parametrize("text", ["not json", "", '["a list"]', "null", TWO_INIT_DOCUMENTS])
def test_an_init_file_that_is_not_vaults_output_is_refused(cluster: FakeCluster, text: str) -> None:
    cluster.state = new_state(pods=1, initialized=True, sealed=True, secrets=made_before())
    init_file = cluster.write_private("init.json", text)
    run = cluster.run("init-vault.sh")
    assert run.rc == 1
    assert f"{init_file} is not the JSON of 'vault operator init -format=json'" in run.stderr
    assert not [c for c in run.vault_calls() if c[:1] == ["write"]]


def test_init_file_values_stay_data_never_shell_code(cluster: FakeCluster) -> None:
    """The init file's fields reach the script as jq's @sh-quoted assignments, which it evaluates: quotes,
    $(...), backquotes and line breaks in them are text (here a key Vault refuses, sent verbatim on stdin)."""
    cluster.state = new_state(pods=1, initialized=True, sealed=True, secrets=made_before())
    marker = cluster.root / "pwned"
    keys = [f"k'; touch {marker}; '", f"$(touch {marker})", f"`touch {marker}`\nx"]
    hostile = dict(SHAMIR, unseal_keys_b64=keys, unseal_threshold=f"$(touch {marker})")
    cluster.write_private("init.json", json.dumps(hostile))
    run = cluster.run("init-vault.sh")
    assert run.rc == 1
    assert "entering 3 of 3 keys" in run.stdout  # three keys, the one with a line break too
    assert "vault-0 refused unseal key 1" in run.stderr
    unseals = [e for e in run.execs() if e["cmd"][:3] == ["vault", "write", "sys/unseal"]]
    assert [e["stdin"] for e in unseals] == keys[:1]
    assert not marker.exists()


def test_unsealed_cluster_configures_with_the_token_file(cluster: FakeCluster) -> None:
    cluster.state = new_state(pods=1, initialized=True, sealed=False)
    token_file = cluster.root / "root-token"
    token_file.write_text(SHAMIR["root_token"] + "\n")
    run = cluster.run("init-vault.sh", "--token-file", str(token_file))
    assert run.rc == 0, run.stderr
    assert "audit: enabled file device stdout/" in run.stdout
    authed = [e for e in run.execs() if e["cmd"][:2] == ["sh", "-c"]]
    assert authed and all(e["stdin"] == SHAMIR["root_token"] for e in authed)
    assert_no_secrets(run)
    assert_secrets_only_on_stdin(run)


def test_token_file_comes_from_vault_token_file_env(cluster: FakeCluster) -> None:
    cluster.state = configured(new_state(pods=1, initialized=True, sealed=False))
    token_file = cluster.root / "root-token"
    token_file.write_text(SHAMIR["root_token"])
    run = cluster.run("init-vault.sh", env={"VAULT_TOKEN_FILE": str(token_file)})
    assert run.rc == 0, run.stderr
    assert "configure: using vault-0" in run.stdout
    assert {e["stdin"] for e in run.execs() if e["cmd"][:2] == ["sh", "-c"]} == {SHAMIR["root_token"]}


def test_fails_with_a_clear_message_when_there_is_no_token(cluster: FakeCluster) -> None:
    cluster.state = new_state(pods=1, initialized=True, sealed=False)
    run = cluster.run("init-vault.sh")
    assert run.rc == 1
    assert "no token to configure it: pass --token-file" in run.stderr


def test_fails_when_vault_refuses_the_token(cluster: FakeCluster) -> None:
    cluster.state = new_state(pods=1, initialized=True, sealed=False)
    token_file = cluster.root / "stale-token"
    token_file.write_text("hvs.NotAValidTokenAnymore0")
    run = cluster.run("init-vault.sh", "--token-file", str(token_file))
    assert run.rc == 1
    assert "Vault refused the token" in run.stderr and "permission denied" in run.stderr
    assert "hvs.NotAValidTokenAnymore0" not in run.output


def test_auto_unseal_uses_recovery_keys_and_enters_no_unseal_key(cluster: FakeCluster) -> None:
    cluster.state = new_state(pods=3, seal="transit")
    run = cluster.run("init-vault.sh")
    assert run.rc == 0, run.stderr
    calls = run.vault_calls()
    assert ["operator", "init", "-recovery-shares=5", "-recovery-threshold=3", "-format=json"] in calls
    assert not [c for c in calls if c[:2] == ["write", "sys/unseal"]]
    assert "vault-0 is already unsealed" in run.stdout
    assert json.loads((cluster.state_dir() / "init.json").read_text()) == RECOVERY
    assert_no_secrets(run, generated_secrets(cluster.state))
    assert_secrets_only_on_stdin(run)


def test_json_in_another_layout_than_the_vault_clis_is_read_by_jq(cluster: FakeCluster) -> None:
    """Bash reads only the vault CLI's own JSON layout (lib/common.sh vault_json); any other goes to jq, with
    the same outcome: two pods (the standby's status says is_self false) and Kubernetes auth (the answers
    of "present" are checked by tests/scripts/test_common_lib.py against jq)."""
    state = lean(new_state(pods=2))
    state["vault_json_compact"] = True
    cluster.state = state
    run = cluster.run("init-vault.sh", "--enable-kubernetes-auth")
    assert run.rc == 0, run.stderr
    assert json.loads((cluster.state_dir() / "init.json").read_text()) == SHAMIR
    assert not any(pod["sealed"] for pod in cluster.state["pods"].values())
    for phrase in ("audit: enabled", "pki: root CA", "auth: enabled kubernetes/", "configure: using vault-0"):
        assert phrase in run.stdout
    statuses = [argv for argv in run.jq_calls if any(".is_self" in a for a in argv)]
    lists = [argv[3] for argv in run.jq_calls if "has($name)" in argv]
    assert len(statuses) >= 6, "every status went to jq"
    assert lists == ["pki/", "kubernetes/"], "the lists too (no audit device yet: {} in either layout)"
    assert_secrets_only_on_stdin(run)
    assert_no_secrets(run, generated_secrets(cluster.state))


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> tuple[FakeCluster, Run]:
    """One run with every option changed from its default (namespace from the environment)."""
    fake = make_cluster(tmp_path_factory.mktemp("custom"), new_state(pods=1, namespace="vault-prod"))
    run = fake.run(
        "init-vault.sh",
        "--key-shares",
        "3",
        "--key-threshold=2",
        "--init-file",
        "keys/init.json",
        "--pki-common-name",
        "Example Root CA",
        "--pki-ttl=43800h",
        "--pki-role",
        "apps",
        "--pki-allowed-domains",
        "example.internal,svc.cluster.local",
        "--pki-role-max-ttl",
        "24h",
        "--enable-kubernetes-auth",
        "--grafana-admin-user",
        "ops",
        "--grafana-credentials-file=creds/grafana.json",
        "--context",
        "prod-admin",
        env={"VAULTAIO_NAMESPACE": "vault-prod"},
    )
    assert run.rc == 0, run.stderr
    return fake, run


def test_key_share_options_reach_vault_operator_init(custom: tuple[FakeCluster, Run]) -> None:
    fake, run = custom
    assert ["operator", "init", "-key-shares=3", "-key-threshold=2", "-format=json"] in run.vault_calls()
    assert len([c for c in run.vault_calls() if c[:2] == ["write", "sys/unseal"]]) == 2
    init_file = fake.cwd / "keys" / "init.json"
    assert stat.S_IMODE(init_file.stat().st_mode) == 0o600
    init = json.loads(init_file.read_text())
    assert init["unseal_threshold"] == 2 and len(init["unseal_keys_b64"]) == 3


def test_pki_and_kubernetes_auth_options(custom: tuple[FakeCluster, Run]) -> None:
    fake, run = custom
    writes = fake.state["vault"]["writes"]
    assert writes["pki/root/generate/internal"] == [{"common_name": "Example Root CA", "ttl": "43800h"}]
    assert ["secrets", "tune", "-max-lease-ttl=43800h", "pki"] in run.vault_calls()
    assert writes["pki/roles/apps"] == [
        {
            "allowed_domains": "example.internal,svc.cluster.local",
            "allow_subdomains": "true",
            "max_ttl": "24h",
        }
    ]
    assert ["auth", "enable", "kubernetes"] in run.vault_calls()
    assert writes["auth/kubernetes/config"] == [{"kubernetes_host": "https://kubernetes.default.svc:443"}]


def test_grafana_options(custom: tuple[FakeCluster, Run]) -> None:
    fake, _run = custom
    creds = fake.cwd / "creds" / "grafana.json"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    assert json.loads(creds.read_text()) == fake.state["secrets"]["grafana-admin"]
    assert fake.state["secrets"]["grafana-admin"]["admin-user"] == "ops"


def test_namespace_and_context_reach_kubectl_urls_and_certificate(custom: tuple[FakeCluster, Run]) -> None:
    fake, run = custom
    others = [a[:5] for a in run.argvs() if a[:4] != ["--context", "prod-admin", "-n", "vault-prod"]]
    assert others == []
    urls = fake.state["vault"]["writes"]["pki/config/urls"][0]
    assert urls["issuing_certificates"] == "https://vault.vault-prod.svc:8200/v1/pki/ca"
    assert urls["crl_distribution_points"] == "https://vault.vault-prod.svc:8200/v1/pki/crl"
    openssl = require_tool("openssl")
    sans = subprocess.run(
        [openssl, "x509", "-noout", "-ext", "subjectAltName"],
        input=fake.state["secrets"]["vault-tls"]["tls.crt"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "DNS:*.vault-internal.vault-prod.svc.cluster.local" in sans
    assert "vault-aio" not in sans


def test_tls_only_creates_the_secret_and_stops(cluster: FakeCluster) -> None:
    cluster.state = new_state(pods=1)
    run = cluster.run("init-vault.sh", "--tls-only", "--tls-days", "30")
    assert run.rc == 0, run.stderr
    assert "valid 30 days" in run.stdout and "done (--tls-only)." in run.stdout
    assert set(cluster.state["secrets"]) == {"vault-tls"}
    assert run.execs() == []
    assert_no_secrets(run, generated_secrets(cluster.state))


def test_self_signed_names_match_the_vault_construct_contract() -> None:
    from vaultaio_constructs.vault.config import tls_dns_names

    assert {f"DNS:{n}" for n in tls_dns_names("vault-aio")} | {"IP Address:127.0.0.1"} == EXPECTED_SANS


def test_existing_tls_and_grafana_secrets_are_left_alone(cluster: FakeCluster) -> None:
    tls = {"tls.crt": "cert-manager chain", "tls.key": "cert-manager key", "ca.crt": "cert-manager ca"}
    grafana = {"admin-user": "ops", "admin-password": "kept-as-is"}
    cluster.state = lean(new_state(pods=1, secrets={"vault-tls": tls, "grafana-admin": grafana}))
    run = cluster.run("init-vault.sh", "--tls-self-signed")
    assert run.rc == 0, run.stderr
    assert cluster.state["secrets"]["vault-tls"] == tls
    assert cluster.state["secrets"]["grafana-admin"] == grafana
    assert not (cluster.state_dir() / "grafana-admin.json").exists()


def test_grafana_credentials_from_an_earlier_failed_run_are_reused(cluster: FakeCluster) -> None:
    cluster.state = lean(
        new_state(pods=1, secrets={"vault-tls": {"tls.crt": "x", "tls.key": "y", "ca.crt": "z"}})
    )
    cluster.write_private(
        "grafana-admin.json",
        json.dumps({"admin-user": "admin", "admin-password": "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4"}),
    )
    run = cluster.run("init-vault.sh")
    assert run.rc == 0, run.stderr
    assert cluster.state["secrets"]["grafana-admin"]["admin-password"] == "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4"
    assert "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4" not in run.output


def test_grafana_credentials_file_is_read_as_data_and_must_hold_both(cluster: FakeCluster) -> None:
    """Values with quotes, $(...) and line breaks are reused byte for byte; a file without both is refused.
    No Vault pod here: the run stops after the Grafana step."""
    tls = {"tls.crt": "x", "tls.key": "y", "ca.crt": "z"}
    cluster.state = new_state(pods=0, secrets={"vault-tls": tls})
    marker = cluster.root / "pwned"
    odd = f"p'a\"s$(touch {marker})`id`\nword"
    cluster.write_private("grafana-admin.json", json.dumps({"admin-user": "ops", "admin-password": odd}))
    run = cluster.run("init-vault.sh", env={"VAULTAIO_WAIT_TIMEOUT": "0"})
    assert "reusing the credentials" in run.stdout, run.stderr
    assert cluster.state["secrets"]["grafana-admin"] == {"admin-user": "ops", "admin-password": odd}
    assert not marker.exists()
    assert_no_secrets(run, [odd])
    cluster.state = new_state(pods=0, secrets={"vault-tls": tls})
    cluster.write_private("grafana-admin.json", json.dumps({"admin-user": "ops"}))
    run = cluster.run("init-vault.sh")
    assert run.rc == 1
    assert "grafana-admin.json exists but holds no admin-user/admin-password" in run.stderr
    assert "grafana-admin" not in cluster.state["secrets"]


def test_waits_for_pods_that_start_late(cluster: FakeCluster) -> None:
    state = lean(new_state(pods=1))
    state["pods"]["vault-0"]["phases"] = ["Absent", "Pending", "Pending", "Running"]
    state["pods"]["vault-0"]["api_down"] = 2
    cluster.state = state
    run = cluster.run("init-vault.sh", env={"VAULTAIO_WAIT_TIMEOUT": "10"})
    assert run.rc == 0, run.stderr
    assert "waiting for pod vault-0 to run" in run.stdout
    assert "waiting for Vault in vault-0 to answer" in run.stdout


def test_fails_when_a_pod_never_runs(cluster: FakeCluster) -> None:
    state = new_state(pods=1)
    state["pods"]["vault-0"]["phases"] = ["Pending"]
    cluster.state = state
    run = cluster.run("init-vault.sh", env={"VAULTAIO_WAIT_TIMEOUT": "2"})
    assert run.rc == 1
    assert "pod vault-0 is not Running after 2s" in run.stderr
    assert "Secret vault-tls keeps it Pending" in run.stderr


def test_no_tls_self_signed_waits_for_the_secret_and_fails_clearly(cluster: FakeCluster) -> None:
    cluster.state = new_state(pods=1)
    run = cluster.run("init-vault.sh", "--no-tls-self-signed", env={"VAULTAIO_WAIT_TIMEOUT": "1"})
    assert run.rc == 1
    assert "waiting for Secret vault-tls (cert-manager" in run.stdout
    assert "Secret vault-tls still missing after 1s" in run.stderr
    assert "vault-tls" not in cluster.state["secrets"]


def test_never_creates_the_secret_a_cert_manager_certificate_issues(cluster: FakeCluster) -> None:
    """With vault.tls.issuer the manifests carry a Certificate for vault-tls: the script waits for
    cert-manager (even with the default --tls-self-signed) instead of planting a Secret it would replace."""
    state = new_state(pods=1)
    state["certificates"] = ["vault-ca", "vault-tls"]
    cluster.state = state
    run = cluster.run("init-vault.sh", env={"VAULTAIO_WAIT_TIMEOUT": "1"})
    assert run.rc == 1
    assert "waiting for Secret vault-tls (a cert-manager Certificate issues it)" in run.stdout
    assert "although a cert-manager Certificate issues it" in run.stderr
    assert "vault-tls" not in cluster.state["secrets"]
    assert not any("create" in argv for argv in run.argvs())


def test_self_signs_when_cert_manager_issues_other_secrets_only(cluster: FakeCluster) -> None:
    state = new_state(pods=1)
    state["certificates"] = ["payments-tls"]
    cluster.state = state
    run = cluster.run("init-vault.sh", "--tls-only")
    assert run.rc == 0, run.stderr
    assert set(cluster.state["secrets"]) == {"vault-tls"}


def test_fails_when_the_init_file_would_be_overwritten(cluster: FakeCluster) -> None:
    cluster.state = new_state(pods=1)
    cluster.write_private("init.json", '{"root_token": "from another cluster"}')
    run = cluster.run("init-vault.sh")
    assert run.rc == 1
    assert f"{cluster.state_dir() / 'init.json'} exists (keys of an earlier cluster?)" in run.stderr
    assert not [c for c in run.vault_calls() if c[:2] == ["operator", "init"]]


def test_vault_0_rejoins_instead_of_initialising_a_second_cluster(cluster: FakeCluster) -> None:
    state = configured(new_state(pods=3, initialized=True, sealed=False))
    state["pods"]["vault-0"].update(member=False, sealed=True)
    state["vault"]["active"] = "vault-1"
    cluster.state = state
    cluster.write_private("init.json", json.dumps(SHAMIR))
    run = cluster.run("init-vault.sh")
    assert run.rc == 0, run.stderr
    assert not [c for c in run.vault_calls() if c[:2] == ["operator", "init"]]
    assert "configure: using vault-1" in run.stdout


# ------------------------------------------------------------------------------------------------------
# environment errors and usage


def test_fails_without_kubectl(cluster: FakeCluster) -> None:
    cluster.state = new_state()
    cluster.remove_kubectl()
    run = cluster.run("init-vault.sh")
    assert run.rc == 1
    assert "kubectl not found on PATH" in run.stderr


def test_fails_when_the_cluster_is_unreachable(cluster: FakeCluster) -> None:
    state = new_state()
    state["reachable"] = False
    cluster.state = state
    run = cluster.run("init-vault.sh")
    assert run.rc == 1
    assert "cannot reach the Kubernetes API with kubectl (context: fake-context)" in run.stderr
    assert "connection to the server 127.0.0.1:6443 was refused" in run.stderr


def test_fails_on_a_wrong_namespace(cluster: FakeCluster) -> None:
    cluster.state = new_state()
    run = cluster.run("init-vault.sh", "--namespace", "vault-aoi")
    assert run.rc == 1
    assert "namespace vault-aoi does not exist: wrong --namespace" in run.stderr


def test_fails_when_the_stack_is_not_applied(cluster: FakeCluster) -> None:
    state = new_state()
    state["statefulset"] = False
    cluster.state = state
    run = cluster.run("init-vault.sh")
    assert run.rc == 1
    assert (
        "statefulset vault not found in namespace vault-aio: apply the vault-aio manifests first"
        in run.stderr
    )


def test_fails_when_kubectl_is_forbidden(cluster: FakeCluster) -> None:
    state = new_state()
    state["forbidden"] = True
    cluster.state = state
    run = cluster.run("init-vault.sh")
    assert run.rc == 1
    assert "not allowed to read the statefulset" in run.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus"], "unknown option: --bogus"),
        (["--key-shares"], "option --key-shares needs a value"),
        (["--key-shares", "0"], "--key-shares must be between 1 and 255, got '0'"),
        (["--key-threshold", "6"], "--key-threshold must be between 1 and --key-shares (5), got '6'"),
        (["--key-threshold", "1"], "--key-threshold must be at least 2 when --key-shares is more than 1"),
        (["--namespace", "Vault_AIO"], "--namespace must be a DNS label"),
        (["--pki-ttl", "ten years"], "--pki-ttl must be a duration such as 87600h, got 'ten years'"),
        (["--enable-kubernetes-auth=yes"], "option --enable-kubernetes-auth takes no value"),
        (["--tls-days", "0"], "--tls-days must be a whole number >= 1, got '0'"),
        # a value is checked whole: one good line does not let the next through
        (["--namespace", "vault-aio\nx"], "--namespace must be a DNS label"),
        (["--pki-ttl", "72h\n1"], "--pki-ttl must be a duration such as 87600h"),
        (["--pki-allowed-domains", "example.com\n*"], "--pki-allowed-domains must be a comma-separated list"),
        (["--grafana-admin-user", 'admin\n", "x": "'], "--grafana-admin-user must be letters, digits"),
    ],
)
def test_fails_on_bad_options(cluster: FakeCluster, args: list[str], message: str) -> None:
    cluster.state = new_state()
    run = cluster.run("init-vault.sh", *args)
    assert run.rc == 2
    assert message in run.stderr
    assert run.calls == [], "usage errors are found before kubectl runs"


def test_help_documents_every_option(cluster: FakeCluster) -> None:
    run = cluster.run("init-vault.sh", "--help")
    assert run.rc == 0
    source = (SCRIPTS / "init-vault.sh").read_text()
    parsed = set(
        re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", source.split("# ---- options")[1].split("is_uint()")[0])
    )
    assert parsed >= {"--namespace", "--init-file", "--enable-kubernetes-auth", "--pki-common-name"}
    for option in parsed:
        assert option in run.stdout, f"{option} is parsed but not documented in --help"
    for env in ("VAULTAIO_NAMESPACE", "VAULT_TOKEN_FILE", "VAULTAIO_WAIT_INTERVAL", "VAULTAIO_WAIT_TIMEOUT"):
        assert env in run.stdout


# ------------------------------------------------------------------------------------------------------
# the CA copy for the node namespace (Alloy's TLS probe reads Secret vault-tls-ca there)


def _with_node_namespace(state: dict[str, Any], name: str = "vault-aio-node") -> dict[str, Any]:
    state["namespaces"].append(name)
    return state


def _alloy_daemonset() -> dict[str, Any]:
    """The DaemonSet alloy of the committed dist/ (the default stack), as the manifests label it."""
    (path,) = (SCRIPTS.parent / "dist").glob("logging/*/daemonset-alloy.yaml")
    obj: dict[str, Any] = yaml.safe_load(path.read_text())
    assert obj["kind"] == "DaemonSet"
    return obj


def _with_alloy(state: dict[str, Any], namespace: str, **labels: str) -> dict[str, Any]:
    """Namespace ``namespace`` with a DaemonSet alloy labelled as dist/'s, ``labels`` changed."""
    if namespace not in state["namespaces"]:
        state["namespaces"].append(namespace)
    ds = _alloy_daemonset()["metadata"]
    labelled = {**ds["labels"], **labels}
    state["daemonsets"].append({"namespace": namespace, "name": ds["name"], "labels": labelled})
    return state


def _alloy_policy(namespace: str, node_namespace: str) -> dict[str, Any]:
    """NetworkPolicy allow-vault-from-alloy of the committed dist/ moved to stack namespace ``namespace``
    with its Alloy peer in ``node_namespace`` (what synthesizing with those settings gives)."""
    (path,) = (SCRIPTS.parent / "dist").glob("network-policies/networkpolicy-allow-vault-from-alloy.yaml")
    obj: dict[str, Any] = yaml.safe_load(path.read_text())
    (rule,) = obj["spec"]["ingress"]
    (peer,) = rule["from"]
    # the place the script reads: the default stack names its default node namespace there
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "vault-aio-node"}
    peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] = node_namespace
    obj["metadata"]["namespace"] = namespace
    return obj


def _with_stack(
    state: dict[str, Any], namespace: str, node_namespace: str, *, alloy: bool = True
) -> dict[str, Any]:
    """A stack in ``namespace`` with its node agents in ``node_namespace``: the namespaces, and with
    ``alloy`` its DaemonSet alloy (labelled as dist/'s: every stack has the same default instance) and
    its NetworkPolicy allow-vault-from-alloy."""
    for ns in (namespace, node_namespace):
        if ns not in state["namespaces"]:
            state["namespaces"].append(ns)
    if alloy:
        _with_alloy(state, node_namespace)
        state["networkpolicies"].append(_alloy_policy(namespace, node_namespace))
    return state


def test_a_second_stack_never_touches_the_first_stacks_ca_copy(cluster: FakeCluster) -> None:
    """Stack A (vault-aio, agents in vault-aio-node) and stack B (team-b) share the default instance
    name: B's init finds its node namespace from its own namespace, never from A's DaemonSet alloy."""
    a_ca = {"ca.crt": "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n"}

    def two_stacks(*, b_alloy: bool) -> dict[str, Any]:
        state = new_state(namespace="team-b", pods=1)
        _with_stack(state, "vault-aio", "vault-aio-node")
        state["other_secrets"]["vault-aio-node"] = {"vault-tls-ca": dict(a_ca)}
        return _with_stack(state, "team-b", "agents-b", alloy=b_alloy)

    # B with its Alloy in agents-b: the copy goes there, A's is untouched
    cluster.state = two_stacks(b_alloy=True)
    run = cluster.run("init-vault.sh", "--tls-only", "-n", "team-b")
    assert run.rc == 0, run.stderr
    assert cluster.state["other_secrets"]["vault-aio-node"]["vault-tls-ca"] == a_ca
    b_ca = cluster.state["secrets"]["vault-tls"]["ca.crt"]
    assert cluster.state["other_secrets"]["agents-b"]["vault-tls-ca"] == {"ca.crt": b_ca}
    assert "node namespace agents-b (NetworkPolicy allow-vault-from-alloy in team-b)" in run.stdout
    # the look-up reads this stack's namespace only: nothing cluster-wide
    assert all(a[:2] in (["-n", "team-b"], ["-n", "agents-b"]) for a in run.argvs()), run.argvs()
    # B without Alloy (or not applied yet): no policy, so no copy anywhere but B's default, A's untouched
    cluster.state = two_stacks(b_alloy=False)
    run = cluster.run("init-vault.sh", "--tls-only", "-n", "team-b")
    assert run.rc == 0, run.stderr
    assert cluster.state["other_secrets"]["vault-aio-node"]["vault-tls-ca"] == a_ca
    assert "no NetworkPolicy allow-vault-from-alloy in team-b" in run.stderr
    assert "vault-tls-ca" not in cluster.state["other_secrets"].get("agents-b", {})


def test_a_guessed_node_namespace_never_has_its_ca_copy_replaced(cluster: FakeCluster) -> None:
    """Without the policy the node namespace is only assumed (<namespace>-node): a copy there is created
    when missing, but one that holds another CA may be another stack's and stays."""
    other = {"ca.crt": "-----BEGIN CERTIFICATE-----\nother\n-----END CERTIFICATE-----\n"}
    state = _with_node_namespace(new_state(pods=1))
    state["other_secrets"]["vault-aio-node"] = {"vault-tls-ca": dict(other)}
    cluster.state = state
    run = cluster.run("init-vault.sh", "--tls-only")
    assert run.rc == 0, run.stderr
    assert cluster.state["other_secrets"]["vault-aio-node"]["vault-tls-ca"] == other
    assert "holds another CA" in run.stderr and "--node-namespace" in run.stderr
    assert not [
        a for a in run.argvs() if a[:2] == ["-n", "vault-aio-node"] and ("delete" in a or "create" in a)
    ]
    # named with --node-namespace, it is this stack's: replaced
    run = cluster.run("init-vault.sh", "--tls-only", "--node-namespace", "vault-aio-node")
    assert run.rc == 0, run.stderr
    want = cluster.state["secrets"]["vault-tls"]["ca.crt"]
    assert cluster.state["other_secrets"]["vault-aio-node"]["vault-tls-ca"] == {"ca.crt": want}


def test_ca_is_copied_alone_into_the_node_namespace(cluster: FakeCluster) -> None:
    cluster.state = _with_node_namespace(new_state(pods=1))
    run = cluster.run("init-vault.sh", "--tls-only")
    assert run.rc == 0, run.stderr
    copy = cluster.state["other_secrets"]["vault-aio-node"]["vault-tls-ca"]
    assert copy == {"ca.crt": cluster.state["secrets"]["vault-tls"]["ca.crt"]}  # never tls.key
    assert "created Secret vault-tls-ca in vault-aio-node" in run.stdout
    creates = [a for a in run.argvs() if "create" in a]
    assert creates[-1][:6] == ["-n", "vault-aio-node", "create", "secret", "generic", "vault-tls-ca"]
    # a second run finds it current
    again = cluster.run("init-vault.sh", "--tls-only")
    assert again.rc == 0 and "holds the CA of vault-tls: skipping" in again.stdout
    assert not [a for a in again.argvs() if "create" in a or "delete" in a]


def test_ca_copy_follows_a_renewed_ca(cluster: FakeCluster) -> None:
    old = {"ca.crt": "-----BEGIN CERTIFICATE-----\nold\n-----END CERTIFICATE-----\n"}
    tls = {
        "tls.crt": "chain",
        "tls.key": "key",
        "ca.crt": "-----BEGIN CERTIFICATE-----\nnew\n-----END CERTIFICATE-----\n",
    }
    state = _with_stack(new_state(pods=1, secrets={"vault-tls": tls}), "vault-aio", "vault-aio-node")
    state["other_secrets"] = {"vault-aio-node": {"vault-tls-ca": old}}
    cluster.state = state
    run = cluster.run("init-vault.sh", "--tls-only")
    assert run.rc == 0, run.stderr
    assert cluster.state["other_secrets"]["vault-aio-node"]["vault-tls-ca"] == {"ca.crt": tls["ca.crt"]}
    assert "replaced Secret vault-tls-ca in vault-aio-node" in run.stdout


def test_ca_copy_goes_to_the_named_node_namespace_and_is_skipped_without_one(cluster: FakeCluster) -> None:
    cluster.state = _with_node_namespace(new_state(pods=1), "agents")
    run = cluster.run("init-vault.sh", "--tls-only", "--node-namespace", "agents")
    assert run.rc == 0, run.stderr
    assert "vault-tls-ca" in cluster.state["other_secrets"]["agents"]
    cluster.state = new_state(pods=1)
    run = cluster.run("init-vault.sh", "--tls-only", "--node-namespace", "agents")
    assert run.rc == 0, run.stderr
    assert "no namespace agents (--node-namespace): no CA copy made" in run.stderr
    assert not [a for a in run.argvs() if "networkpolicy" in a], "a named namespace needs no look-up"


def test_node_namespace_is_found_from_the_stacks_own_network_policy(cluster: FakeCluster) -> None:
    """Setting node_namespace may name any namespace: the policy that admits Alloy to Vault says which."""
    state = _with_stack(new_state(pods=1), "vault-aio", "agents")
    state["namespaces"].append("vault-aio-node")  # exists, but holds no Alloy of this stack
    cluster.state = state
    run = cluster.run("init-vault.sh", "--tls-only")
    assert run.rc == 0, run.stderr
    assert "node namespace agents (NetworkPolicy allow-vault-from-alloy in vault-aio)" in run.stdout
    assert cluster.state["other_secrets"]["agents"]["vault-tls-ca"] == {
        "ca.crt": cluster.state["secrets"]["vault-tls"]["ca.crt"]
    }
    assert "vault-tls-ca" not in cluster.state["other_secrets"].get("vault-aio-node", {})
    (lookup,) = [a for a in run.argvs() if "networkpolicy" in a]
    assert lookup[:5] == ["-n", "vault-aio", "get", "networkpolicy", "allow-vault-from-alloy"]


def test_a_policy_that_names_several_namespaces_asks_which(cluster: FakeCluster) -> None:
    state = _with_stack(new_state(pods=1), "vault-aio", "agents-a")
    (rule,) = state["networkpolicies"][0]["spec"]["ingress"]
    rule["from"].append({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "agents-b"}}})
    state["namespaces"].append("agents-b")
    cluster.state = state
    run = cluster.run("init-vault.sh", "--tls-only")
    assert run.rc == 1
    assert "agents-a agents-b" in run.stderr and "--node-namespace" in run.stderr
    assert not any(cluster.state["other_secrets"].get(ns) for ns in ("agents-a", "agents-b"))


def test_default_node_namespace_that_does_not_exist_is_called_possibly_wrong(cluster: FakeCluster) -> None:
    """No Alloy found and no <namespace>-node: a warning, not a silent skip (vault-ca is an optional
    volume: Alloy starts without it and only its probe fails)."""
    cluster.state = new_state(pods=1)
    run = cluster.run("init-vault.sh", "--tls-only")
    assert run.rc == 0, run.stderr
    assert "no namespace vault-aio-node (the default node namespace, which may be wrong)" in run.stderr
    assert "re-run with --node-namespace NAME" in run.stderr
    assert "warning" in run.stderr and not cluster.state["other_secrets"]


def test_node_namespace_is_the_default_when_the_policy_may_not_be_read(cluster: FakeCluster) -> None:
    state = _with_stack(new_state(pods=1), "vault-aio", "agents")
    state["namespaces"].append("vault-aio-node")
    state["networkpolicies_forbidden"] = True
    cluster.state = state
    run = cluster.run("init-vault.sh", "--tls-only")
    assert run.rc == 0, run.stderr
    assert "may not read NetworkPolicy allow-vault-from-alloy in vault-aio" in run.stderr
    assert "assuming node namespace vault-aio-node" in run.stderr and "--node-namespace" in run.stderr
    assert "vault-tls-ca" in cluster.state["other_secrets"]["vault-aio-node"]


def test_fails_when_the_tls_secret_has_no_ca(cluster: FakeCluster) -> None:
    cluster.state = _with_node_namespace(
        new_state(pods=1, secrets={"vault-tls": {"tls.crt": "chain", "tls.key": "key"}})
    )
    run = cluster.run("init-vault.sh", "--tls-only")
    assert run.rc == 1
    assert "Secret vault-tls has no ca.crt" in run.stderr


# safety (issue 14): keys kept when kubectl exec breaks, files outside git work trees, no tracing, symlinks,
# a PKI mount without its CA


def test_init_output_that_arrives_whole_before_the_stream_breaks_is_used(cluster: FakeCluster) -> None:
    state = lean(new_state(pods=1))
    state["exec_drop"] = {"match": ["operator", "init"], "keep_bytes": 1_000_000}
    cluster.state = state
    run = cluster.run("init-vault.sh")
    assert run.rc == 0, run.stderr
    assert "unexpected EOF" in run.stderr and "whole output" in run.stderr
    assert json.loads((cluster.state_dir() / "init.json").read_text()) == SHAMIR
    assert not cluster.state["pods"]["vault-0"]["sealed"]
    assert_no_secrets(run, generated_secrets(cluster.state))


def test_init_output_cut_by_unexpected_eof_is_kept_and_explained(cluster: FakeCluster) -> None:
    """Vault initialised, the exec stream broke half-way: the captured key shares are the only copy."""
    state = lean(new_state(pods=1))
    state["exec_drop"] = {"match": ["operator", "init"], "keep_bytes": 200}
    cluster.state = state
    run = cluster.run("init-vault.sh")
    assert run.rc == 1
    assert cluster.state["vault"]["initialized"] is True
    partial = cluster.state_dir() / "init.json.partial"
    assert partial.read_text() == to_json_text(SHAMIR)[:200], "what arrived is kept byte for byte"
    assert stat.S_IMODE(partial.stat().st_mode) == 0o600
    assert f"kept in {partial}" in run.stderr and "do not delete it" in run.stderr
    assert "unexpected EOF" in run.stderr and "Vault initialised: yes" in run.stderr
    assert_no_secrets(run, generated_secrets(cluster.state))
    # the next run points at the kept file instead of saying the keys are gone
    again = cluster.run("init-vault.sh")
    assert again.rc == 1
    assert f"{partial} (kept by a failed init) may hold them" in again.stderr
    assert partial.exists()


def test_init_that_printed_nothing_says_where_to_look(cluster: FakeCluster) -> None:
    state = lean(new_state(pods=1))
    state["exec_drop"] = {"match": ["operator", "init"], "keep_bytes": 0}
    cluster.state = state
    run = cluster.run("init-vault.sh")
    assert run.rc == 1
    assert "printed nothing here, but Vault initialised: yes" in run.stderr
    assert "keys lost at init" in run.stderr


def to_json_text(data: dict[str, Any]) -> str:
    from tests.scripts.fake_kubectl import out_json

    return out_json(data)


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--init-file", "keys/init.json"], "--init-file"),
        (["--grafana-credentials-file", "grafana.json"], "--grafana-credentials-file"),
    ],
)
def test_refuses_to_write_secrets_inside_a_git_work_tree(
    cluster: FakeCluster, args: list[str], option: str
) -> None:
    cluster.state = lean(new_state(pods=1))
    (cluster.cwd / ".git").mkdir()
    run = cluster.run("init-vault.sh", *args)
    assert run.rc == 2
    assert f"{option} {args[1]} is inside the git work tree {cluster.cwd}" in run.stderr
    assert "--allow-git-work-tree" in run.stderr
    assert run.calls == []
    allowed = cluster.run("init-vault.sh", *args, "--allow-git-work-tree")
    assert allowed.rc == 0, allowed.stderr
    assert (cluster.cwd / args[1]).exists()


def test_default_files_go_to_xdg_state_home_outside_the_work_tree(cluster: FakeCluster) -> None:
    cluster.state = lean(new_state(pods=1, namespace="vault-prod"))
    (cluster.cwd / ".git").mkdir()  # run from a clone, as the README says
    state_home = cluster.root / "xdg-state"
    run = cluster.run(
        "init-vault.sh",
        "-n",
        "vault-prod",
        "--instance",
        "vault-aio",
        env={"XDG_STATE_HOME": str(state_home)},
    )
    assert run.rc == 0, run.stderr
    folder = state_home / "vault-aio" / "vault-prod"
    assert sorted(p.name for p in folder.iterdir()) == ["grafana-admin.json", "init.json"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert [p.name for p in cluster.cwd.iterdir()] == [".git"]


def test_an_existing_init_file_in_a_work_tree_is_read_not_refused(cluster: FakeCluster) -> None:
    cluster.state = configured(new_state(pods=1, initialized=True, sealed=True))
    (cluster.cwd / ".git").mkdir()
    (cluster.cwd / "drill.json").write_text(json.dumps(SHAMIR))
    run = cluster.run("init-vault.sh", "--init-file", "drill.json")
    assert run.rc == 0, run.stderr
    assert "vault-0 is unsealed" in run.stdout


def test_a_symlink_planted_at_the_partial_init_file_never_receives_the_keys(cluster: FakeCluster) -> None:
    cluster.state = lean(new_state(pods=1))
    folder = cluster.state_dir()
    folder.mkdir(mode=0o700, parents=True)
    stolen = cluster.root / "stolen.json"
    (folder / "init.json.partial").symlink_to(stolen)
    run = cluster.run("init-vault.sh")
    assert run.rc == 1
    assert "init.json.partial exists" in run.stderr
    assert not stolen.exists()
    assert not [c for c in run.vault_calls() if c[:2] == ["operator", "init"]], "init waits for the operator"
    assert cluster.state["vault"]["initialized"] is False


def test_a_symlink_planted_at_the_grafana_temp_file_never_receives_the_password(cluster: FakeCluster) -> None:
    cluster.state = lean(new_state(pods=1))
    folder = cluster.state_dir()
    folder.mkdir(mode=0o700, parents=True)
    stolen = cluster.root / "stolen.json"
    stolen.write_text("")
    (folder / "grafana-admin.json.tmp").symlink_to(stolen)
    run = cluster.run("init-vault.sh")
    assert run.rc == 0, run.stderr
    assert stolen.read_text() == ""
    assert not (folder / "grafana-admin.json").is_symlink()
    assert (
        json.loads((folder / "grafana-admin.json").read_text()) == cluster.state["secrets"]["grafana-admin"]
    )


def test_refuses_a_folder_other_users_can_write_to(cluster: FakeCluster) -> None:
    cluster.state = lean(new_state(pods=1))
    shared = cluster.root / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    run = cluster.run("init-vault.sh", "--init-file", str(shared / "init.json"))
    assert run.rc == 1
    assert f"{shared} is writable by other users" in run.stderr
    assert cluster.state["vault"]["initialized"] is False
    assert list(shared.iterdir()) == []


TRACING = {
    "bash -x": ({}, ["-x"]),
    "SHELLOPTS=xtrace": ({"SHELLOPTS": "xtrace"}, []),
    "bash -v": ({}, ["-v"]),  # echoes the strings given to eval: the init file's keys and token
    "SHELLOPTS=verbose": ({"SHELLOPTS": "verbose"}, []),
}
TRACING_OFF = "shell tracing (bash -x or -v, SHELLOPTS=xtrace or verbose) is off"


@pytest.mark.parametrize("how", ["bash -x", "SHELLOPTS=xtrace"])
def test_shell_tracing_never_prints_keys_or_tokens(cluster: FakeCluster, how: str) -> None:
    cluster.state = lean(new_state(pods=1))
    env, bash_args = TRACING[how]
    run = cluster.run("init-vault.sh", env=env, bash_args=bash_args)
    assert run.rc == 0, run.stderr
    assert_no_secrets(run, generated_secrets(cluster.state))
    assert TRACING_OFF in run.stderr
    assert "+ " in run.stderr, "tracing was on until the script turned it off"


@pytest.mark.parametrize("how", ["bash -v", "SHELLOPTS=verbose"])
def test_verbose_shell_never_prints_keys_or_tokens(cluster: FakeCluster, how: str) -> None:
    """A fresh install, then a re-run that reads the init file (one jq run whose assignments are
    evaluated: -v would echo them), both verbose."""
    cluster.state = lean(new_state(pods=1))
    env, bash_args = TRACING[how]
    first = cluster.run("init-vault.sh", env=env, bash_args=bash_args)
    assert first.rc == 0, first.stderr
    assert TRACING_OFF in first.stderr
    assert "source" in first.stderr, "verbose was on until the script turned it off"
    state = cluster.state
    state["vault"]["sealed"] = True  # a restart: the re-run unseals with the keys of the init file
    cluster.state = state
    again = cluster.run("init-vault.sh", env=env, bash_args=bash_args)
    assert again.rc == 0, again.stderr
    assert "unsealed" in again.stdout, again.stdout
    for run in (first, again):
        assert_no_secrets(run, generated_secrets(cluster.state))


def test_a_pki_mount_without_its_root_ca_is_completed(cluster: FakeCluster) -> None:
    """A run that died right after `secrets enable pki` left the mount without a CA."""
    state = configured(new_state(pods=1, initialized=True, sealed=False))
    state["vault"]["pki_ca"] = False
    cluster.state = state
    token_file = cluster.root / "root-token"
    token_file.write_text(SHAMIR["root_token"])
    run = cluster.run("init-vault.sh", "--token-file", str(token_file))
    assert run.rc == 0, run.stderr
    assert "mount pki/ exists without a root CA" in run.stdout
    calls = run.vault_calls()
    assert ["read", "-format=json", "pki/cert/ca"] in calls
    assert ["secrets", "enable", "pki"] not in calls
    writes = cluster.state["vault"]["writes"]
    assert writes["pki/root/generate/internal"] == [{"common_name": "vault-aio Root CA", "ttl": "87600h"}]
    assert "pki/roles/vault-aio" in writes and "pki/config/urls" in writes
    again = cluster.run("init-vault.sh", "--token-file", str(token_file))
    assert again.rc == 0, again.stderr
    assert "root CA exists in pki/: skipping" in again.stdout
    assert len(cluster.state["vault"]["writes"]["pki/root/generate/internal"]) == 1
