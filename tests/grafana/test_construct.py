"""The Grafana construct: objects, provisioning from the wiring, dashboards, Ingress and validation."""

from __future__ import annotations

import configparser
import hashlib
import json
from typing import Any

import cdk8s
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from syrupy.assertion import SnapshotAssertion

from tests.snapshots import assert_objects_match, object_key
from tests.stack import Stack, synth_stack
from vaultaio_constructs.component import StackChart
from vaultaio_constructs.grafana.construct import Grafana
from vaultaio_constructs.grafana.dashboards import GrafanaDashboard, builtin_dashboards
from vaultaio_constructs.grafana.props import GrafanaProps
from vaultaio_constructs.loki.construct import Loki
from vaultaio_constructs.output import Manifest, render
from vaultaio_constructs.placement import Area
from vaultaio_constructs.prometheus.construct import Prometheus

INGRESS = {"grafana": {"ingress": {"host": "grafana.example.org", "tls_secret_name": "grafana-tls"}}}


def _grafana_manifests(stack: Stack) -> list[Manifest]:
    """Objects the Grafana component created (NetworkPolicies belong to the network component)."""
    return [
        m
        for m in stack.manifests
        if m.body["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "grafana"
        and m.kind != "NetworkPolicy"
    ]


def _pod(stack: Stack) -> dict[str, Any]:
    spec: dict[str, Any] = stack.get("StatefulSet", "grafana")["spec"]["template"]["spec"]
    return spec


def _ini(stack: Stack) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(stack.config_data("grafana-config")["grafana.ini"])
    return parser


def _datasources(stack: Stack) -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(stack.config_data("grafana-provisioning")["datasources.yaml"])
    return {source["uid"]: source for source in document["datasources"]}


@pytest.fixture(scope="module")
def ingress() -> Stack:
    return synth_stack(INGRESS)


def test_grafana_alone_snapshot(snapshot: SnapshotAssertion) -> None:
    """Each object of Grafana in a small stack with the Prometheus and Loki it queries (their objects are
    in their own snapshots); dashboard JSON is reduced to its sha256 (the dashboard tests cover it)."""
    chart, grafana, prometheus, loki = _small_stack()
    grafana.use_prometheus(prometheus)
    grafana.use_loki(loki)
    chart.finish()
    selected = [
        m for m in render(chart) if m.body["metadata"]["labels"].get("app.kubernetes.io/name") == "grafana"
    ]
    digests = {
        object_key(m): {**m.body, "data": {k: _sha256(v) for k, v in m.body["data"].items()}}
        for m in selected
        if m.area == Area.DASHBOARDS
    }
    assert len(digests) >= 2, "the built-in dashboards of Prometheus and Loki"
    assert_objects_match(snapshot, selected, what="Grafana alone", transform=digests)


def _sha256(text: str) -> str:
    return f"sha256:{hashlib.sha256(text.encode()).hexdigest()}"


def test_objects_and_folders(stack: Stack) -> None:
    paths = sorted(m.path for m in _grafana_manifests(stack))
    assert paths == [
        "dashboards/configmap-grafana-dashboard-container-logs.yaml",
        "dashboards/configmap-grafana-dashboard-trace-explorer.yaml",
        "dashboards/configmap-grafana-dashboard-vault-audit.yaml",
        "dashboards/configmap-grafana-dashboard-vault-overview.yaml",
        "dashboards/configmap-grafana-dashboard-vm-system.yaml",
        "monitoring/configmap-grafana-config.yaml",
        "monitoring/configmap-grafana-provisioning.yaml",
        "monitoring/service-grafana.yaml",
        "monitoring/serviceaccount-grafana.yaml",
        "monitoring/statefulset-grafana.yaml",
    ]


@pytest.mark.parametrize("variant", ["default", "ingress"])
def test_objects_validate_against_kubernetes_schemas(stack: Stack, ingress: Stack, variant: str) -> None:
    chosen = stack if variant == "default" else ingress
    for manifest in _grafana_manifests(chosen):
        for version in ("1.27", kubernetes_validate.latest_version()):
            kubernetes_validate.validate(manifest.body, version, strict=True)


def test_datasources_point_at_the_real_services_and_ports(stack: Stack) -> None:
    sources = _datasources(stack)
    chart = stack.chart
    expected = {
        "prometheus": chart.prometheus.query_endpoint,
        "loki": chart.loki.query_endpoint,
        "tempo": chart.tempo.query_endpoint,
        "alertmanager": chart.alertmanager.web,
    }
    assert sorted(sources) == sorted(expected)
    for uid, endpoint in expected.items():
        assert sources[uid]["url"] == endpoint.url
        service = stack.get("Service", endpoint.service)
        ports = {(p["name"], p["port"]) for p in service["spec"]["ports"]}
        assert (endpoint.port_name, endpoint.port) in ports, (
            f"{uid}: {endpoint.url} is not a port of {service}"
        )
    assert sources["tempo"]["jsonData"]["tracesToLogsV2"]["datasourceUid"] == "loki"
    assert {f["datasourceUid"] for f in sources["loki"]["jsonData"]["derivedFields"]} == {"tempo"}


def test_network_policies_cover_every_data_source(stack: Stack) -> None:
    names = {p["metadata"]["name"] for p in stack.all("NetworkPolicy")}
    for store in ("prometheus", "loki", "tempo", "alertmanager"):
        assert f"allow-grafana-to-{store}" in names
        assert f"allow-{store}-from-grafana" in names


def test_statefulset_with_pvc_restricted_and_read_only_root(stack: Stack) -> None:
    statefulset = stack.get("StatefulSet", "grafana")
    assert statefulset["spec"]["replicas"] == 1
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"
    pod = _pod(stack)
    # a high UID in the image's group, which owns the volume; Always re-applies the group to files an
    # earlier UID (472) created
    context = pod["securityContext"]
    assert (context["runAsUser"], context["runAsGroup"], context["fsGroup"]) == (10472, 472, 472)
    assert context["fsGroupChangePolicy"] == "Always"
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (grafana,) = pod["containers"]
    assert grafana["image"] == "docker.io/grafana/grafana:13.2.0"
    context = grafana["securityContext"]
    assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    mounts = {m["mountPath"]: m for m in grafana["volumeMounts"]}
    assert mounts["/var/lib/grafana"]["name"] == "data"
    assert mounts["/etc/grafana/grafana.ini"]["subPath"] == "grafana.ini"
    assert mounts["/etc/grafana/secrets"]["readOnly"] is True
    assert "/tmp" in mounts
    assert grafana["readinessProbe"]["httpGet"]["path"] == "/api/health"


def test_admin_credentials_come_from_the_secret_only(stack: Stack) -> None:
    pod = _pod(stack)
    admin = next(v for v in pod["volumes"] if v["name"] == "admin")["secret"]
    assert admin["secretName"] == "grafana-admin"
    assert sorted(item["key"] for item in admin["items"]) == ["admin-password", "admin-user"]
    ini = _ini(stack)
    assert ini["security"]["admin_password"] == "$__file{/etc/grafana/secrets/admin-password}"
    assert ini["security"]["admin_user"] == "$__file{/etc/grafana/secrets/admin-user}"
    assert not stack.all("Secret"), "the manifests must never contain a Secret"
    env = {e["name"] for e in pod["containers"][0].get("env", [])}
    assert not any("PASSWORD" in name or "ADMIN" in name for name in env)


def test_no_phoning_home_and_no_anonymous_access(stack: Stack) -> None:
    ini = _ini(stack)
    assert ini["analytics"]["reporting_enabled"] == "false"
    assert ini["analytics"]["check_for_updates"] == "false"
    assert ini["analytics"]["check_for_plugin_updates"] == "false"
    assert ini["auth.anonymous"]["enabled"] == "false"
    assert ini["server"]["root_url"] == "http://localhost:3000/"
    assert (
        ini["dashboards"]["default_home_dashboard_path"] == "/var/lib/grafana/dashboards/vault-overview.json"
    )


def test_dashboards_come_from_labelled_configmaps_projected_into_the_provider_path(stack: Stack) -> None:
    builtins = {d.name: d for d in builtin_dashboards()}
    configmaps = [m for m in stack.manifests if m.area == Area.DASHBOARDS]
    assert len(configmaps) == 5
    for manifest in configmaps:
        name = manifest.name.removeprefix("grafana-dashboard-")
        assert manifest.body["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert manifest.body["data"] == {f"{name}.json": builtins[name].json}
    pod = _pod(stack)
    projected = next(v for v in pod["volumes"] if v["name"] == "dashboards")["projected"]["sources"]
    assert [s["configMap"]["name"] for s in projected] == [m.name for m in configmaps]
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "dashboards")
    providers = yaml.safe_load(stack.config_data("grafana-provisioning")["dashboards.yaml"])
    assert providers["providers"][0]["options"]["path"] == mount["mountPath"]


def test_config_changes_roll_the_pod(stack: Stack, ingress: Stack) -> None:
    def checksum(s: Stack) -> str:
        value: str = s.get("StatefulSet", "grafana")["spec"]["template"]["metadata"]["annotations"][
            "vault-aio.io/config-checksum"
        ]
        return value

    assert len(checksum(stack)) == 64
    assert checksum(stack) != checksum(ingress)


def test_ingress_sets_the_root_url_and_admits_the_controller(ingress: Stack) -> None:
    rule = ingress.get("Ingress", "grafana")["spec"]
    assert rule["tls"] == [{"hosts": ["grafana.example.org"], "secretName": "grafana-tls"}]
    backend = rule["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "grafana", "port": {"name": "http"}}
    assert _ini(ingress)["server"]["root_url"] == "https://grafana.example.org/"
    assert _ini(ingress)["security"]["cookie_secure"] == "true"
    edges = [e for e in ingress.chart.wiring.ingress_edges if e.endpoint.provider == "grafana"]
    assert [e.endpoint.port for e in edges] == [3000]


def _small_stack(props: GrafanaProps | None = None) -> tuple[StackChart, Grafana, Prometheus, Loki]:
    chart = StackChart(cdk8s.App(), "test")
    prometheus = Prometheus(chart, "Prometheus")
    loki = Loki(chart, "Loki")
    grafana = Grafana(chart, "Grafana", props)
    return chart, grafana, prometheus, loki


def _custom(name: str = "team-overview", uid: str = "team-overview") -> GrafanaDashboard:
    return GrafanaDashboard.from_json(name, json.dumps({"uid": uid, "title": "Team overview", "panels": []}))


def test_add_dashboard_provisions_a_user_dashboard() -> None:
    chart, grafana, prometheus, loki = _small_stack(GrafanaProps(builtin_dashboards=False))
    grafana.use_prometheus(prometheus)
    grafana.use_loki(loki)
    grafana.add_dashboard(_custom())
    chart.finish()
    manifests = {m.path: m.body for m in render(chart)}
    configmap = manifests["dashboards/configmap-grafana-dashboard-team-overview.yaml"]
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(configmap["data"]["team-overview.json"])["uid"] == "team-overview"
    ini = manifests["monitoring/configmap-grafana-config.yaml"]["data"]["grafana.ini"]
    assert "default_home_dashboard_path" not in ini
    sources = yaml.safe_load(
        manifests["monitoring/configmap-grafana-provisioning.yaml"]["data"]["datasources.yaml"]
    )
    by_uid = {s["uid"]: s for s in sources["datasources"]}
    assert sorted(by_uid) == ["loki", "prometheus"], "only the connected stores become data sources"
    assert "derivedFields" not in by_uid["loki"]["jsonData"], "no trace links without Tempo"


def test_fails_on_a_duplicate_dashboard_name() -> None:
    _, grafana, _, _ = _small_stack()
    with pytest.raises(ValueError, match="grafana already has a dashboard named 'vault-overview'"):
        grafana.add_dashboard(_custom(name="vault-overview", uid="another"))


def test_fails_on_a_duplicate_dashboard_uid() -> None:
    _, grafana, _, _ = _small_stack()
    with pytest.raises(ValueError, match="has uid 'vm-system', already used by 'vm-system'"):
        grafana.add_dashboard(_custom(name="my-nodes", uid="vm-system"))


def test_fails_on_adding_a_dashboard_after_finish() -> None:
    chart, grafana, prometheus, _ = _small_stack()
    grafana.use_prometheus(prometheus)
    chart.finish()
    with pytest.raises(RuntimeError, match=r"add_dashboard\('team-overview'\) after the stack was finished"):
        grafana.add_dashboard(_custom())


def test_fails_on_connecting_the_same_store_twice() -> None:
    _, grafana, prometheus, _ = _small_stack()
    grafana.use_prometheus(prometheus)
    with pytest.raises(ValueError, match="grafana already has a prometheus data source"):
        grafana.use_prometheus(prometheus)


def test_fails_without_any_data_source() -> None:
    chart, _, _, _ = _small_stack()
    with pytest.raises(ValueError, match="grafana needs at least one data source"):
        chart.finish()


def test_fails_on_a_home_dashboard_that_is_not_provisioned() -> None:
    chart, grafana, prometheus, _ = _small_stack(
        GrafanaProps(builtin_dashboards=False, home_dashboard="missing")
    )
    grafana.use_prometheus(prometheus)
    with pytest.raises(
        ValueError, match=r"'home_dashboard' \('missing'\) is not a dashboard of this grafana"
    ):
        chart.finish()


def test_fails_on_a_root_url_without_trailing_slash() -> None:
    with pytest.raises(ValueError, match="'root_url' must end with '/'"):
        GrafanaProps(root_url="https://grafana.example.org")


def test_fails_on_an_unknown_setting() -> None:
    from vaultaio_constructs.settings import SettingsError, parse_settings

    with pytest.raises(SettingsError, match=r"grafana\.admin_password: unknown setting"):
        parse_settings({"grafana": {"admin_password": "hunter2"}})
