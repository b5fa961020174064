"""The Alloy construct: DaemonSet host access, identity, RBAC, wiring into the rendered config, settings."""

from __future__ import annotations

import dataclasses
from typing import Any

import cdk8s
import pytest
from syrupy.assertion import SnapshotAssertion

from tests.alloy.alloy_parser import parse
from tests.snapshots import assert_objects_match, own_objects
from tests.stack import Manifests, Stack
from vaultaio_constructs.alloy.config import ALLOY_CONFIG_DIR, ALLOY_STORAGE_PATH, VAULT_CA_DIR
from vaultaio_constructs.alloy.construct import Alloy
from vaultaio_constructs.common import SecretKeyRef
from vaultaio_constructs.component import StackChart
from vaultaio_constructs.loki.construct import Loki
from vaultaio_constructs.output import Manifest, render
from vaultaio_constructs.prometheus.construct import Prometheus
from vaultaio_constructs.settings import SettingsError, parse_settings
from vaultaio_constructs.tempo.construct import Tempo
from vaultaio_constructs.vault.construct import Vault
from vaultaio_constructs.wiring import Scheme


class AlloyObjects(Manifests):
    """Alloy in a small stack with the destinations it is wired to."""

    def __init__(
        self,
        settings: dict[str, Any] | None = None,
        *,
        logs: bool = True,
        metrics: bool = True,
        traces: bool = True,
        vault: dict[str, Any] | None = None,
        kubernetes_version: str = "1.31",
    ) -> None:
        parsed = parse_settings({"alloy": settings or {}, "vault": vault or {}}, "test settings")
        chart = StackChart(cdk8s.App(), "test", kubernetes_version=kubernetes_version)
        self.alloy = Alloy(chart, "Alloy", parsed.alloy)
        if logs:
            self.alloy.ship_logs_to(Loki(chart, "Loki"))
        if metrics:
            self.alloy.remote_write_to(Prometheus(chart, "Prometheus"))
            self.alloy.probe_tls(Vault(chart, "Vault", parsed.vault).api)
        if traces:
            self.alloy.ship_traces_to(Tempo(chart, "Tempo"))
        chart.finish()
        self.manifests: list[Manifest] = render(chart)

    @property
    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.get("DaemonSet", "alloy")["spec"]["template"]["spec"]
        return spec

    @property
    def container(self) -> dict[str, Any]:
        (c,) = self.spec["containers"]
        assert isinstance(c, dict)
        return c

    @property
    def config_text(self) -> str:
        text: str = self.get("ConfigMap", "alloy-config")["data"]["config.alloy"]
        return text

    def component(self, name: str, label: str) -> dict[str, Any]:
        (found,) = [b for b in parse(self.config_text)["blocks"] if b["name"] == name and b["label"] == label]
        assert isinstance(found, dict)
        return found

    def host_mounts(self) -> dict[str, dict[str, Any]]:
        host = {v["name"]: v["hostPath"] for v in self.spec["volumes"] if "hostPath" in v}
        return {
            m["name"]: {**m, **host[m["name"]]} for m in self.container["volumeMounts"] if m["name"] in host
        }


@pytest.fixture(scope="module")
def default() -> AlloyObjects:
    return AlloyObjects()


def test_default_stack_alloy_objects(stack: Stack) -> None:
    selected = stack.of_component("alloy")
    node, main = "vault-aio-node", "vault-aio"
    assert sorted((m.kind, m.name, m.namespace) for m in selected) == sorted(
        [
            ("ServiceAccount", "alloy", node),
            ("Role", "alloy", node),
            ("RoleBinding", "alloy", node),
            ("Role", "alloy", main),
            ("RoleBinding", "alloy", main),
            ("Service", "alloy", node),
            ("ConfigMap", "alloy-config", node),
            ("DaemonSet", "alloy", node),
        ]
    )


def test_alloy_alone_snapshot(default: AlloyObjects, snapshot: SnapshotAssertion) -> None:
    """Alloy alone in a small stack: its objects and policies, one snapshot each (dist/: the default)."""
    assert_objects_match(snapshot, own_objects(default.manifests, "alloy"), what="Alloy alone")


def test_default_stack_edges(stack: Stack) -> None:
    for policy, port in (
        ("allow-alloy-to-loki", 3100),
        ("allow-alloy-to-tempo", 4317),
        ("allow-alloy-to-prometheus", 9090),
        ("allow-alloy-to-vault", 8200),
    ):
        egress = stack.get("NetworkPolicy", policy)["spec"]["egress"]
        assert {p["port"] for r in egress for p in r["ports"]} == {port}, policy
    assert stack.has("NetworkPolicy", "allow-alloy-to-kube-apiserver")


def test_host_paths_are_read_only_and_minimal(default: AlloyObjects) -> None:
    mounts = default.host_mounts()
    assert {name: (m["path"], m["mountPath"], m["type"]) for name, m in mounts.items()} == {
        "varlog": ("/var/log", "/var/log", "Directory"),
        "run-journal": ("/run/log/journal", "/run/log/journal", "DirectoryOrCreate"),
        "machine-id": ("/etc/machine-id", "/etc/machine-id", "File"),
        "proc": ("/proc", "/host/proc", "Directory"),
        "sys": ("/sys", "/host/sys", "Directory"),
        "rootfs": ("/", "/host/root", "Directory"),
    }
    # read-only, recursively (filesystems mounted below each path too), and no propagation (which
    # recursive read-only mounts cannot have)
    for m in mounts.values():
        assert (m["readOnly"], m["recursiveReadOnly"]) == (True, "Enabled"), m
        assert "mountPropagation" not in m, m


def test_before_kubernetes_1_31_no_recursive_read_only_and_no_host_root() -> None:
    """recursiveReadOnly does not exist before 1.30 (and is off by default in 1.30): the fields are not
    written, and the host root is not mounted, as its sub-mounts (/tmp, /dev/shm) would stay writable."""
    old = AlloyObjects(kubernetes_version="1.27")
    mounts = old.host_mounts()
    assert set(mounts) == {"varlog", "run-journal", "machine-id", "proc", "sys"}
    for m in mounts.values():
        assert m["readOnly"] is True and "recursiveReadOnly" not in m and "mountPropagation" not in m
    unix = old.component("prometheus.exporter.unix", "node")["attrs"]
    assert "rootfs_path" not in unix and unix["disable_collectors"] == ["btrfs", "filesystem", "os"]
    assert "rootfs" not in AlloyObjects({"node_filesystems": False}).host_mounts()


def test_fails_node_filesystems_where_the_root_cannot_be_recursively_read_only() -> None:
    with pytest.raises(
        ValueError, match=r"alloy: 'node_filesystems' needs kubernetes_version >= 1\.31 \(got 1\.30\)"
    ):
        AlloyObjects({"node_filesystems": True}, kubernetes_version="1.30")


def test_fails_root_group() -> None:
    with pytest.raises(
        SettingsError, match=r"alloy: 'supplementary_group_ids' \(\[0, 4\]\) must not contain the root"
    ):
        AlloyObjects({"supplementary_group_ids": [0, 4]})


def test_only_the_mounts_of_wired_pipelines() -> None:
    logs_only = AlloyObjects(metrics=False, traces=False)
    assert set(logs_only.host_mounts()) == {"varlog", "run-journal", "machine-id"}
    assert AlloyObjects({"collect_journal": False}, metrics=False, traces=False).host_mounts().keys() == {
        "varlog"
    }
    metrics_only = AlloyObjects(logs=False, traces=False)
    assert set(metrics_only.host_mounts()) == {"proc", "sys", "rootfs"}
    traces_only = AlloyObjects(logs=False, metrics=False)
    assert traces_only.host_mounts() == {}


def test_narrowest_exception_non_root_no_capabilities(default: AlloyObjects) -> None:
    psc = default.spec["securityContext"]
    assert psc == {
        "runAsGroup": 473,
        "runAsNonRoot": True,
        "runAsUser": 10473,  # no host account: Alloy reads host files
        "seccompProfile": {"type": "RuntimeDefault"},
        "supplementalGroups": [4],
    }
    sc = default.container["securityContext"]
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True
    assert sc["runAsNonRoot"] is True
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        assert key not in default.spec


def test_run_as_root_setting_is_uid_0_still_without_capabilities() -> None:
    objs = AlloyObjects({"run_as_root": True, "node_filesystems": False})
    psc = objs.spec["securityContext"]
    assert (psc["runAsUser"], psc["runAsNonRoot"]) == (0, False)
    assert objs.container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert "rootfs" not in objs.host_mounts()


def test_run_as_root_below_1_31_mounts_no_host_root_and_needs_no_opt_out() -> None:
    objs = AlloyObjects({"run_as_root": True}, kubernetes_version="1.30")
    assert objs.spec["securityContext"]["runAsUser"] == 0
    assert "rootfs" not in objs.host_mounts() and "proc" in objs.host_mounts()


def test_fails_run_as_root_with_the_node_root_mounted() -> None:
    """Review finding 7: uid 0 reads every root-owned file, dropped capabilities or not, and the node's root
    holds every pod's Secret volumes and tokens (/var/lib/kubelet/pods) and the kubelet's client key."""
    with pytest.raises(
        ValueError,
        match=r"alloy: 'run_as_root' is true and Alloy mounts the node's root .*"
        r"set 'node_filesystems: false'",
    ):
        AlloyObjects({"run_as_root": True})  # node_filesystems: None resolves to on from 1.31
    with pytest.raises(SettingsError, match=r"alloy: 'run_as_root' is true and Alloy mounts the node's root"):
        AlloyObjects({"run_as_root": True, "node_filesystems": True})


def test_supplementary_groups_setting() -> None:
    objs = AlloyObjects({"supplementary_group_ids": [190, 4, 4]})
    assert objs.spec["securityContext"]["supplementalGroups"] == [4, 190]


def test_process_identity_and_probe(default: AlloyObjects) -> None:
    c = default.container
    assert c["image"] == "docker.io/grafana/alloy:v1.18.1"
    assert c["command"] == ["/bin/alloy"]
    assert "--disable-reporting" in c["args"] and "--server.http.listen-addr=0.0.0.0:12345" in c["args"]
    assert c["env"] == [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]
    assert c["readinessProbe"]["httpGet"] == {"path": "/-/ready", "port": "http", "scheme": "HTTP"}
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    assert mounts["config"] == ALLOY_CONFIG_DIR and mounts["storage"] == ALLOY_STORAGE_PATH
    assert default.spec["automountServiceAccountToken"] is True
    assert default.spec["tolerations"] == [{"effect": "NoSchedule", "operator": "Exists"}]


def test_rbac_lists_and_watches_pods_of_the_stacks_namespaces_only(default: AlloyObjects) -> None:
    """A Role and RoleBinding in each namespace whose pods' logs it reads, bound to Alloy's own
    ServiceAccount in the node namespace; nothing cluster-wide."""
    roles = {r["metadata"]["namespace"]: r for r in default.all("Role") if r["metadata"]["name"] == "alloy"}
    bindings = {
        b["metadata"]["namespace"]: b for b in default.all("RoleBinding") if b["metadata"]["name"] == "alloy"
    }
    assert set(roles) == set(bindings) == {"vault-aio", "vault-aio-node"}
    for namespace in roles:
        assert roles[namespace]["rules"] == [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},  # pod logs through the API
        ]
        binding = bindings[namespace]
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": "alloy",
        }
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "alloy", "namespace": "vault-aio-node"}
        ]
    assert not default.all("ClusterRole") and not default.all("ClusterRoleBinding")


def test_no_api_access_without_logs() -> None:
    """Pod discovery and log tailing are for logs only: without logs no Role, no token, no API egress."""
    objs = AlloyObjects(logs=False)
    assert not objs.has("Role", "alloy") and not objs.has("RoleBinding", "alloy")
    assert objs.spec["automountServiceAccountToken"] is False
    assert not objs.has("NetworkPolicy", "allow-alloy-to-kube-apiserver")


def test_config_uses_the_wired_endpoints(default: AlloyObjects) -> None:
    loki = default.component("loki.write", "default")["blocks"][0]["attrs"]["url"]
    assert loki == "http://loki.vault-aio.svc:3100/loki/api/v1/push"
    prom = default.component("prometheus.remote_write", "default")["blocks"][0]["attrs"]["url"]
    assert prom == "http://prometheus.vault-aio.svc:9090/api/v1/write"
    client = default.component("otelcol.exporter.otlp", "tempo")["blocks"][0]
    assert client["attrs"]["endpoint"] == "tempo.vault-aio.svc:4317"
    target = default.component("prometheus.exporter.blackbox", "vault_tls")["blocks"][0]["attrs"]
    assert target["address"].startswith("https://vault.vault-aio.svc:8200/v1/sys/health?")
    pods = default.component("discovery.kubernetes", "pods")
    assert pods["blocks"][0]["attrs"]["names"] == ["vault-aio", "vault-aio-node"]


def test_vault_ca_is_mounted_from_its_copy_in_the_node_namespace(default: AlloyObjects) -> None:
    """Secrets are namespaced: Alloy reads the CA certificate alone from ``vault-tls-ca`` in its own namespace
    (never ``vault-tls``, which also holds Vault's private key)."""
    (volume,) = [v for v in default.spec["volumes"] if v["name"] == "vault-ca"]
    assert volume["secret"]["secretName"] == "vault-tls-ca"
    assert volume["secret"]["optional"] is True
    assert volume["secret"]["items"] == [{"key": "ca.crt", "path": "ca.crt"}]
    mount = {m["name"]: m for m in default.container["volumeMounts"]}["vault-ca"]
    assert (mount["mountPath"], mount["readOnly"]) == (VAULT_CA_DIR, True)
    assert f'\\"ca_file\\": \\"{VAULT_CA_DIR}/ca.crt\\"' in default.config_text


def test_no_probe_without_vault_tls() -> None:
    objs = AlloyObjects(vault={"tls": {"enabled": False}})
    assert "prometheus.exporter.blackbox" not in objs.config_text
    assert not [v for v in objs.spec["volumes"] if v["name"] == "vault-ca"]
    assert not objs.has("NetworkPolicy", "allow-alloy-to-vault")


def test_probe_tls_with_an_explicit_ca() -> None:
    chart = StackChart(cdk8s.App(), "test")
    alloy = Alloy(chart, "Alloy")
    alloy.remote_write_to(Prometheus(chart, "Prometheus"))
    vault = Vault(chart, "Vault")
    alloy.probe_tls(vault.api, ca=SecretKeyRef(name="corp-ca", key="bundle.pem"))
    chart.finish()
    (volume,) = [
        v
        for v in alloy.daemon_set.to_json()["spec"]["template"]["spec"]["volumes"]
        if v["name"] == "vault-ca"
    ]
    assert volume["secret"]["secretName"] == "corp-ca"
    assert volume["secret"]["items"] == [{"key": "bundle.pem", "path": "ca.crt"}]


def test_settings_reach_the_config() -> None:
    objs = AlloyObjects(
        {
            "collect_journal": False,
            "varlog_globs": ["/var/log/kern.log"],
            "scrape_interval_seconds": 15,
            "journal_max_age_hours": 2,
        }
    )
    assert "loki.source.journal" not in objs.config_text
    targets = objs.component("local.file_match", "node_varlog")["attrs"]["path_targets"]
    assert [t["__path__"] for t in targets] == ["/var/log/kern.log"]
    assert objs.component("prometheus.scrape", "node")["attrs"]["scrape_interval"] == "15s"


def test_fails_without_any_destination() -> None:
    chart = StackChart(cdk8s.App(), "test")
    Alloy(chart, "Alloy")
    with pytest.raises(ValueError, match=r"alloy has nowhere to send anything"):
        chart.finish()


def test_fails_probe_without_a_ca() -> None:
    chart = StackChart(cdk8s.App(), "test")
    alloy = Alloy(chart, "Alloy")
    loki = Loki(chart, "Loki")
    https = dataclasses.replace(loki.http, scheme=Scheme.HTTPS)
    with pytest.raises(
        ValueError,
        match=r"probe_tls\(loki\) needs 'ca': loki does not say where its CA is found in namespace",
    ):
        alloy.probe_tls(https)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"varlog_globs": ["/var/log/pods/*.log"]}, r"'varlog_globs' entry '/var/log/pods/\*.log' must be"),
        ({"scrape_interval_seconds": 1}, r"alloy.scrape_interval_seconds"),
        ({"supplementary_group_ids": [-1]}, r"alloy.supplementary_group_ids"),
        ({"collect": True}, r"alloy.collect: unknown setting"),
    ],
)
def test_fails_invalid_settings(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_settings({"alloy": settings})
