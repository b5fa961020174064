"""Loki and Tempo on object storage and with replicas, as synthesized: what each pod gets from its store
(credentials only through Secret references or workload identity), how replicas find each other, and the
guards around them (PDB, anti-affinity, zone spread). The config keys are checked in
tests/{loki,tempo}/test_storage_config.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.stack import Stack, synth_stack
from tools.footprint import mem_mib

COMPONENTS = ("loki", "tempo")
CONFIG = {"loki": ("loki-config", "loki.yaml"), "tempo": ("tempo-config", "tempo.yaml")}
STORE_CIDR = "10.20.0.0/16"
S3 = {
    "type": "s3",
    "bucket": "observability",
    "endpoint": "minio.example.com:9000",
    "region": "us-east-1",
    "force_path_style": True,
    "access_key_id": {"name": "object-store", "key": "access-key-id"},
    "secret_access_key": {"name": "object-store", "key": "secret-access-key"},
    "ca": {"name": "object-store-ca", "key": "ca.crt"},
    "egress_cidrs": [STORE_CIDR],
}
IRSA = {
    "type": "s3",
    "bucket": "observability",
    "region": "eu-west-1",
    "role_arn": "arn:aws:iam::123456789012:role/observability",
    "egress_cidrs": ["52.218.0.0/17"],
    "extra_egress": [{"name": "sts", "cidrs": ["52.94.0.0/22"], "port": 443}],
}
AZURE_KEY = {
    "type": "azure",
    "account_name": "acmeobs",
    "container": "observability",
    "account_key": {"name": "azure-storage", "key": "account-key"},
    "egress_cidrs": ["20.60.0.0/16"],
}
AZURE_WI = {
    "type": "azure",
    "account_name": "acmeobs",
    "container": "observability",
    "workload_identity": True,
    "client_id": "00000000-0000-0000-0000-000000000001",
    "egress_cidrs": ["20.60.0.0/16"],
}
GCS_KEY = {
    "type": "gcs",
    "bucket": "acme-observability",
    "credentials": {"name": "gcs-key", "key": "key.json"},
    "egress_cidrs": ["199.36.153.8/30"],
}
VARIANTS = {
    "s3-replicas": {c: {"replicas": 3, "storage": S3} for c in COMPONENTS},
    "irsa": {c: {"storage": IRSA} for c in COMPONENTS},
    "azure-key": {c: {"storage": AZURE_KEY} for c in COMPONENTS},
    "azure-wi": {c: {"replicas": 2, "storage": AZURE_WI, "anti_affinity": "preferred"} for c in COMPONENTS},
    "gcs-key": {c: {"storage": GCS_KEY} for c in COMPONENTS},
}


@pytest.fixture(scope="module")
def variant() -> Callable[[str], Stack]:
    cache: dict[str, Stack] = {}

    def get(name: str) -> Stack:
        if name not in cache:
            cache[name] = synth_stack(VARIANTS[name])
        return cache[name]

    return get


def pod(stack: Stack, component: str) -> dict[str, Any]:
    template: dict[str, Any] = stack.get("StatefulSet", component)["spec"]["template"]
    return template


def container(stack: Stack, component: str) -> dict[str, Any]:
    (c,) = pod(stack, component)["spec"]["containers"]
    return c


def config(stack: Stack, component: str) -> dict[str, Any]:
    name, key = CONFIG[component]
    doc: dict[str, Any] = yaml.safe_load(stack.config_data(name)[key])
    return doc


def env(stack: Stack, component: str) -> dict[str, Any]:
    return {e["name"]: e.get("valueFrom", e.get("value")) for e in container(stack, component).get("env", [])}


def mounts(stack: Stack, component: str) -> dict[str, str]:
    return {m["name"]: m["mountPath"] for m in container(stack, component).get("volumeMounts", [])}


# -- the default stack ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("component", COMPONENTS)
def test_default_has_one_replica_and_nothing_of_the_replica_set(stack: Stack, component: str) -> None:
    sts = stack.get("StatefulSet", component)
    assert sts["spec"]["replicas"] == 1
    assert sts["spec"]["podManagementPolicy"] == "OrderedReady"
    assert not stack.has("Service", f"{component}-peers")
    assert not stack.has("PodDisruptionBudget", component)
    assert "affinity" not in pod(stack, component)["spec"]
    assert "env" not in container(stack, component)
    assert not stack.has("NetworkPolicy", f"allow-{component}-to-object-storage")


def test_wal_replay_ceiling_is_half_the_container_memory_limit(stack: Stack) -> None:
    for s in (stack, synth_stack({"profile": "production"})):
        limit = mem_mib(container(s, "loki")["resources"]["limits"]["memory"])
        ceiling = config(s, "loki")["ingester"]["wal"]["replay_memory_ceiling"]
        assert ceiling == f"{limit // 2}MB", (limit, ceiling)


# -- credentials ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("component", COMPONENTS)
def test_s3_static_keys_come_from_secret_refs_and_ca_from_a_secret_file(
    variant: Callable[[str], Stack], component: str
) -> None:
    s = variant("s3-replicas")
    variables = env(s, component)
    assert variables["AWS_ACCESS_KEY_ID"] == {
        "secretKeyRef": {"name": "object-store", "key": "access-key-id"}
    }
    assert variables["AWS_SECRET_ACCESS_KEY"] == {
        "secretKeyRef": {"name": "object-store", "key": "secret-access-key"}
    }
    volume = next(v for v in pod(s, component)["spec"]["volumes"] if v["name"] == "object-store-ca")
    assert volume["secret"] == {
        "secretName": "object-store-ca",
        "items": [{"key": "ca.crt", "path": "ca.crt"}],
        "defaultMode": 0o440,
    }
    trace_or_common = config(s, component)
    ca_file = (
        trace_or_common["common"]["storage"]["s3"]["http_config"]["ca_file"]
        if component == "loki"
        else trace_or_common["storage"]["trace"]["s3"]["tls_ca_path"]
    )
    assert ca_file == f"{mounts(s, component)['object-store-ca']}/ca.crt"


@pytest.mark.parametrize("component", COMPONENTS)
def test_irsa_annotates_the_service_account_and_sets_no_keys(
    variant: Callable[[str], Stack], component: str
) -> None:
    s = variant("irsa")
    sa = s.get("ServiceAccount", component)
    assert sa["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/observability"
    }
    # the IRSA webhook projects its own token volume; the API token stays unmounted
    assert sa["automountServiceAccountToken"] is False
    assert pod(s, component)["spec"]["automountServiceAccountToken"] is False
    assert "env" not in container(s, component)
    store = config(s, component)
    s3 = store["common"]["storage"]["s3"] if component == "loki" else store["storage"]["trace"]["s3"]
    assert s3["endpoint"] == "s3.eu-west-1.amazonaws.com" and s3["region"] == "eu-west-1"


@pytest.mark.parametrize("component", COMPONENTS)
def test_azure_key_reaches_each_program_its_own_way(variant: Callable[[str], Stack], component: str) -> None:
    s = variant("azure-key")
    assert env(s, component)["AZURE_STORAGE_KEY"] == {
        "secretKeyRef": {"name": "azure-storage", "key": "account-key"}
    }
    args = container(s, component)["args"]
    if component == "loki":
        # Loki reads the key only from its config: ${AZURE_STORAGE_KEY}, expanded at start
        assert "-config.expand-env=true" in args
        assert config(s, "loki")["common"]["storage"]["azure"]["account_key"] == "${AZURE_STORAGE_KEY}"
    else:
        # Tempo reads AZURE_STORAGE_KEY itself; expansion stays off
        assert not any("expand-env" in a for a in args)
        assert "storage_account_key" not in config(s, "tempo")["storage"]["trace"]["azure"]


@pytest.mark.parametrize("component", COMPONENTS)
def test_azure_workload_identity_labels_the_pods_only(
    variant: Callable[[str], Stack], component: str
) -> None:
    s = variant("azure-wi")
    sts = s.get("StatefulSet", component)
    assert sts["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert "azure.workload.identity/use" not in sts["spec"]["selector"]["matchLabels"]
    assert "azure.workload.identity/use" not in sts["metadata"]["labels"]
    assert s.get("ServiceAccount", component)["metadata"]["annotations"] == {
        "azure.workload.identity/client-id": "00000000-0000-0000-0000-000000000001"
    }
    assert "env" not in container(s, component)


@pytest.mark.parametrize("component", COMPONENTS)
def test_gcs_key_file_is_mounted_where_the_variable_points(
    variant: Callable[[str], Stack], component: str
) -> None:
    s = variant("gcs-key")
    path = env(s, component)["GOOGLE_APPLICATION_CREDENTIALS"]
    assert path == f"{mounts(s, component)['object-store-gcs']}/credentials.json"
    volume = next(v for v in pod(s, component)["spec"]["volumes"] if v["name"] == "object-store-gcs")
    assert volume["secret"]["items"] == [{"key": "key.json", "path": "credentials.json"}]


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_no_credential_in_any_config_or_env_value(variant: Callable[[str], Stack], name: str) -> None:
    s = variant(name)
    for component in COMPONENTS:
        text = s.config_data(CONFIG[component][0])[CONFIG[component][1]]
        for word in (
            "access_key_id",
            "secret_access_key",
            "secret_key",
            "storage_account_key",
            "service_account",
        ):
            assert f"{word}:" not in text, (name, component, word)
        for e in container(s, component).get("env", []):
            assert "value" not in e or e["name"] == "GOOGLE_APPLICATION_CREDENTIALS", e


# -- egress --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("component", COMPONENTS)
def test_one_egress_policy_to_the_store_from_settings(
    variant: Callable[[str], Stack], component: str
) -> None:
    policy = variant("s3-replicas").get("NetworkPolicy", f"allow-{component}-to-object-storage")
    assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == component
    assert policy["spec"]["egress"] == [
        {"to": [{"ipBlock": {"cidr": STORE_CIDR}}], "ports": [{"port": 9000, "protocol": "TCP"}]}
    ]


@pytest.mark.parametrize("component", COMPONENTS)
def test_extra_egress_adds_one_policy_per_destination(
    variant: Callable[[str], Stack], component: str
) -> None:
    s = variant("irsa")
    store = s.get("NetworkPolicy", f"allow-{component}-to-object-storage")["spec"]["egress"]
    sts = s.get("NetworkPolicy", f"allow-{component}-to-sts")["spec"]["egress"]
    assert store == [
        {"to": [{"ipBlock": {"cidr": "52.218.0.0/17"}}], "ports": [{"port": 443, "protocol": "TCP"}]}
    ]
    assert sts == [
        {"to": [{"ipBlock": {"cidr": "52.94.0.0/22"}}], "ports": [{"port": 443, "protocol": "TCP"}]}
    ]


# -- replicas ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("component", COMPONENTS)
def test_replicas_find_each_other_through_the_headless_peers_service(
    variant: Callable[[str], Stack], component: str, stack: Stack
) -> None:
    s = variant("s3-replicas")
    sts = s.get("StatefulSet", component)
    peers = s.get("Service", f"{component}-peers")
    assert sts["spec"]["replicas"] == 3
    # immutable fields as with one replica, so 'replicas' scales an existing StatefulSet in place
    default = stack.get("StatefulSet", component)["spec"]
    for field in ("serviceName", "podManagementPolicy", "selector", "volumeClaimTemplates"):
        assert sts["spec"][field] == default[field], field
    assert peers["spec"]["clusterIP"] == "None"
    assert peers["spec"]["publishNotReadyAddresses"] is True
    assert peers["spec"]["selector"] == sts["spec"]["selector"]["matchLabels"]
    ports = {p["name"]: p["containerPort"] for p in container(s, component)["ports"]}
    service_ports = {p["name"]: p["port"] for p in peers["spec"]["ports"]}
    for name in ("memberlist", "grpc", "http"):
        assert service_ports[name] == ports[name], name  # headless: no port mapping
    doc = config(s, component)
    ns = s.chart.stack_namespace
    assert doc["memberlist"]["join_members"] == [f"dns+{component}-peers.{ns}.svc:{ports['memberlist']}"]
    assert doc["memberlist"]["bind_port"] == ports["memberlist"]
    assert doc["server"]["grpc_listen_port"] == ports["grpc"]
    if component == "tempo":
        assert doc["target"] == "scalable-single-binary"
        assert (
            doc["querier"]["frontend_worker"]["frontend_address"] == f"tempo-peers.{ns}.svc:{ports['grpc']}"
        )


@pytest.mark.parametrize("component", COMPONENTS)
def test_prometheus_scrapes_every_replica(variant: Callable[[str], Stack], component: str) -> None:
    s = variant("s3-replicas")
    prometheus = yaml.safe_load(s.config_data("prometheus-config")["prometheus.yml"])
    (job,) = [j for j in prometheus["scrape_configs"] if j["job_name"] == component]
    ns = s.chart.stack_namespace
    assert job["dns_sd_configs"][0]["names"] == [f"{component}-peers.{ns}.svc.cluster.local"]


@pytest.mark.parametrize("name", ["s3-replicas", "azure-wi"])
@pytest.mark.parametrize("component", COMPONENTS)
def test_replicas_are_guarded_by_a_pdb_anti_affinity_and_zone_spread(
    variant: Callable[[str], Stack], name: str, component: str
) -> None:
    s = variant(name)
    selector = s.get("StatefulSet", component)["spec"]["selector"]["matchLabels"]
    pdb = s.get("PodDisruptionBudget", component)
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": selector}}
    spec = pod(s, component)["spec"]
    anti = spec["affinity"]["podAntiAffinity"]
    if name == "azure-wi":  # anti_affinity: preferred
        (term,) = anti["preferredDuringSchedulingIgnoredDuringExecution"]
        term = term["podAffinityTerm"]
    else:
        (term,) = anti["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term == {"labelSelector": {"matchLabels": selector}, "topologyKey": "kubernetes.io/hostname"}
    assert spec["topologySpreadConstraints"] == [
        {
            "labelSelector": {"matchLabels": selector},
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "ScheduleAnyway",
        }
    ]
