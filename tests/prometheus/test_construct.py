"""The Prometheus construct: StatefulSet on a PVC, config and rules from the wiring, promtool, settings."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import cdk8s
import pytest
import yaml
from syrupy.assertion import SnapshotAssertion

from tests.prometheus.promtool import check_config_as_mounted
from tests.snapshots import assert_objects_match, own_objects
from tests.stack import Manifests, Stack, synth_stack
from tests.tools import require_tool
from vaultaio_constructs.alertmanager.construct import Alertmanager
from vaultaio_constructs.common import SecretKeyRef
from vaultaio_constructs.component import StackChart
from vaultaio_constructs.output import Manifest, render
from vaultaio_constructs.profiles import Profile
from vaultaio_constructs.prometheus.config import REMOTE_WRITE_FLAG, ScrapeProtocol
from vaultaio_constructs.prometheus.construct import Prometheus
from vaultaio_constructs.prometheus.props import PrometheusProps
from vaultaio_constructs.scrape import ScrapeTarget
from vaultaio_constructs.settings import SettingsError, parse_settings
from vaultaio_constructs.wiring import Scheme


class PrometheusObjects(Manifests):
    """One Prometheus in a small stack, with an Alertmanager and optional extra targets."""

    def __init__(
        self,
        settings: dict[str, Any] | None = None,
        *,
        extra_targets: tuple[ScrapeTarget, ...] = (),
        profile: Profile = Profile.SMALL,
    ) -> None:
        props = parse_settings({"prometheus": settings or {}}, "test settings").prometheus
        chart = StackChart(cdk8s.App(), "test", profile=profile)
        self.prometheus = Prometheus(chart, "Prometheus", props)
        alertmanager = Alertmanager(chart, "Alertmanager")
        self.prometheus.use_alertmanager(alertmanager)
        self.prometheus.add_scrape_target(self.prometheus.metrics_target)
        self.prometheus.add_scrape_target(alertmanager.metrics_target)
        for target in extra_targets:
            self.prometheus.add_scrape_target(target)
        chart.finish()
        self.manifests: list[Manifest] = render(chart)

    @property
    def pod(self) -> dict[str, Any]:
        template: dict[str, Any] = self.get("StatefulSet", "prometheus")["spec"]["template"]
        return template

    @property
    def args(self) -> list[str]:
        args: list[str] = self.pod["spec"]["containers"][0]["args"]
        return args

    @property
    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = yaml.safe_load(
            self.get("ConfigMap", "prometheus-config")["data"]["prometheus.yml"]
        )
        return config


@pytest.fixture(scope="module")
def default() -> PrometheusObjects:
    return PrometheusObjects()


def _jobs(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {job["job_name"]: job for job in config["scrape_configs"]}


def test_default_stack_prometheus_objects(stack: Stack) -> None:
    selected = stack.of_component("prometheus")
    assert {(m.kind, m.name) for m in selected} == {
        ("ServiceAccount", "prometheus"),
        ("Service", "prometheus"),
        ("ConfigMap", "prometheus-config"),
        ("ConfigMap", "prometheus-rules"),
        ("StatefulSet", "prometheus"),
    }


def test_prometheus_alone_snapshot(default: PrometheusObjects, snapshot: SnapshotAssertion) -> None:
    """Prometheus alone in a small stack: its objects and policies, one snapshot each (dist/: the default)."""
    assert_objects_match(snapshot, own_objects(default.manifests, "prometheus"), what="Prometheus alone")


def test_default_stack_scrapes_every_component(stack: Stack) -> None:
    config = yaml.safe_load(stack.config_data("prometheus-config")["prometheus.yml"])
    jobs = _jobs(config)
    assert {"vault", "prometheus", "alertmanager", "grafana", "loki", "tempo"} <= set(jobs)
    vault = jobs["vault"]
    assert vault["dns_sd_configs"] == [
        {"names": ["vault-internal.vault-aio.svc.cluster.local"], "type": "A", "port": 8202}
    ]
    assert vault["metrics_path"] == "/v1/sys/metrics"
    assert vault["params"] == {"format": ["prometheus"]}
    assert vault["scheme"] == "https"
    assert vault["tls_config"]["server_name"] == "vault.vault-aio.svc"
    # The CA file the config names is the Secret key mounted into the pod.
    ca_file = vault["tls_config"]["ca_file"]
    sts = stack.get("StatefulSet", "prometheus")["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m["name"] for m in sts["containers"][0]["volumeMounts"]}
    volumes = {v["name"]: v for v in sts["volumes"]}
    directory, key = ca_file.rsplit("/", 1)
    secret = volumes[mounts[directory]]["secret"]
    assert [item["key"] for item in secret["items"]] == [key]
    assert config["alerting"]["alertmanagers"][0]["static_configs"] == [
        {"targets": [stack.chart.alertmanager.web.address]}
    ]
    for policy in (
        "allow-prometheus-to-vault",
        "allow-prometheus-to-loki",
        "allow-prometheus-to-alertmanager",
    ):
        assert stack.has("NetworkPolicy", policy), policy


@pytest.fixture(scope="module")
def tls_off() -> Stack:
    return synth_stack({"vault": {"tls": {"enabled": False}}})


@pytest.mark.parametrize("variant", ["default", "tls-off"])
def test_stack_config_passes_promtool_with_the_files_the_pod_mounts(
    variant: str, stack: Stack, tls_off: Stack, tmp_path: Path
) -> None:
    manifests = stack if variant == "default" else tls_off
    output = check_config_as_mounted(manifests.objects, tmp_path)
    rules = yaml.safe_load(manifests.config_data("prometheus-rules")["vault-aio.yaml"])
    count = sum(len(group["rules"]) for group in rules["groups"])
    assert count > 20
    assert f"SUCCESS: {count} rules found" in output, output


def test_promtool_full_check_reads_the_mounted_rules(stack: Stack, tmp_path: Path) -> None:
    """The config's rules glob matches the mounted rule file, so promtool parses the rules too."""
    output = check_config_as_mounted(stack.objects, tmp_path / "ok")
    assert "rules found" in output
    (rule_file,) = (tmp_path / "ok").glob("etc/prometheus/rules/*.yaml")
    rule_file.write_text("groups:\n- name: broken\n  rules:\n  - alert: X\n    expr: up ==\n")
    promtool = require_tool("promtool")
    result = subprocess.run(
        [promtool, "check", "config", str(tmp_path / "ok" / "prometheus.rebased.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert 'group "broken", rule 1, "X": could not parse expression' in result.stdout + result.stderr


def test_default_stack_rules_pass_promtool_lints(stack: Stack, tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    rules = tmp_path / "vault-aio.yaml"
    rules.write_text(stack.config_data("prometheus-rules")["vault-aio.yaml"])
    result = subprocess.run(
        [promtool, "check", "rules", "--lint=all", "--lint-fatal", str(rules)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_statefulset_keeps_data_on_the_pvc(default: PrometheusObjects) -> None:
    sts = default.get("StatefulSet", "prometheus")["spec"]
    assert sts["replicas"] == 1
    (claim,) = sts["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert sts["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    mounts = {m["name"]: m["mountPath"] for m in sts["template"]["spec"]["containers"][0]["volumeMounts"]}
    assert mounts["data"] == "/prometheus"
    assert "--storage.tsdb.path=/prometheus" in default.args


def test_container_is_restricted_and_receives_remote_write(default: PrometheusObjects) -> None:
    spec = default.pod["spec"]
    (container,) = spec["containers"]
    assert container["image"] == "quay.io/prometheus/prometheus:v3.14.0"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert spec["securityContext"]["runAsUser"] == 65534
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    assert REMOTE_WRITE_FLAG in default.args
    assert container["readinessProbe"]["httpGet"]["path"] == "/-/ready"
    assert default.prometheus.remote_write_endpoint.url == "http://prometheus.vault-aio.svc:9090/api/v1/write"


def test_no_kubernetes_api_access(stack: Stack) -> None:
    assert not stack.has("NetworkPolicy", "allow-prometheus-to-kube-apiserver")
    assert not [
        r for r in stack.all("Role") + stack.all("ClusterRole") if "prometheus" in r["metadata"]["name"]
    ]


def test_retention_defaults_to_80_percent_of_the_volume(default: PrometheusObjects) -> None:
    assert "--storage.tsdb.retention.time=15d" in default.args
    assert "--storage.tsdb.retention.size=8GB" in default.args


def test_settings_reach_args_config_and_rules() -> None:
    objects = PrometheusObjects(
        {
            "storage_gib": 50,
            "retention_days": 30,
            "retention_size_gib": 40,
            "scrape_interval_seconds": 60,
            "external_labels": {"cluster": "prod"},
            "alerts": {
                "runbook_base_url": "https://wiki.example.org/vault-runbook",
                "thresholds": {"lease_count": 5000},
            },
        }
    )
    assert "--storage.tsdb.retention.time=30d" in objects.args
    assert "--storage.tsdb.retention.size=40GB" in objects.args
    assert objects.config["global"]["scrape_interval"] == "60s"
    assert objects.config["global"]["external_labels"] == {"cluster": "prod"}
    rules = objects.get("ConfigMap", "prometheus-rules")["data"]["vault-aio.yaml"]
    assert 'max(vault_expire_num_leases{job="vault"}) > 5000' in rules
    assert "https://wiki.example.org/vault-runbook#vaultsealed" in rules


def test_config_checksum_rolls_the_pod_on_change(default: PrometheusObjects) -> None:
    other = PrometheusObjects({"scrape_interval_seconds": 15})
    key = "vault-aio.io/config-checksum"
    assert default.pod["metadata"]["annotations"][key] != other.pod["metadata"]["annotations"][key]


def test_user_scrape_target_is_wired_and_its_ca_mounted() -> None:
    chart = StackChart(cdk8s.App(), "extra")
    prometheus = Prometheus(chart, "Prometheus")
    alertmanager = Alertmanager(chart, "Alertmanager")
    endpoint = alertmanager.endpoint(port_name="metrics", port=8443, scheme=Scheme.HTTPS)
    prometheus.add_scrape_target(
        ScrapeTarget(
            job="my-app",
            endpoint=endpoint,
            ca=SecretKeyRef(name="my-app-tls", key="ca.crt"),
            scrape_interval_seconds=60,
            fallback_scrape_protocol=ScrapeProtocol.OPENMETRICS_TEXT_1_0_0,
        )
    )
    chart.finish()
    manifests = render(chart)
    config = yaml.safe_load(
        next(m.body for m in manifests if m.name == "prometheus-config")["data"]["prometheus.yml"]
    )
    job = _jobs(config)["my-app"]
    assert job["static_configs"] == [{"targets": ["alertmanager.vault-aio.svc:8443"]}]
    assert job["tls_config"]["ca_file"] == "/etc/prometheus/secrets/my-app-tls/ca.crt"
    assert job["scrape_interval"] == "60s"
    assert job["fallback_scrape_protocol"] == "OpenMetricsText1.0.0"
    assert all(
        "fallback_scrape_protocol" not in other for name, other in _jobs(config).items() if name != "my-app"
    )
    assert any(m.kind == "NetworkPolicy" and m.name == "allow-prometheus-to-alertmanager" for m in manifests)
    pod = next(m.body for m in manifests if m.kind == "StatefulSet" and m.name == "prometheus")["spec"][
        "template"
    ]
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["secret-my-app-tls"]["secret"]["secretName"] == "my-app-tls"
    mounts = {m["name"]: m["mountPath"] for m in pod["spec"]["containers"][0]["volumeMounts"]}
    assert mounts["secret-my-app-tls"] == "/etc/prometheus/secrets/my-app-tls"


def test_loki_rule_file_uses_the_stack_namespace(default: PrometheusObjects) -> None:
    name, content = default.prometheus.loki_rule_file
    assert name == "vault-audit.yaml"
    (rule,) = yaml.safe_load(content)["groups"][0]["rules"]
    assert rule["alert"] == "VaultLoginFailuresSpike"
    assert 'namespace="vault-aio"' in rule["expr"]


def test_production_profile_sizes() -> None:
    objects = PrometheusObjects(profile=Profile.PRODUCTION)
    (claim,) = objects.get("StatefulSet", "prometheus")["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "100Gi"
    assert "--storage.tsdb.retention.size=80GB" in objects.args


def test_fails_duplicate_scrape_job(default: PrometheusObjects) -> None:
    with pytest.raises(ValueError, match="prometheus already scrapes a job named 'prometheus'"):
        default.prometheus.add_scrape_target(default.prometheus.metrics_target)


def test_fails_retention_size_not_below_volume() -> None:
    with pytest.raises(ValueError, match=r"'retention_size_gib' \(10\) must be < 'storage_gib' \(10\)"):
        Prometheus(
            StackChart(cdk8s.App(), "t"), "Prometheus", PrometheusProps(storage_gib=10, retention_size_gib=10)
        )


def test_fails_unknown_or_invalid_setting() -> None:
    with pytest.raises(SettingsError, match=r"prometheus.retention: unknown setting"):
        parse_settings({"prometheus": {"retention": 3}})
    with pytest.raises(SettingsError, match=r"prometheus.retention_days"):
        parse_settings({"prometheus": {"retention_days": 0}})
    with pytest.raises(SettingsError, match=r"tls_cert_critical_days"):
        parse_settings({"prometheus": {"alerts": {"thresholds": {"tls_cert_critical_days": 60}}}})
