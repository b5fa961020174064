"""``vault.tls.issuer``: cert-manager writes Vault's TLS Secret with exactly the names Vault and its clients
use, optionally from an in-manifest bootstrap CA chain."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.crds import validate_custom_resource
from tests.stack import Stack, synth_stack
from vaultaio_constructs.settings import SettingsError, parse_settings
from vaultaio_constructs.vault.config import TLS_IP_ADDRESSES, tls_dns_names

BOOTSTRAP: dict[str, Any] = {
    "vault": {"replicas": 3, "tls": {"issuer": {"bootstrap": True}}, "backup": {}},
    "monitoring": {"prometheus_operator": {}},
}


@pytest.fixture(scope="module")
def bootstrap() -> Stack:
    return synth_stack(BOOTSTRAP)


def _cert_manager(stack: Stack) -> list[dict[str, Any]]:
    return [o for o in stack.objects if o["apiVersion"].startswith("cert-manager.io/")]


def _san_covers(sans: list[str], ips: list[str], host: str) -> bool:
    """Whether a certificate with these SANs is valid for ``host`` (RFC 6125: a wildcard covers one label)."""
    try:
        return str(ipaddress.ip_address(host)) in ips
    except ValueError:
        pass
    for san in sans:
        if san.startswith("*."):
            if "." in host and host.split(".", 1)[1] == san[2:] and host.split(".", 1)[0]:
                return True
        elif san == host:
            return True
    return False


def _hosts_vault_is_reached_by(stack: Stack) -> set[str]:
    """Every host name or address under which Vault's TLS listener is verified, from the manifests."""
    hosts: set[str] = set()
    config = json.loads(stack.config_data("vault-config")["config.json"])
    for join in config["storage"]["raft"].get("retry_join", []):
        hosts.add(urlsplit(join["leader_api_addr"]).hostname or "")
    template = stack.get("StatefulSet", "vault")["spec"]["template"]
    env = {e["name"]: e.get("value") for e in template["spec"]["containers"][0]["env"]}
    replicas = stack.get("StatefulSet", "vault")["spec"]["replicas"]
    for i in range(replicas):
        api_addr = env["VAULT_API_ADDR"].replace("$(VAULT_K8S_POD_NAME)", f"vault-{i}")
        hosts.add(urlsplit(api_addr).hostname or "")
    hosts.add(urlsplit(env["VAULT_ADDR"]).hostname or "")
    hosts.add(env["VAULT_TLS_SERVER_NAME"])
    prometheus = yaml.safe_load(stack.config_data("prometheus-config")["prometheus.yml"])
    vault_job = next(j for j in prometheus["scrape_configs"] if j["job_name"] == "vault")
    hosts.add(vault_job["tls_config"]["server_name"])
    alloy = stack.config_data("alloy-config")["config.alloy"]
    hosts |= set(re.findall(r'"https://([^:/"]+):8200', alloy))
    (endpoint,) = stack.get("PodMonitor", "vault")["spec"]["podMetricsEndpoints"]
    hosts.add(endpoint["tlsConfig"]["serverName"])
    backup = stack.get("CronJob", "vault-backup")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    backup_env = {e["name"]: e.get("value") for e in backup["containers"][0]["env"]}
    hosts.add(urlsplit(backup_env["VAULT_ADDR"]).hostname or "")
    hosts.discard("")
    return hosts


def test_certificate_names_cover_every_host_vault_is_verified_under(bootstrap: Stack) -> None:
    cert = bootstrap.get("Certificate", "vault-tls")["spec"]
    hosts = _hosts_vault_is_reached_by(bootstrap)
    assert {"vault-0.vault-internal.vault-aio.svc", "vault.vault-aio.svc", "127.0.0.1"} <= hosts
    uncovered = sorted(h for h in hosts if not _san_covers(cert["dnsNames"], cert["ipAddresses"], h))
    assert not uncovered, f"hosts without a SAN: {uncovered}"


def test_san_matching_is_strict() -> None:
    sans = ["*.vault-internal.vault-aio.svc", "vault.vault-aio.svc"]
    assert _san_covers(sans, [], "vault-1.vault-internal.vault-aio.svc")
    assert not _san_covers(sans, [], "a.b.vault-internal.vault-aio.svc")
    assert not _san_covers(sans, [], "vault.other.svc")
    assert not _san_covers(sans, ["127.0.0.1"], "10.0.0.1")


def test_certificate_lists_exactly_the_names_of_the_construct_contract(bootstrap: Stack) -> None:
    """The same names scripts/init-vault.sh issues (tests/scripts check the script against the function)."""
    cert = bootstrap.get("Certificate", "vault-tls")["spec"]
    assert cert["dnsNames"] == list(tls_dns_names("vault-aio"))
    assert cert["ipAddresses"] == list(TLS_IP_ADDRESSES)
    assert cert["commonName"] == "vault.vault-aio.svc"


def test_certificate_writes_the_secret_vault_mounts(bootstrap: Stack) -> None:
    cert = bootstrap.get("Certificate", "vault-tls")["spec"]
    volumes = bootstrap.get("StatefulSet", "vault")["spec"]["template"]["spec"]["volumes"]
    tls = next(v for v in volumes if v["name"] == "tls")
    assert tls["secret"]["secretName"] == cert["secretName"] == "vault-tls"


def test_bootstrap_chain_links_up(bootstrap: Stack) -> None:
    issuers = {o["metadata"]["name"]: o["spec"] for o in bootstrap.all("Issuer")}
    certs = {o["metadata"]["name"]: o["spec"] for o in bootstrap.all("Certificate")}
    assert set(issuers) == {"vault-selfsigned", "vault-ca"} and set(certs) == {"vault-ca", "vault-tls"}
    assert issuers["vault-selfsigned"] == {"selfSigned": {}}
    ca = certs["vault-ca"]
    assert ca["isCA"] is True and ca["issuerRef"]["name"] == "vault-selfsigned"
    assert ca["privateKey"]["rotationPolicy"] == "Never"  # a renewed CA keeps verifying issued leaves
    assert issuers["vault-ca"] == {"ca": {"secretName": ca["secretName"]}}
    leaf = certs["vault-tls"]
    assert leaf["issuerRef"] == {"group": "cert-manager.io", "kind": "Issuer", "name": "vault-ca"}
    assert "isCA" not in leaf and leaf["privateKey"]["rotationPolicy"] == "Always"
    assert leaf["usages"] == ["server auth", "digital signature"]


def test_cert_manager_objects_are_valid_against_their_crds(bootstrap: Stack) -> None:
    problems = [p for o in _cert_manager(bootstrap) for p in validate_custom_resource(o)]
    assert not problems, "\n".join(problems)


def test_cluster_issuer_and_validity_from_settings() -> None:
    stack = synth_stack(
        {
            "cluster_domain": "corp.internal",
            "vault": {
                "tls": {
                    "issuer": {
                        "kind": "ClusterIssuer",
                        "name": "corp-ca",
                        "duration_hours": 1440,
                        "renew_before_hours": 720,
                    }
                }
            },
            "prometheus": {
                "alerts": {"thresholds": {"tls_cert_warning_days": 14, "tls_cert_critical_days": 3}}
            },
        }
    )
    assert [o["kind"] for o in _cert_manager(stack)] == ["Certificate"]
    cert = stack.get("Certificate", "vault-tls")["spec"]
    assert cert["issuerRef"] == {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "corp-ca"}
    assert (cert["duration"], cert["renewBefore"]) == ("1440h", "720h")
    assert "vault.vault-aio.svc.corp.internal" in cert["dnsNames"]
    assert "*.vault-internal.vault-aio.svc.corp.internal" in cert["dnsNames"]


def test_no_cert_manager_objects_by_default(stack: Stack) -> None:
    assert _cert_manager(stack) == []


@pytest.mark.parametrize(
    ("issuer", "message"),
    [
        ({}, "'name' is required"),
        ({"bootstrap": True, "kind": "ClusterIssuer"}, "'kind' must be 'Issuer' with 'bootstrap'"),
        ({"name": "ca", "kind": "Vault"}, "Issuer"),
        ({"name": "ca", "renew_before_hours": 2160}, "'renew_before_hours' \\(2160\\) must be <"),
        ({"name": "ca", "renew_before_hours": 700}, "must exceed 'prometheus.alerts.thresholds"),
        ({"name": "Not A Label"}, "not a valid name"),
    ],
)
def test_fails_on_bad_issuer_settings(issuer: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_settings({"vault": {"tls": {"issuer": issuer}}})


def test_fails_with_tls_off() -> None:
    with pytest.raises(SettingsError, match="'issuer' needs TLS"):
        parse_settings({"vault": {"tls": {"enabled": False, "issuer": {"name": "ca"}}}})
