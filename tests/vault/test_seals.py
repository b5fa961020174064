"""Seals parse from settings-shaped dicts into plans (stanza, env, volumes, identity, egress) or fail."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from vaultaio_constructs.vault.seals import (
    AwsKmsSeal,
    AzureKeyVaultSeal,
    EnvVar,
    GcpCkmsSeal,
    Seal,
    SealPlan,
    SealType,
    ShamirSeal,
    TransitSeal,
    start_script,
)

ADAPTER: TypeAdapter[Any] = TypeAdapter(Seal)


def parse_seal(data: Any) -> Any:
    """A seal from settings-shaped data, validated as the settings file is (JSON mode, strict types)."""
    return ADAPTER.validate_json(json.dumps(data))


CIDRS = ["198.51.100.0/24"]

TRANSIT: dict[str, Any] = {
    "type": "transit",
    "address": "https://unseal.example.com:8200",
    "key_name": "vault-aio",
    "token": {"name": "vault-transit-seal", "key": "token"},
    "egress_cidrs": ["203.0.113.10/32"],
}
AWS_STATIC: dict[str, Any] = {
    "type": "awskms",
    "region": "eu-west-1",
    "kms_key_id": "alias/vault-aio",
    "access_key_id": {"name": "vault-aws", "key": "access-key-id"},
    "secret_access_key": {"name": "vault-aws", "key": "secret-access-key"},
    "egress_cidrs": CIDRS,
}
AWS_IRSA: dict[str, Any] = {
    "type": "awskms",
    "region": "us-east-1",
    "kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/abcd",
    "role_arn": "arn:aws:iam::123456789012:role/vault-aio",
    "egress_cidrs": CIDRS,
}
GCP_KEY: dict[str, Any] = {
    "type": "gcpckms",
    "project": "acme",
    "key_ring": "vault",
    "crypto_key": "unseal",
    "credentials": {"name": "vault-gcp", "key": "credentials.json"},
    "egress_cidrs": CIDRS,
}
GCP_WI: dict[str, Any] = {
    **{k: v for k, v in GCP_KEY.items() if k != "credentials"},
    "gcp_service_account": "vault@acme.iam.gserviceaccount.com",
    "extra_egress": [{"name": "gke-metadata", "cidrs": ["169.254.169.254/32"], "port": 80}],
}
AZURE_SECRET: dict[str, Any] = {
    "type": "azurekeyvault",
    "tenant_id": "00000000-0000-0000-0000-000000000001",
    "vault_name": "acme-vault",
    "key_name": "unseal",
    "client_id": "00000000-0000-0000-0000-000000000002",
    "client_secret": {"name": "vault-azure", "key": "client-secret"},
    "egress_cidrs": CIDRS,
}
AZURE_WI: dict[str, Any] = {
    **{k: v for k, v in AZURE_SECRET.items() if k != "client_secret"},
    "workload_identity": True,
}
ALL = [TRANSIT, AWS_STATIC, AWS_IRSA, GCP_KEY, GCP_WI, AZURE_SECRET, AZURE_WI]
SECRET_STANZA_KEYS = {"token", "access_key", "secret_key", "session_token", "client_secret", "credentials"}


def plan_of(data: dict[str, Any]) -> SealPlan:
    plan: SealPlan = parse_seal(data).plan()
    return plan


def without(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


def test_shamir_is_the_empty_plan() -> None:
    plan = parse_seal({"type": "shamir"}).plan()
    assert isinstance(parse_seal({"type": "shamir"}), ShamirSeal)
    assert plan == SealPlan(type=SealType.SHAMIR)
    assert not plan.uses_recovery_keys


@pytest.mark.parametrize("data", ALL, ids=lambda d: f"{d['type']}-{sorted(d)[0]}")
def test_auto_unseal_plans_have_stanza_egress_and_recovery_keys(data: dict[str, Any]) -> None:
    plan = plan_of(data)
    assert plan.type == SealType(data["type"])
    assert plan.uses_recovery_keys
    assert plan.stanza is not None and list(plan.stanza) == [data["type"]]
    assert not set(plan.stanza[data["type"]]) & SECRET_STANZA_KEYS
    assert plan.endpoints[0].name == f"seal-{data['type']}"
    assert plan.endpoints[0].cidrs == tuple(data["egress_cidrs"])
    # every credential the plan carries is a Secret reference, never a literal
    for var in plan.env:
        assert var.value is None or not var.name.endswith(("SECRET", "KEY_ID", "SECRET_ACCESS_KEY", "TOKEN"))


def test_transit_token_is_a_file_for_the_server_process_only() -> None:
    plan = plan_of(TRANSIT)
    assert plan.stanza == {
        "transit": {
            "address": "https://unseal.example.com:8200",
            "key_name": "vault-aio",
            "mount_path": "transit/",
            "disable_renewal": "false",
        }
    }
    assert plan.env == ()
    (volume,) = plan.volumes
    assert (volume.secret.name, volume.secret.key) == ("vault-transit-seal", "token")
    assert plan.env_from_files == (("VAULT_TOKEN", volume.file_path),)
    assert {"VAULT_ADDR", "VAULT_CACERT", "VAULT_TLS_SERVER_NAME"} <= set(plan.unset_env)
    assert plan.endpoints[0].port == 8200


def test_transit_ca_namespace_and_server_name_go_into_the_stanza() -> None:
    plan = plan_of(
        {
            **TRANSIT,
            "address": "https://unseal.example.com",
            "tls_ca_cert": {"name": "unseal-ca", "key": "ca.crt"},
            "tls_server_name": "unseal.internal",
            "namespace": "ops/",
            "disable_renewal": True,
        }
    )
    assert plan.stanza is not None
    stanza = plan.stanza["transit"]
    ca_volume = next(v for v in plan.volumes if v.secret.name == "unseal-ca")
    assert stanza["tls_ca_cert"] == ca_volume.file_path
    assert stanza["tls_server_name"] == "unseal.internal"
    assert stanza["namespace"] == "ops/"
    assert stanza["disable_renewal"] == "true"
    assert plan.endpoints[0].port == 443
    assert len({v.volume_name for v in plan.volumes}) == len({v.mount_path for v in plan.volumes}) == 2


def test_transit_explicit_egress_port_wins() -> None:
    assert plan_of({**TRANSIT, "egress_port": 8443}).endpoints[0].port == 8443


def test_awskms_static_keys_are_secret_refs() -> None:
    plan = plan_of(AWS_STATIC)
    assert plan.stanza == {"awskms": {"region": "eu-west-1", "kms_key_id": "alias/vault-aio"}}
    env = {e.name: e.secret for e in plan.env}
    assert set(env) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    assert (
        env["AWS_SECRET_ACCESS_KEY"] is not None and env["AWS_SECRET_ACCESS_KEY"].key == "secret-access-key"
    )
    assert plan.service_account_annotations == ()
    assert plan.endpoints[0].address == "https://kms.eu-west-1.amazonaws.com"


def test_awskms_irsa_annotates_the_service_account() -> None:
    plan = plan_of({**AWS_IRSA, "endpoint": "https://vpce-1.kms.us-east-1.vpce.amazonaws.com"})
    assert plan.env == ()
    assert plan.service_account_annotations == (
        ("eks.amazonaws.com/role-arn", "arn:aws:iam::123456789012:role/vault-aio"),
    )
    assert plan.stanza is not None
    assert plan.stanza["awskms"]["endpoint"] == "https://vpce-1.kms.us-east-1.vpce.amazonaws.com"


def test_gcpckms_key_file_is_mounted_and_pointed_at() -> None:
    plan = plan_of(GCP_KEY)
    assert plan.stanza == {
        "gcpckms": {"project": "acme", "region": "global", "key_ring": "vault", "crypto_key": "unseal"}
    }
    (volume,) = plan.volumes
    assert volume.file_path.endswith("/credentials.json")
    assert plan.env == (EnvVar(name="GOOGLE_APPLICATION_CREDENTIALS", value=volume.file_path),)


def test_gcpckms_workload_identity_annotates_and_adds_extra_egress() -> None:
    plan = plan_of(GCP_WI)
    assert plan.volumes == () and plan.env == ()
    assert plan.service_account_annotations == (
        ("iam.gke.io/gcp-service-account", "vault@acme.iam.gserviceaccount.com"),
    )
    assert [e.name for e in plan.endpoints] == ["seal-gcpckms", "gke-metadata"]
    assert plan.endpoints[1].port == 80


def test_azure_client_secret_is_a_secret_ref() -> None:
    plan = plan_of(AZURE_SECRET)
    assert plan.stanza is not None
    assert plan.stanza["azurekeyvault"]["client_id"] == "00000000-0000-0000-0000-000000000002"
    (var,) = plan.env
    assert var.name == "AZURE_CLIENT_SECRET" and var.secret is not None and var.value is None
    assert plan.pod_labels == ()
    assert plan.endpoints[0].address == "https://acme-vault.vault.azure.net"


def test_azure_workload_identity_labels_pods_and_annotates_sa() -> None:
    plan = plan_of({**AZURE_WI, "resource": "managedhsm.azure.net"})
    assert plan.env == ()
    assert plan.pod_labels == (("azure.workload.identity/use", "true"),)
    assert plan.service_account_annotations == (
        ("azure.workload.identity/client-id", "00000000-0000-0000-0000-000000000002"),
    )
    assert plan.endpoints[0].address == "https://acme-vault.managedhsm.azure.net"


def test_python_construction_matches_settings_parsing() -> None:
    direct = TransitSeal(
        address=TRANSIT["address"],
        key_name="vault-aio",
        token=parse_seal(TRANSIT).token,
        egress_cidrs=("203.0.113.10/32",),
    )
    assert direct == parse_seal(TRANSIT)
    assert isinstance(parse_seal(AWS_IRSA), AwsKmsSeal)
    assert isinstance(parse_seal(GCP_KEY), GcpCkmsSeal)
    assert isinstance(parse_seal(AZURE_WI), AzureKeyVaultSeal)


def test_start_script_exports_the_file_and_drops_cli_variables(tmp_path: Path) -> None:
    """Run the generated script with a fake ``vault`` that prints its environment."""
    token = tmp_path / "token"
    token.write_text("s.not-a-real-token\n")
    fake = tmp_path / "bin" / "vault"
    fake.parent.mkdir()
    fake.write_text(
        '#!/bin/sh\necho "args=$*"\necho "token=${VAULT_TOKEN:-}"\necho "addr=${VAULT_ADDR:-unset}"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    plan = SealPlan(
        type=SealType.TRANSIT, env_from_files=(("VAULT_TOKEN", str(token)),), unset_env=("VAULT_ADDR",)
    )
    script = start_script(plan, ("vault", "server", "-config=/vault/config/config.json"))
    assert script is not None
    env = {"PATH": f"{fake.parent}:{os.environ['PATH']}", "VAULT_ADDR": "https://127.0.0.1:8200"}
    result = subprocess.run(["/bin/sh", "-ec", script], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == [
        "args=server -config=/vault/config/config.json",
        "token=s.not-a-real-token",
        "addr=unset",
    ]
    token.unlink()
    failed = subprocess.run(["/bin/sh", "-ec", script], env=env, capture_output=True, text=True)
    assert failed.returncode != 0 and "args=" not in failed.stdout, "a missing token file must stop the start"


def test_start_script_is_none_without_file_credentials() -> None:
    assert start_script(SealPlan(type=SealType.AWSKMS), ("vault", "server")) is None


# --- validation -------------------------------------------------------------------------------------------


def test_fails_transit_without_egress_cidrs() -> None:
    with pytest.raises(ValueError, match=r"'seal.egress_cidrs' is required for the transit seal, got none"):
        parse_seal(without(TRANSIT, "egress_cidrs"))


@pytest.mark.parametrize("address", ["http://unseal.example.com:8200", "unseal.example.com", "https://"])
def test_fails_transit_address_not_https(address: str) -> None:
    with pytest.raises(ValueError, match=r"'seal.address' must be an https:// URL"):
        parse_seal({**TRANSIT, "address": address})


def test_fails_transit_address_bad_port() -> None:
    with pytest.raises(ValueError, match=r"'seal.address' has a port outside 1-65535"):
        parse_seal({**TRANSIT, "address": "https://unseal.example.com:99999"})


@pytest.mark.parametrize("missing", ["token", "key_name", "address"])
def test_fails_transit_missing_field(missing: str) -> None:
    with pytest.raises(ValueError, match=rf"transit\.{missing}\n\s+Field required"):
        parse_seal(without(TRANSIT, missing))


def test_fails_transit_token_as_literal() -> None:
    with pytest.raises(ValueError, match=r"transit\.token"):
        parse_seal({**TRANSIT, "token": "s.literal-token"})


def test_fails_awskms_without_credentials() -> None:
    with pytest.raises(ValueError, match=r"the awskms seal needs exactly one credential source.*got neither"):
        parse_seal(without(AWS_STATIC, "access_key_id", "secret_access_key"))


def test_fails_awskms_with_both_credential_sources() -> None:
    with pytest.raises(ValueError, match=r"the awskms seal needs exactly one credential source.*got both"):
        parse_seal({**AWS_STATIC, "role_arn": AWS_IRSA["role_arn"]})


def test_fails_awskms_half_a_key_pair() -> None:
    with pytest.raises(ValueError, match=r"must be given together, got only access_key_id"):
        parse_seal(without(AWS_STATIC, "secret_access_key"))


def test_fails_awskms_without_egress() -> None:
    with pytest.raises(ValueError, match=r"'seal.egress_cidrs' is required for the awskms seal"):
        parse_seal(without(AWS_IRSA, "egress_cidrs"))


@pytest.mark.parametrize(
    ("key", "value"), [("region", "Europe"), ("role_arn", "vault-role"), ("kms_key_id", "")]
)
def test_fails_awskms_malformed_field(key: str, value: str) -> None:
    with pytest.raises(ValueError, match=rf"awskms\.{key}"):
        parse_seal({**AWS_IRSA, key: value})


def test_fails_gcpckms_without_credentials() -> None:
    with pytest.raises(
        ValueError, match=r"the gcpckms seal needs exactly one credential source.*got neither"
    ):
        parse_seal(without(GCP_KEY, "credentials"))


def test_fails_gcpckms_with_both_credential_sources() -> None:
    with pytest.raises(ValueError, match=r"got both"):
        parse_seal({**GCP_KEY, "gcp_service_account": GCP_WI["gcp_service_account"]})


@pytest.mark.parametrize("missing", ["project", "key_ring", "crypto_key"])
def test_fails_gcpckms_missing_field(missing: str) -> None:
    with pytest.raises(ValueError, match=rf"gcpckms\.{missing}\n\s+Field required"):
        parse_seal(without(GCP_KEY, missing))


def test_fails_azure_without_credentials() -> None:
    with pytest.raises(
        ValueError, match=r"the azurekeyvault seal needs exactly one credential source.*neither"
    ):
        parse_seal(without(AZURE_SECRET, "client_secret"))


def test_fails_azure_with_both_credential_sources() -> None:
    with pytest.raises(ValueError, match=r"got both"):
        parse_seal({**AZURE_SECRET, "workload_identity": True})


@pytest.mark.parametrize("missing", ["tenant_id", "vault_name", "key_name", "client_id"])
def test_fails_azure_missing_field(missing: str) -> None:
    with pytest.raises(ValueError, match=rf"azurekeyvault\.{missing}\n\s+Field required"):
        parse_seal(without(AZURE_SECRET, missing))


def test_fails_azure_bad_vault_name() -> None:
    with pytest.raises(ValueError, match=r"azurekeyvault\.vault_name"):
        parse_seal({**AZURE_SECRET, "vault_name": "acme_vault!"})


def test_fails_unknown_seal_type() -> None:
    with pytest.raises(ValueError, match=r"does not match any of the expected tags: 'shamir', 'transit'"):
        parse_seal({"type": "pkcs11"})


def test_fails_unknown_seal_key() -> None:
    with pytest.raises(ValueError, match=r"transit\.tls_skip_verify\n\s+Unexpected keyword argument"):
        parse_seal({**TRANSIT, "tls_skip_verify": True})


def test_fails_bad_egress_cidr() -> None:
    with pytest.raises(ValueError, match=r"'203.0.113.10/24' is not a valid CIDR"):
        parse_seal({**TRANSIT, "egress_cidrs": ["203.0.113.10/24"]})


def test_fails_env_var_with_two_sources() -> None:
    with pytest.raises(
        ValueError, match=r"env var 'X' needs exactly one of 'value', 'field_path' or 'secret', got 2"
    ):
        EnvVar(name="X", value="a", field_path="metadata.name")
