"""The Vault construct: objects, script contract, HA, TLS off, seals, Ingress, backup, validation."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import cdk8s
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
from syrupy.assertion import SnapshotAssertion

from tests.snapshots import assert_objects_match, assert_variant_matches, own_objects
from tests.stack import Manifests, Stack
from tests.tools import require_tool
from vaultaio_constructs.component import StackChart
from vaultaio_constructs.output import Manifest, render
from vaultaio_constructs.settings import parse_settings
from vaultaio_constructs.vault.config import VaultServerConfig, tls_dns_names
from vaultaio_constructs.vault.construct import BACKUP_SCRIPT, BACKUP_SUCCESS_MARKER, Vault
from vaultaio_constructs.vault.policies import Capability, PathRule, Policy
from vaultaio_constructs.workload import config_checksum

CIDRS = ["198.51.100.0/24"]
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "ha3": {"replicas": 3},
    "ha5-preferred": {"replicas": 5, "anti_affinity": "preferred"},
    "tls-off": {"tls": {"enabled": False}},
    "seal-transit": {
        "seal": {
            "type": "transit",
            "address": "https://unseal.example.com:8200",
            "key_name": "vault-aio",
            "token": {"name": "vault-transit-seal", "key": "token"},
            "tls_ca_cert": {"name": "vault-transit-seal", "key": "ca.crt"},
            "egress_cidrs": ["203.0.113.10/32"],
        }
    },
    "seal-awskms": {
        "seal": {
            "type": "awskms",
            "region": "eu-west-1",
            "kms_key_id": "alias/vault-aio",
            "access_key_id": {"name": "vault-aws", "key": "access-key-id"},
            "secret_access_key": {"name": "vault-aws", "key": "secret-access-key"},
            "egress_cidrs": CIDRS,
        }
    },
    "seal-awskms-irsa": {
        "seal": {
            "type": "awskms",
            "region": "eu-west-1",
            "kms_key_id": "alias/vault-aio",
            "role_arn": "arn:aws:iam::123456789012:role/vault-aio",
            "egress_cidrs": CIDRS,
        }
    },
    "seal-gcpckms": {
        "seal": {
            "type": "gcpckms",
            "project": "acme",
            "key_ring": "vault",
            "crypto_key": "unseal",
            "credentials": {"name": "vault-gcp", "key": "credentials.json"},
            "egress_cidrs": CIDRS,
        }
    },
    "seal-azurekeyvault": {
        "seal": {
            "type": "azurekeyvault",
            "tenant_id": "00000000-0000-0000-0000-000000000001",
            "vault_name": "acme-vault",
            "key_name": "unseal",
            "client_id": "00000000-0000-0000-0000-000000000002",
            "workload_identity": True,
            "egress_cidrs": CIDRS,
        }
    },
    "ingress-backup": {
        "ingress": {
            "host": "vault.example.com",
            "class_name": "nginx",
            "tls_secret_name": "vault-public-tls",
        },
        "backup": {"schedule": "30 2 * * *", "keep": 3},
        "trusted_proxy_cidrs": ["10.42.0.0/16"],
    },
}


class VaultObjects(Manifests):
    """The objects of one Vault in a small stack (Vault alone plus its NetworkPolicies)."""

    def __init__(self, settings: dict[str, Any]) -> None:
        props = parse_settings({"vault": settings}, "test settings").vault
        app = cdk8s.App()
        chart = StackChart(app, "test")
        self.vault = Vault(chart, "Vault", props)
        chart.finish()
        self.manifests: list[Manifest] = render(chart)

    @property
    def pod(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.get("StatefulSet", "vault")["spec"]["template"]
        return spec

    @property
    def container(self) -> dict[str, Any]:
        (c,) = self.pod["spec"]["containers"]
        assert isinstance(c, dict)
        return c

    @property
    def env(self) -> dict[str, dict[str, Any]]:
        return {e["name"]: e for e in self.container.get("env", [])}

    @property
    def config(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.get("ConfigMap", "vault-config")["data"]["config.json"])
        return data


_CACHE: dict[str, VaultObjects] = {}


def variant(name: str) -> VaultObjects:
    if name not in _CACHE:
        _CACHE[name] = VaultObjects(VARIANTS[name])
    return _CACHE[name]


@pytest.fixture(scope="module")
def default() -> VaultObjects:
    return variant("default")


@pytest.fixture(scope="module")
def ha3() -> VaultObjects:
    return variant("ha3")


@pytest.fixture(scope="module")
def tls_off() -> VaultObjects:
    return variant("tls-off")


@pytest.fixture(scope="module")
def extras() -> VaultObjects:
    return variant("ingress-backup")


def pod_templates(objs: VaultObjects) -> Iterator[dict[str, Any]]:
    for o in objs.all("StatefulSet"):
        yield o["spec"]["template"]
    for o in objs.all("CronJob"):
        yield o["spec"]["jobTemplate"]["spec"]["template"]


# --- snapshots and schemas ----------------------------------------------------------------------------


def test_default_stack_vault_objects(stack: Stack) -> None:
    """Vault's own objects in the whole default stack (other components' policies are asserted below)."""
    selected = [m for m in stack.manifests if m.path.startswith("vault/")]
    assert {m.kind for m in selected} >= {"StatefulSet", "Service", "ConfigMap", "Role", "ServiceAccount"}


def test_vault_alone_snapshot(default: VaultObjects, snapshot: SnapshotAssertion) -> None:
    """Vault alone in a small stack: its objects and policies, one snapshot each (dist/: the default)."""
    assert_objects_match(snapshot, own_objects(default.manifests, "vault"), what="Vault alone")


def test_default_stack_admits_prometheus_to_the_metrics_port_only(stack: Stack) -> None:
    policy = stack.get("NetworkPolicy", "allow-vault-from-prometheus")["spec"]
    assert {p["port"] for r in policy["ingress"] for p in r["ports"]} == {8202}
    assert stack.has("NetworkPolicy", "allow-vault-to-kube-apiserver")
    scrape = stack.chart.vault.metrics_target
    assert scrape in stack.chart.prometheus.targets


@pytest.mark.parametrize("name", sorted(set(VARIANTS) - {"default"}))
def test_variant_snapshot(name: str, snapshot: SnapshotAssertion) -> None:
    """What each variant changes in Vault alone, object by object (a change to the default shows here only
    where it changes what the variant does differently)."""
    assert_variant_matches(
        snapshot, variant("default").manifests, variant(name).manifests, what=f"variant {name}"
    )


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_validates_against_kubernetes_schemas(name: str) -> None:
    failures = []
    for m in variant(name).manifests:
        for version in ("1.27", kubernetes_validate.latest_version()):
            try:
                kubernetes_validate.validate(m.body, version, strict=True)
            except kubernetes_validate.ValidationError as err:
                failures.append(f"{version} {m.path}: {err.message}")
    assert not failures, "\n".join(failures)


# --- default objects and the script contract ---------------------------------------------------------


def test_statefulset_with_pvc_and_parallel_start(default: VaultObjects) -> None:
    sts = default.get("StatefulSet", "vault")["spec"]
    assert sts["replicas"] == 1
    assert sts["serviceName"] == "vault-internal"
    assert sts["podManagementPolicy"] == "Parallel", "sealed pods must not block their peers from starting"
    (claim,) = sts["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["resources"]["requests"]["storage"] == "5Gi"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert default.container["name"] == "vault"
    assert default.container["image"] == "docker.io/hashicorp/vault:2.0.4"


def test_services_match_the_contract(default: VaultObjects) -> None:
    api = default.get("Service", "vault")["spec"]
    assert [(p["name"], p["port"]) for p in api["ports"]] == [("https", 8200)]
    internal = default.get("Service", "vault-internal")["spec"]
    assert internal["clusterIP"] == "None"
    assert internal["publishNotReadyAddresses"] is True
    assert {(p["name"], p["port"]) for p in internal["ports"]} == {
        ("https", 8200),
        ("cluster", 8201),
        ("metrics", 8202),
    }
    assert (
        api["selector"]
        == internal["selector"]
        == {
            "app.kubernetes.io/name": "vault",
            "app.kubernetes.io/instance": "vault-aio",
        }
    )


@pytest.mark.parametrize(("service", "active"), [("vault-active", "true"), ("vault-standby", "false")])
def test_active_and_standby_services_select_on_the_service_registration_label(
    default: VaultObjects, service: str, active: str
) -> None:
    """The official chart's convention: Vault labels its own pod ``vault-active`` (service registration),
    these Services select on it; ready pods only, so a sealed pod is never a standby target."""
    spec = default.get("Service", service)["spec"]
    api = default.get("Service", "vault")["spec"]
    assert spec["selector"] == {**api["selector"], "vault-active": active}
    assert spec["ports"] == api["ports"]
    assert "clusterIP" not in spec and not spec.get("publishNotReadyAddresses")
    # the label the Services rely on is the one service registration maintains, for this very pod
    assert "kubernetes" in default.config["service_registration"]
    env = {e["name"]: e for e in default.container["env"]}
    assert env["VAULT_K8S_POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    # no new policy: the policies select Vault's pods whichever Service a client uses
    assert not [p for p in default.all("NetworkPolicy") if service in p["metadata"]["name"]]


def test_tls_certificate_names_cover_the_active_and_standby_services() -> None:
    names = tls_dns_names("vault-aio")
    for service in ("vault-active", "vault-standby"):
        assert f"{service}.vault-aio.svc" in names and f"{service}.vault-aio.svc.cluster.local" in names


def test_config_map_holds_the_rendered_config(default: VaultObjects) -> None:
    assert default.config == VaultServerConfig().to_dict()
    assert default.container["command"] == ["vault", "server", "-config=/vault/config/config.json"]
    text = default.get("ConfigMap", "vault-config")["data"]["config.json"]
    checksum = default.pod["metadata"]["annotations"]["vault-aio.io/config-checksum"]
    assert checksum == config_checksum(text), "config changes must roll the pods"


def test_policies_config_map_has_one_file_per_policy(default: VaultObjects) -> None:
    data = default.get("ConfigMap", "vault-policies")["data"]
    assert sorted(data) == [
        "admin.hcl",
        "backup.hcl",
        "operator.hcl",
        "pki-issuer.hcl",
        "prometheus-metrics.hcl",
    ]
    assert 'path "pki/issue/vault-aio"' in data["pki-issuer.hcl"]


def test_mounts_and_writable_paths(default: VaultObjects) -> None:
    mounts = {m["mountPath"]: m for m in default.container["volumeMounts"]}
    assert set(mounts) == {"/vault/data", "/vault/config", "/vault/policies", "/vault/tls", "/tmp"}
    writable = {path for path, m in mounts.items() if not m.get("readOnly")}
    assert writable == {"/vault/data", "/tmp"}
    volumes = {v["name"]: v for v in default.pod["spec"]["volumes"]}
    assert volumes[mounts["/vault/tls"]["name"]]["secret"]["secretName"] == "vault-tls"
    assert volumes[mounts["/vault/config"]["name"]]["configMap"]["name"] == "vault-config"
    assert volumes[mounts["/vault/policies"]["name"]]["configMap"]["name"] == "vault-policies"
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]


def test_env_matches_the_script_contract(default: VaultObjects) -> None:
    env = default.env
    assert env["VAULT_ADDR"]["value"] == "https://127.0.0.1:8200"
    assert env["VAULT_CACERT"]["value"] == "/vault/tls/ca.crt"
    # the image's entrypoint (the only reader of SKIP_SETCAP/SKIP_CHOWN) is replaced by the command
    assert "SKIP_SETCAP" not in env and "SKIP_CHOWN" not in env
    (container,) = default.get("StatefulSet", "vault")["spec"]["template"]["spec"]["containers"]
    assert container["command"][0] in ("vault", "/bin/sh")
    assert env["VAULT_K8S_POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["VAULT_K8S_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert env["VAULT_RAFT_NODE_ID"]["value"] == "$(VAULT_K8S_POD_NAME)"
    assert (
        env["VAULT_CLUSTER_ADDR"]["value"]
        == "https://$(VAULT_K8S_POD_NAME).vault-internal.vault-aio.svc:8201"
    )
    assert env["VAULT_API_ADDR"]["value"] == "https://$(VAULT_K8S_POD_NAME).vault-internal.vault-aio.svc:8200"


def test_rbac_allows_exactly_what_service_registration_needs(
    default: VaultObjects, ha3: VaultObjects
) -> None:
    (rule,) = default.get("Role", "vault")["rules"]
    assert rule["apiGroups"] == [""]
    assert rule["resources"] == ["pods"]
    assert sorted(rule["verbs"]) == ["get", "patch", "update"]
    assert rule["resourceNames"] == ["vault-0"]
    (ha_rule,) = ha3.get("Role", "vault")["rules"]
    assert ha_rule["resourceNames"] == ["vault-0", "vault-1", "vault-2"]
    binding = default.get("RoleBinding", "vault")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "vault"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "vault", "namespace": "vault-aio"}]
    assert default.pod["spec"]["serviceAccountName"] == "vault"
    assert default.pod["spec"]["automountServiceAccountToken"] is True, "service registration calls the API"
    assert default.get("ServiceAccount", "vault")["automountServiceAccountToken"] is False
    assert default.has("NetworkPolicy", "allow-vault-to-kube-apiserver")


def test_probes_keep_sealed_pods_alive_but_not_ready(default: VaultObjects) -> None:
    ready = default.container["readinessProbe"]["httpGet"]
    assert ready["path"] == "/v1/sys/health?standbyok=true&perfstandbyok=true"
    assert (ready["port"], ready["scheme"]) == ("https", "HTTPS")
    live = default.container["livenessProbe"]["httpGet"]
    params = dict(p.split("=") for p in live["path"].split("?")[1].split("&"))
    assert params["sealedcode"] == "204" and params["uninitcode"] == "204", "never restart a sealed pod"
    assert params["haunhealthycode"] == "204", "raft, not the kubelet, handles a lost leader"
    assert params["standbyok"] == "true"
    assert default.container["lifecycle"]["preStop"]["exec"]["command"][-1] == "sleep 5"
    assert default.pod["spec"]["terminationGracePeriodSeconds"] >= 30


@pytest.mark.parametrize("name", ["default", "ingress-backup", "seal-transit", "ha3"])
def test_pods_meet_restricted_pod_security(name: str) -> None:
    for template in pod_templates(variant(name)):
        spec = template["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert not spec.get("hostNetwork") and not spec.get("hostPID")
        assert not any("hostPath" in v for v in spec.get("volumes", []))
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["capabilities"] == {"drop": ["ALL"]}


def test_default_has_no_ha_ingress_or_backup_objects(default: VaultObjects) -> None:
    assert not default.all("PodDisruptionBudget")
    assert "affinity" not in default.pod["spec"]
    assert "topologySpreadConstraints" not in default.pod["spec"]
    assert "retry_join" not in default.config["storage"]["raft"]
    assert not default.all("Ingress") and not default.all("CronJob")
    assert not default.has("NetworkPolicy", "allow-vault-to-vault")


def test_metrics_target_scrapes_every_pod_on_the_metrics_listener(default: VaultObjects) -> None:
    target = default.vault.metrics_target
    assert target.endpoint.per_pod and target.endpoint.service == "vault-internal"
    assert target.endpoint.port == 8202 and target.https
    assert target.metrics_path == "/v1/sys/metrics"
    assert target.params == {"format": ("prometheus",)}
    assert target.ca is not None and (target.ca.name, target.ca.key) == ("vault-tls", "ca.crt")
    assert target.server_name == "vault.vault-aio.svc"


# --- HA ------------------------------------------------------------------------------------------------


def test_ha_adds_retry_join_pdb_anti_affinity_and_peer_policies(ha3: VaultObjects) -> None:
    joins = ha3.config["storage"]["raft"]["retry_join"]
    assert [j["leader_api_addr"] for j in joins] == [
        f"https://vault-{i}.vault-internal.vault-aio.svc:8200" for i in range(3)
    ]
    pdb = ha3.get("PodDisruptionBudget", "vault")["spec"]
    assert pdb["maxUnavailable"] == 1
    assert (
        pdb["selector"]["matchLabels"] == ha3.get("StatefulSet", "vault")["spec"]["selector"]["matchLabels"]
    )
    (term,) = ha3.pod["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    # and across zones, as a preference: a single-zone cluster (or nodes without the label) still schedules
    (spread,) = ha3.pod["spec"]["topologySpreadConstraints"]
    assert spread == {
        "maxSkew": 1,
        "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": ha3.get("StatefulSet", "vault")["spec"]["selector"]["matchLabels"]},
    }
    for name in ("allow-vault-to-vault", "allow-vault-from-vault"):
        rules = ha3.get("NetworkPolicy", name)["spec"]
        ports = {p["port"] for r in rules.get("egress", []) + rules.get("ingress", []) for p in r["ports"]}
        assert ports == {8200, 8201}


def test_ha_preferred_anti_affinity() -> None:
    objs = variant("ha5-preferred")
    assert objs.get("StatefulSet", "vault")["spec"]["replicas"] == 5
    (term,) = objs.pod["spec"]["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    assert term["weight"] == 100
    assert len(objs.config["storage"]["raft"]["retry_join"]) == 5


# --- TLS off -------------------------------------------------------------------------------------------


def test_tls_off_uses_http_everywhere(tls_off: VaultObjects) -> None:
    assert tls_off.config["listener"][0]["tcp"]["tls_disable"] is True
    assert [p["name"] for p in tls_off.get("Service", "vault")["spec"]["ports"]] == ["http"]
    ready = tls_off.container["readinessProbe"]["httpGet"]
    assert (ready["port"], ready["scheme"]) == ("http", "HTTP")
    assert tls_off.env["VAULT_ADDR"]["value"] == "http://127.0.0.1:8200"
    assert "VAULT_CACERT" not in tls_off.env
    assert not any(v["name"] == "tls" for v in tls_off.pod["spec"]["volumes"])
    target = tls_off.vault.metrics_target
    assert not target.https and target.ca is None and target.server_name is None


# --- seals ---------------------------------------------------------------------------------------------


def egress_to(objs: VaultObjects, name: str) -> tuple[list[str], list[int]]:
    (rule,) = objs.get("NetworkPolicy", name)["spec"]["egress"]
    return [p["ipBlock"]["cidr"] for p in rule["to"]], [p["port"] for p in rule["ports"]]


def test_transit_seal_reads_its_token_from_a_file_at_start() -> None:
    objs = variant("seal-transit")
    command = objs.container["command"]
    assert command[:2] == ["/bin/sh", "-ec"]
    assert "VAULT_TOKEN" not in objs.env, "exec sessions must not inherit the transit token"
    volumes = {v["name"]: v for v in objs.pod["spec"]["volumes"]}
    token = volumes["seal-transit-token"]["secret"]
    assert token["secretName"] == "vault-transit-seal"
    assert token["items"] == [{"key": "token", "path": "token"}]
    assert 'VAULT_TOKEN="$(cat /vault/seal/transit-token/token)"' in command[2]
    assert objs.config["seal"]["transit"]["tls_ca_cert"] == "/vault/seal/transit-ca/ca.crt"
    assert egress_to(objs, "allow-vault-to-seal-transit") == (["203.0.113.10/32"], [8200])


def test_awskms_static_keys_are_secret_key_refs() -> None:
    objs = variant("seal-awskms")
    ref = objs.env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "vault-aws", "key": "secret-access-key"}
    assert "value" not in objs.env["AWS_ACCESS_KEY_ID"]
    assert objs.config["seal"] == {"awskms": {"kms_key_id": "alias/vault-aio", "region": "eu-west-1"}}
    assert egress_to(objs, "allow-vault-to-seal-awskms") == (CIDRS, [443])


def test_awskms_irsa_annotates_the_service_account() -> None:
    objs = variant("seal-awskms-irsa")
    annotations = objs.get("ServiceAccount", "vault")["metadata"]["annotations"]
    assert annotations == {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/vault-aio"}
    assert not any(name.startswith("AWS_") for name in objs.env)


def test_gcpckms_credentials_file_is_mounted() -> None:
    objs = variant("seal-gcpckms")
    path = objs.env["GOOGLE_APPLICATION_CREDENTIALS"]["value"]
    mounts = {m["mountPath"]: m for m in objs.container["volumeMounts"]}
    directory, file_name = path.rsplit("/", 1)
    assert mounts[directory]["readOnly"] is True
    volumes = {v["name"]: v for v in objs.pod["spec"]["volumes"]}
    assert volumes[mounts[directory]["name"]]["secret"]["items"] == [
        {"key": "credentials.json", "path": file_name}
    ]


def test_azure_workload_identity_labels_the_pods() -> None:
    objs = variant("seal-azurekeyvault")
    assert objs.pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    selector = objs.get("StatefulSet", "vault")["spec"]["selector"]["matchLabels"]
    assert "azure.workload.identity/use" not in selector
    sa = objs.get("ServiceAccount", "vault")["metadata"]["annotations"]
    assert sa == {"azure.workload.identity/client-id": "00000000-0000-0000-0000-000000000002"}
    assert "AZURE_CLIENT_SECRET" not in objs.env


# --- Ingress and backup --------------------------------------------------------------------------------


def test_ingress_routes_host_to_the_api_over_https(extras: VaultObjects) -> None:
    ingress = extras.get("Ingress", "vault")
    spec = ingress["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == [{"hosts": ["vault.example.com"], "secretName": "vault-public-tls"}]
    (rule,) = spec["rules"]
    assert rule["host"] == "vault.example.com"
    (path,) = rule["http"]["paths"]
    # the active node directly (no forwarding hop through a standby); vault-active is tested below
    assert path["backend"]["service"] == {"name": "vault-active", "port": {"name": "https"}}
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/backend-protocol"] == "HTTPS"
    policy = extras.get("NetworkPolicy", "allow-vault-from-ingress-controller")["spec"]
    assert {p["port"] for r in policy["ingress"] for p in r["ports"]} == {8200}, "never the metrics port"
    api = extras.config["listener"][0]["tcp"]
    assert api["x_forwarded_for_authorized_addrs"] == "10.42.0.0/16"


def test_backup_cronjob_uses_the_backup_token_and_its_own_labels(extras: VaultObjects) -> None:
    cron = extras.get("CronJob", "vault-backup")["spec"]
    assert cron["schedule"] == "30 2 * * *"
    assert cron["concurrencyPolicy"] == "Forbid"
    template = cron["jobTemplate"]["spec"]["template"]
    (c,) = template["spec"]["containers"]
    env = {e["name"]: e for e in c["env"]}
    assert env["VAULT_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "vault-backup-token", "key": "token"}
    assert env["VAULT_CACERT"]["value"] == "/vault/tls/ca.crt"
    assert env["KEEP"]["value"] == "3"
    assert c["image"] == extras.container["image"]
    labels = template["metadata"]["labels"]
    vault_selector = extras.get("Service", "vault")["spec"]["selector"]
    assert not all(labels.get(k) == v for k, v in vault_selector.items()), (
        "backup pods must not join Service vault"
    )
    assert template["spec"]["automountServiceAccountToken"] is False
    claim = extras.get("PersistentVolumeClaim", "vault-backup")["spec"]
    assert claim["resources"]["requests"]["storage"] == "5Gi"
    egress = extras.get("NetworkPolicy", "allow-vault-backup-to-vault")["spec"]
    assert {p["port"] for r in egress["egress"] for p in r["ports"]} == {8200}
    assert egress["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "vault-backup"


def test_backup_cronjob_reaches_the_active_node_only(extras: VaultObjects) -> None:
    """Raft snapshots are in Vault's alwaysRedirectPaths: a standby answers them with a 307 to the active
    node instead of forwarding (http/handler.go), and a snapshot streamed through that redirect is known to
    arrive cut (hashicorp/vault#15258). The job's VAULT_ADDR names a Service that selects the active node
    only, on the API port of the Vault container."""
    template = extras.get("CronJob", "vault-backup")["spec"]["jobTemplate"]["spec"]["template"]
    (c,) = template["spec"]["containers"]
    url = urlsplit({e["name"]: e for e in c["env"]}["VAULT_ADDR"]["value"])
    service_name, namespace, svc = (url.hostname or "").split(".")
    assert (namespace, svc, url.scheme) == ("vault-aio", "svc", "https")
    service = extras.get("Service", service_name)["spec"]
    assert service["selector"].get("vault-active") == "true", "only the active node may answer the backup job"
    (port,) = [p for p in service["ports"] if p["port"] == url.port]
    api_ports = {p["name"]: p["containerPort"] for p in extras.container["ports"]}
    assert api_ports[port["targetPort"]] == url.port == 8200


def test_backup_script_passes_shellcheck(tmp_path: Path) -> None:
    script = tmp_path / "backup.sh"
    script.write_text("#!/bin/sh\nset -e\n" + BACKUP_SCRIPT)
    result = subprocess.run(
        [require_tool("shellcheck"), "--shell=sh", str(script)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _fake_vault(tmp_path: Path, *, fail_snapshot: bool = False) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "vault"
    fake.write_text(
        "#!/bin/sh\n"
        'echo "$*" >> "$CALLS"\n'
        'case "$*" in\n'
        '  "operator raft snapshot save "*) '
        + ("exit 2 ;;\n" if fail_snapshot else 'printf snap > "$5" ;;\n')
        + "esac\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    backup = tmp_path / "backup"
    backup.mkdir(exist_ok=True)
    return {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "BACKUP_DIR": str(backup),
        "KEEP": "2",
        "CALLS": str(tmp_path / "calls"),
    }


def test_backup_script_saves_checksums_and_prunes(tmp_path: Path) -> None:
    env = _fake_vault(tmp_path)
    backup = Path(env["BACKUP_DIR"])
    for stamp in ("20250101T000000Z", "20250102T000000Z", "20250103T000000Z"):
        (backup / f"vault-raft-{stamp}.snap").write_text("old")
        (backup / f"vault-raft-{stamp}.snap.sha256").write_text("x")
    result = subprocess.run(["/bin/sh", "-ec", BACKUP_SCRIPT], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    snaps = sorted(p.name for p in backup.glob("*.snap"))
    assert len(snaps) == 2 and snaps[0] == "vault-raft-20250103T000000Z.snap"
    assert not list(backup.glob("*.partial"))
    new = backup / snaps[1]
    assert new.read_text() == "snap"
    assert (backup / f"{snaps[1]}.sha256").read_text().split()[0] == hashlib.sha256(b"snap").hexdigest()
    assert not (backup / "vault-raft-20250101T000000Z.snap.sha256").exists()
    calls = Path(env["CALLS"]).read_text().splitlines()
    assert calls[0] == "token renew" and calls[1].startswith("operator raft snapshot save vault-raft-")


def test_backup_script_fails_and_keeps_old_snapshots_when_the_snapshot_fails(tmp_path: Path) -> None:
    env = _fake_vault(tmp_path, fail_snapshot=True)
    backup = Path(env["BACKUP_DIR"])
    for stamp in ("20250102T000000Z", "20250103T000000Z"):
        (backup / f"vault-raft-{stamp}.snap").write_text("old")
    result = subprocess.run(["/bin/sh", "-ec", BACKUP_SCRIPT], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "vault-backup: error: vault operator raft snapshot save failed" in result.stderr
    assert len(list(backup.glob("*.snap"))) == 2, "the newest $KEEP survive a failed snapshot"
    assert not list(backup.glob("*.partial"))
    assert BACKUP_SUCCESS_MARKER not in result.stdout


# The backup volume as a fixed-size disk: `df` reports what the files in BACKUP_DIR leave of
# FAKE_CAPACITY_KIB, and `vault operator raft snapshot save` fails like Vault on a full disk when less than
# FAKE_SNAPSHOT_KIB is free.
_FAKE_DF = """#!/bin/sh
used=$(( $(cat "$BACKUP_DIR"/* 2>/dev/null | wc -c) / 1024 ))
echo "Filesystem 1024-blocks Used Available Capacity Mounted on"
echo "/dev/fake $FAKE_CAPACITY_KIB $used $((FAKE_CAPACITY_KIB - used)) 50% /backup"
"""
_FAKE_VAULT_ON_A_DISK = """#!/bin/sh
echo "$*" >> "$CALLS"
case "$*" in
  "operator raft snapshot save "*)
    free=$(df -Pk . | awk 'NR == 2 { print $4 }')
    head -c $((FAKE_SNAPSHOT_KIB * 1024 / 2)) /dev/zero > "$5"
    if [ "$free" -lt "$FAKE_SNAPSHOT_KIB" ]; then echo "write $5: no space left on device" >&2; exit 2; fi
    head -c $((FAKE_SNAPSHOT_KIB * 1024)) /dev/zero > "$5" ;;
esac
"""
MIB = 1024 * 1024
#: What the backup job runs in the Vault image: busybox applets only.
_APPLETS = ("sh", "awk", "cat", "date", "head", "mv", "rm", "sha256sum", "tail", "wc")


def _run_backup(env: dict[str, str], shell: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The job's script under ``sh`` (the host's) or ``busybox`` (as in the Vault image: busybox ash and
    applets, nothing else on PATH)."""
    if shell == "busybox":
        busybox = require_tool("busybox")
        applets = tmp_path / "applets"
        applets.mkdir(exist_ok=True)
        for name in _APPLETS:
            if not (applets / name).exists():
                (applets / name).symlink_to(busybox)
        env = {**env, "PATH": f"{tmp_path / 'bin'}:{applets}"}
        argv = [str(applets / "sh"), "-ec", BACKUP_SCRIPT]
    else:
        argv = ["/bin/sh", "-ec", BACKUP_SCRIPT]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)


def _volume(tmp_path: Path, *, capacity_kib: int, snapshot_kib: int, keep: int) -> dict[str, str]:
    env = _fake_vault(tmp_path)
    bin_dir = tmp_path / "bin"
    for name, text in (("df", _FAKE_DF), ("vault", _FAKE_VAULT_ON_A_DISK)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env.update(FAKE_CAPACITY_KIB=str(capacity_kib), FAKE_SNAPSHOT_KIB=str(snapshot_kib), KEEP=str(keep))
    return env


def _fill(backup: Path, stamps: tuple[str, ...], size: int) -> None:
    for stamp in stamps:
        (backup / f"vault-raft-{stamp}.snap").write_bytes(b"\0" * size)
        (backup / f"vault-raft-{stamp}.snap.sha256").write_text("x\n")


@pytest.mark.parametrize("shell", ["sh", "busybox"])
def test_backup_script_recovers_from_a_full_volume(tmp_path: Path, shell: str) -> None:
    """Issue 14: a full volume (three 4 MiB snapshots and the partial of a failed run) used to make every
    later run fail. Partials go and old snapshots are pruned before saving, until a snapshot fits."""
    env = _volume(tmp_path, capacity_kib=15_300, snapshot_kib=4096, keep=3)
    backup = Path(env["BACKUP_DIR"])
    stamps = ("20250101T030000Z", "20250102T030000Z", "20250103T030000Z")
    _fill(backup, stamps, 4 * MIB)
    (backup / "vault-raft-20250104T030000Z.snap.partial").write_bytes(b"\0" * 3 * MIB)
    result = _run_backup(env, shell, tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "removed vault-raft-20250104T030000Z.snap.partial (left by an interrupted run)" in out
    assert f"pruned vault-raft-{stamps[0]}.snap to make room" in out
    assert out.index("to make room") < out.index(BACKUP_SUCCESS_MARKER)
    snaps = sorted(p.name for p in backup.glob("*.snap"))
    assert snaps[:2] == [f"vault-raft-{s}.snap" for s in stamps[1:]] and len(snaps) == 3
    assert not list(backup.glob("*.partial"))
    assert re.search(rf"^{BACKUP_SUCCESS_MARKER}{re.escape(snaps[2])} \(4194304 bytes\)", out, re.M)


@pytest.mark.parametrize("shell", ["sh", "busybox"])
def test_backup_script_stops_clearly_when_even_one_old_snapshot_leaves_no_room(
    tmp_path: Path, shell: str
) -> None:
    env = _volume(tmp_path, capacity_kib=6_000, snapshot_kib=4096, keep=3)
    backup = Path(env["BACKUP_DIR"])
    _fill(backup, ("20250103T030000Z",), 4 * MIB)
    result = _run_backup(env, shell, tmp_path)
    assert result.returncode == 1
    assert re.search(
        r"vault-backup: error: \d+ KiB free on the backup volume, a snapshot needs about 5529 KiB: "
        r"raise vault\.backup\.storage_gib",
        result.stderr,
    )
    assert [p.name for p in backup.glob("*.snap")] == ["vault-raft-20250103T030000Z.snap"], "the newest stays"
    assert not Path(env["CALLS"]).exists(), "vault is not called: the run stops before the snapshot"
    assert BACKUP_SUCCESS_MARKER not in result.stdout


def test_backup_script_prunes_an_excess_before_saving(tmp_path: Path) -> None:
    """keep lowered from 5 to 2: the excess goes before the snapshot, so a failed save finds room."""
    env = _fake_vault(tmp_path, fail_snapshot=True)
    backup = Path(env["BACKUP_DIR"])
    _fill(backup, tuple(f"2025010{d}T030000Z" for d in range(1, 6)), 3)
    result = subprocess.run(["/bin/sh", "-ec", BACKUP_SCRIPT], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert sorted(p.name for p in backup.glob("*.snap")) == [
        "vault-raft-20250104T030000Z.snap",
        "vault-raft-20250105T030000Z.snap",
    ]


# --- extension -----------------------------------------------------------------------------------------


def test_add_policy_extends_the_config_map() -> None:
    app = cdk8s.App()
    chart = StackChart(app, "ext")
    vault = Vault(chart, "Vault")
    vault.add_policy(
        Policy(
            name="app-reader",
            description="read the app's secrets",
            rules=(PathRule(path="secret/data/app/*", capabilities=frozenset({Capability.READ})),),
        )
    )
    chart.finish()
    (cm,) = [m.body for m in render(chart) if m.kind == "ConfigMap" and m.name == "vault-policies"]
    assert 'path "secret/data/app/*"' in cm["data"]["app-reader.hcl"]


def test_fails_duplicate_policy() -> None:
    app = cdk8s.App()
    vault = Vault(StackChart(app, "dup"), "Vault")
    with pytest.raises(ValueError, match=r"a Vault policy named 'backup' already exists"):
        vault.add_policy(vault.policies[1])


# --- validation ----------------------------------------------------------------------------------------


def test_fails_even_replicas() -> None:
    with pytest.raises(ValueError, match=r"'replicas' \(2\) must be odd for raft: use 1, 3 or 5"):
        parse_settings({"vault": {"replicas": 2}})


def test_fails_unsupported_replicas() -> None:
    with pytest.raises(ValueError, match=r"'replicas' \(7\) is not supported: use 1, 3 or 5"):
        parse_settings({"vault": {"replicas": 7}})


def test_fails_zero_retention() -> None:
    with pytest.raises(ValueError, match=r"'prometheus_retention_time' must be a non-zero duration"):
        parse_settings({"vault": {"prometheus_retention_time": "0s"}})


def test_fails_ingress_without_host() -> None:
    with pytest.raises(ValueError, match=r"vault\.ingress\.host"):
        parse_settings({"vault": {"ingress": {"class_name": "nginx"}}})


def test_fails_bad_backup_schedule() -> None:
    with pytest.raises(ValueError, match=r"vault\.backup\.schedule"):
        parse_settings({"vault": {"backup": {"schedule": "every night"}}})


def test_fails_backup_keep_zero() -> None:
    with pytest.raises(ValueError, match=r"vault\.backup\.keep"):
        parse_settings({"vault": {"backup": {"keep": 0}}})


def test_fails_short_grace_period() -> None:
    with pytest.raises(ValueError, match=r"vault\.termination_grace_period_seconds"):
        parse_settings({"vault": {"termination_grace_period_seconds": 1}})


def test_fails_bad_anti_affinity() -> None:
    with pytest.raises(ValueError, match=r"vault\.anti_affinity"):
        parse_settings({"vault": {"anti_affinity": "sometimes"}})


def test_fails_unknown_key() -> None:
    with pytest.raises(ValueError, match=r"vault\.tls_secret"):
        parse_settings({"vault": {"tls_secret": "x"}})


def test_fails_seal_without_egress_from_settings() -> None:
    seal = dict(VARIANTS["seal-awskms"]["seal"])
    del seal["egress_cidrs"]
    with pytest.raises(ValueError, match=r"'seal.egress_cidrs' is required for the awskms seal"):
        parse_settings({"vault": {"seal": seal}})


def test_scratch_space_holds_a_snapshot_of_the_whole_data_volume() -> None:
    """backup.sh saves and restores copy raft snapshots through /tmp: it must fit the data volume's size."""
    from tests.stack import synth_stack

    stack = synth_stack({"vault": {"storage_gib": 7}})
    spec = stack.get("StatefulSet", "vault")["spec"]["template"]["spec"]
    tmp = next(v for v in spec["volumes"] if v["name"] == "tmp")
    assert tmp["emptyDir"]["sizeLimit"] == "7168Mi"


def test_runs_as_a_high_uid_in_the_vault_group(default: VaultObjects) -> None:
    """UID 10100 (no host account, CKV_K8S_40) in the image's vault group 1000, which owns the data volume;
    fsGroupChangePolicy Always gives raft files an earlier UID (100) created 0600 back to the group."""
    context = default.get("StatefulSet", "vault")["spec"]["template"]["spec"]["securityContext"]
    assert (context["runAsUser"], context["runAsGroup"], context["fsGroup"]) == (10100, 1000, 1000)
    assert context["fsGroupChangePolicy"] == "Always"
