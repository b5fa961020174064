"""The Vault server configuration: parsed JSON per variant, the container env and the start command."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest
from pydantic import TypeAdapter
from syrupy.assertion import SnapshotAssertion

from tests.tools import require_tool
from vaultaio_constructs.vault.config import (
    API_PORT,
    CONFIG_PATH,
    METRICS_PORT,
    LogLevel,
    VaultServerConfig,
    server_command,
    server_env,
    tls_dns_names,
)
from vaultaio_constructs.vault.seals import EnvVar, Seal, SealPlan, SealType

SEALS: dict[str, dict[str, Any]] = {
    "shamir": {"type": "shamir"},
    "transit": {
        "type": "transit",
        "address": "https://unseal.example.com:8200",
        "key_name": "vault-aio",
        "token": {"name": "vault-transit-seal", "key": "token"},
        "egress_cidrs": ["203.0.113.10/32"],
    },
    "awskms": {
        "type": "awskms",
        "region": "eu-west-1",
        "kms_key_id": "alias/vault-aio",
        "role_arn": "arn:aws:iam::123456789012:role/vault-aio",
        "egress_cidrs": ["198.51.100.0/24"],
    },
    "gcpckms": {
        "type": "gcpckms",
        "project": "acme",
        "key_ring": "vault",
        "crypto_key": "unseal",
        "credentials": {"name": "vault-gcp", "key": "credentials.json"},
        "egress_cidrs": ["198.51.100.0/24"],
    },
    "azurekeyvault": {
        "type": "azurekeyvault",
        "tenant_id": "00000000-0000-0000-0000-000000000001",
        "vault_name": "acme-vault",
        "key_name": "unseal",
        "client_id": "00000000-0000-0000-0000-000000000002",
        "client_secret": {"name": "vault-azure", "key": "client-secret"},
        "egress_cidrs": ["198.51.100.0/24"],
    },
}

# Top-level keys and tcp listener keys documented in the Vault 2.x configuration reference: a typo in the
# renderer (which Vault would only warn about, then ignore) fails here.
DOCUMENTED_TOP_LEVEL = {
    "api_addr", "cluster_addr", "cluster_name", "disable_mlock", "listener", "log_format", "log_level",
    "seal", "service_registration", "storage", "telemetry", "ui", "default_lease_ttl", "max_lease_ttl",
}  # fmt: skip
DOCUMENTED_TCP = {
    "address", "cluster_address", "tls_disable", "tls_cert_file", "tls_key_file", "tls_min_version",
    "telemetry", "x_forwarded_for_authorized_addrs", "x_forwarded_for_reject_not_present",
}  # fmt: skip
SECRET_KEYS = {
    "token",
    "access_key",
    "secret_key",
    "session_token",
    "client_secret",
    "credentials",
    "password",
}


def seal(name: str) -> Seal:
    result: Seal = TypeAdapter(Seal).validate_json(json.dumps(SEALS[name]))
    return result


def parsed(cfg: VaultServerConfig) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(cfg.to_json())
    return result


def listeners(conf: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Listener blocks keyed by port."""
    out = {}
    for block in conf["listener"]:
        assert list(block) == ["tcp"]
        out[block["tcp"]["address"].rsplit(":", 1)[1]] = block["tcp"]
    return out


def walk_keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in walk_keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in walk_keys(v)}
    return set()


def test_default_config_holds_every_stanza() -> None:
    conf = parsed(VaultServerConfig())
    assert set(conf) <= DOCUMENTED_TOP_LEVEL
    assert conf["disable_mlock"] is True
    assert conf["ui"] is True
    assert conf["log_format"] == "json"
    assert conf["log_level"] == "info"
    assert conf["storage"] == {"raft": {"path": "/vault/data"}}
    assert conf["service_registration"] == {"kubernetes": {"namespace": "vault-aio"}}
    assert conf["telemetry"] == {"disable_hostname": True, "prometheus_retention_time": "24h"}
    assert "seal" not in conf, "shamir is Vault's default and has no stanza"
    assert "api_addr" not in conf and "cluster_addr" not in conf, "per-pod values come from the env"


def test_api_listener_keeps_metrics_authenticated_and_metrics_listener_opens_them() -> None:
    by_port = listeners(parsed(VaultServerConfig()))
    assert set(by_port) == {str(API_PORT), str(METRICS_PORT)}
    api, metrics = by_port["8200"], by_port["8202"]
    for block in (api, metrics):
        assert set(block) <= DOCUMENTED_TCP
        assert block["tls_cert_file"] == "/vault/tls/tls.crt"
        assert block["tls_key_file"] == "/vault/tls/tls.key"
        assert "tls_disable" not in block
    assert api["cluster_address"] == "0.0.0.0:8201"
    assert "telemetry" not in api
    assert metrics["telemetry"] == {"unauthenticated_metrics_access": True}
    # Vault opens a cluster listener per tcp listener: keep the metrics listener's on loopback.
    assert metrics["cluster_address"].startswith("127.0.0.1:")


def test_single_replica_has_no_retry_join() -> None:
    assert "retry_join" not in parsed(VaultServerConfig(replicas=1))["storage"]["raft"]


@pytest.mark.parametrize("replicas", [3, 5])
def test_ha_retry_join_lists_every_peer_with_the_ca(replicas: int) -> None:
    joins = parsed(VaultServerConfig(replicas=replicas, namespace="secrets"))["storage"]["raft"]["retry_join"]
    assert [j["leader_api_addr"] for j in joins] == [
        f"https://vault-{i}.vault-internal.secrets.svc:8200" for i in range(replicas)
    ]
    assert all(j["leader_ca_cert_file"] == "/vault/tls/ca.crt" for j in joins)
    assert all(set(j) == {"leader_api_addr", "leader_ca_cert_file"} for j in joins)


def test_tls_off_is_plain_http_everywhere() -> None:
    cfg = VaultServerConfig(tls_enabled=False, replicas=3)
    conf = parsed(cfg)
    for block in listeners(conf).values():
        assert block["tls_disable"] is True
        assert not {k for k in block if k.startswith("tls_") and k != "tls_disable"}
    joins = conf["storage"]["raft"]["retry_join"]
    assert all(j["leader_api_addr"].startswith("http://") and "leader_ca_cert_file" not in j for j in joins)
    env = {e.name: e for e in server_env(cfg)}
    assert env["VAULT_ADDR"].value == "http://127.0.0.1:8200"
    assert env["VAULT_API_ADDR"].value == "http://$(VAULT_K8S_POD_NAME).vault-internal.vault-aio.svc:8200"
    assert "VAULT_CACERT" not in env and "VAULT_TLS_SERVER_NAME" not in env
    # cluster traffic is always TLS (Vault ignores the scheme, but say https)
    assert (env["VAULT_CLUSTER_ADDR"].value or "").startswith("https://")


@pytest.mark.parametrize("name", sorted(SEALS))
def test_each_seal_yields_its_stanza_without_secrets(name: str) -> None:
    conf = parsed(VaultServerConfig(seal=seal(name)))
    if name == "shamir":
        assert "seal" not in conf
        return
    assert list(conf["seal"]) == [name]
    stanza = conf["seal"][name]
    assert all(isinstance(v, str) for v in stanza.values()), "seal values are strings for Vault's parser"
    assert not walk_keys(conf) & SECRET_KEYS


def test_trusted_proxies_enable_x_forwarded_for_on_the_api_listener_only() -> None:
    by_port = listeners(parsed(VaultServerConfig(trusted_proxy_cidrs=("10.0.0.0/8", "192.0.2.0/24"))))
    assert by_port["8200"]["x_forwarded_for_authorized_addrs"] == "10.0.0.0/8,192.0.2.0/24"
    assert by_port["8200"]["x_forwarded_for_reject_not_present"] is False
    assert not any(k.startswith("x_forwarded") for k in by_port["8202"])


def test_log_level_and_retention_are_rendered() -> None:
    conf = parsed(VaultServerConfig(log_level=LogLevel.DEBUG, prometheus_retention_time="30m"))
    assert conf["log_level"] == "debug"
    assert conf["telemetry"]["prometheus_retention_time"] == "30m"


def test_json_is_deterministic_and_sorted() -> None:
    text = VaultServerConfig(replicas=3, seal=seal("transit")).to_json()
    assert text == VaultServerConfig(replicas=3, seal=seal("transit")).to_json()
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"


VARIANTS = {
    "default": VaultServerConfig(),
    "ha3": VaultServerConfig(replicas=3),
    "tls-off": VaultServerConfig(tls_enabled=False),
    **{f"seal-{name}": VaultServerConfig(seal=seal(name)) for name in sorted(SEALS) if name != "shamir"},
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_config_snapshot(variant: str, snapshot: SnapshotAssertion) -> None:
    assert VARIANTS[variant].to_json() == snapshot


def test_env_references_only_earlier_variables() -> None:
    env = server_env(VaultServerConfig(replicas=3, seal=seal("azurekeyvault")))
    seen: set[str] = set()
    for var in env:
        for ref in re.findall(r"\$\(([A-Z0-9_]+)\)", var.value or ""):
            assert ref in seen, f"{var.name} uses $({ref}) before it is defined"
        seen.add(var.name)


def test_env_matches_the_script_contract() -> None:
    env = {e.name: e for e in server_env(VaultServerConfig(namespace="secrets"))}
    assert env["VAULT_K8S_POD_NAME"].field_path == "metadata.name"
    assert env["VAULT_K8S_NAMESPACE"].field_path == "metadata.namespace"
    assert env["VAULT_RAFT_NODE_ID"].value == "$(VAULT_K8S_POD_NAME)"
    assert env["VAULT_ADDR"].value == "https://127.0.0.1:8200"
    assert env["VAULT_CACERT"].value == "/vault/tls/ca.crt"
    assert env["VAULT_TLS_SERVER_NAME"].value == "vault.secrets.svc"
    assert env["VAULT_API_ADDR"].value == "https://$(VAULT_K8S_POD_NAME).vault-internal.secrets.svc:8200"
    assert env["VAULT_CLUSTER_ADDR"].value == "https://$(VAULT_K8S_POD_NAME).vault-internal.secrets.svc:8201"
    # only the image's docker-entrypoint.sh reads these, and the container command replaces it
    assert "SKIP_SETCAP" not in env and "SKIP_CHOWN" not in env
    assert env["HOME"].value == "/tmp"
    assert all(e.secret is None for e in env.values())


def test_seal_credentials_reach_the_env_only_as_secret_refs() -> None:
    env = {e.name: e for e in server_env(VaultServerConfig(seal=seal("azurekeyvault")))}
    secret = env["AZURE_CLIENT_SECRET"]
    assert secret.value is None and secret.secret is not None
    assert (secret.secret.name, secret.secret.key) == ("vault-azure", "client-secret")


def test_server_command_is_plain_vault_server_without_a_file_credential() -> None:
    assert server_command(VaultServerConfig()) == ("vault", "server", f"-config={CONFIG_PATH}")
    assert server_command(VaultServerConfig(seal=seal("awskms")))[0] == "vault"


def test_transit_command_is_a_shell_script_that_shellcheck_accepts(tmp_path: Any) -> None:
    command = server_command(VaultServerConfig(seal=seal("transit")))
    assert command[:2] == ("/bin/sh", "-ec")
    script = command[2]
    assert script.rstrip().endswith(f"exec vault server -config={CONFIG_PATH}")
    target = tmp_path / "start.sh"
    target.write_text("#!/bin/sh\n" + script)
    shellcheck = require_tool("shellcheck")
    result = subprocess.run([shellcheck, "--shell=sh", str(target)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_tls_dns_names_cover_service_and_every_pod() -> None:
    names = tls_dns_names("secrets")
    assert "vault.secrets.svc" in names
    assert "*.vault-internal.secrets.svc" in names
    assert "localhost" in names
    host = VaultServerConfig(namespace="secrets", replicas=3).peer_api_addrs()[2].split("//")[1].split(":")[0]
    assert host == "vault-2.vault-internal.secrets.svc"
    assert any(n.startswith("*.") and host.endswith(n[1:]) for n in names)


def test_fails_even_replicas() -> None:
    with pytest.raises(ValueError, match=re.escape("'replicas' (2) must be odd for raft: use 1, 3 or 5")):
        VaultServerConfig(replicas=2)


@pytest.mark.parametrize("replicas", [0, 4])
def test_fails_other_even_replicas(replicas: int) -> None:
    with pytest.raises(ValueError, match=rf"'replicas' \({replicas}\) must be odd"):
        VaultServerConfig(replicas=replicas)


@pytest.mark.parametrize("replicas", [7, -1])
def test_fails_unsupported_odd_replicas(replicas: int) -> None:
    with pytest.raises(ValueError, match=rf"'replicas' \({replicas}\) is not supported: use 1, 3 or 5"):
        VaultServerConfig(replicas=replicas)


@pytest.mark.parametrize("value", ["0s", "0h", "24", "1d", "", "-5m"])
def test_fails_bad_retention(value: str) -> None:
    with pytest.raises(ValueError, match="'prometheus_retention_time' must be a non-zero duration"):
        VaultServerConfig(prometheus_retention_time=value)


def test_fails_bad_namespace() -> None:
    with pytest.raises(ValueError, match="'namespace': 'Vault_AIO' is not a valid name"):
        VaultServerConfig(namespace="Vault_AIO")


def test_fails_bad_trusted_proxy_cidr() -> None:
    with pytest.raises(ValueError, match=r"'trusted_proxy_cidrs': '10\.0\.0\.1/8' is not a valid CIDR"):
        VaultServerConfig(trusted_proxy_cidrs=("10.0.0.1/8",))


class _ClashingSeal:
    """A seal (outside the supported set) whose env collides with the server's own."""

    def plan(self) -> SealPlan:
        return SealPlan(
            type=SealType.SHAMIR, env=(EnvVar(name="VAULT_ADDR", value="https://elsewhere:8200"),)
        )


def test_fails_seal_env_clash() -> None:
    cfg = VaultServerConfig(seal=_ClashingSeal())  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=r"the seal sets environment variables the server already uses: \['VAULT_ADDR'\]"
    ):
        server_env(cfg)
