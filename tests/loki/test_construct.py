"""The Loki construct: StatefulSet on a PVC, config and rules mounts, wiring, settings, validation."""

from __future__ import annotations

from typing import Any

import cdk8s
import pytest
import yaml
from syrupy.assertion import SnapshotAssertion

from tests.snapshots import assert_objects_match, own_objects
from tests.stack import Manifests, Stack
from vaultaio_constructs.alertmanager.construct import Alertmanager
from vaultaio_constructs.component import StackChart
from vaultaio_constructs.loki.config import LOKI_CONFIG_DIR, LOKI_DATA_DIR, LOKI_TENANT_RULES_DIR
from vaultaio_constructs.loki.construct import Loki
from vaultaio_constructs.loki.props import LokiProps
from vaultaio_constructs.output import Manifest, render
from vaultaio_constructs.profiles import Profile
from vaultaio_constructs.settings import SettingsError, parse_settings
from vaultaio_constructs.workload import config_checksum

RULES = """groups:
  - name: example
    rules:
      - alert: Example
        expr: sum(count_over_time({job="kubernetes-pods"}[5m])) > 1000
"""


class LokiObjects(Manifests):
    """One Loki in a small stack (optionally with an Alertmanager and rule files)."""

    def __init__(
        self,
        settings: dict[str, Any] | None = None,
        *,
        alertmanager: bool = True,
        rules: dict[str, str] | None = None,
        profile: Profile = Profile.SMALL,
    ) -> None:
        props = parse_settings({"loki": settings or {}}, "test settings").loki
        chart = StackChart(cdk8s.App(), "test", profile=profile)
        self.loki = Loki(chart, "Loki", props)
        if alertmanager:
            self.loki.use_alertmanager(Alertmanager(chart, "Alertmanager"))
        for name, content in (rules or {}).items():
            self.loki.add_rules(name, content)
        chart.finish()
        self.manifests: list[Manifest] = render(chart)

    @property
    def pod(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.get("StatefulSet", "loki")["spec"]["template"]
        return spec

    @property
    def container(self) -> dict[str, Any]:
        (c,) = self.pod["spec"]["containers"]
        assert isinstance(c, dict)
        return c

    @property
    def config(self) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load(self.get("ConfigMap", "loki-config")["data"]["loki.yaml"])
        return data


@pytest.fixture(scope="module")
def default() -> LokiObjects:
    return LokiObjects()


def test_default_stack_loki_objects(stack: Stack) -> None:
    selected = stack.of_component("loki")
    assert {(m.kind, m.name) for m in selected} == {
        ("ServiceAccount", "loki"),
        ("Service", "loki"),
        ("ConfigMap", "loki-config"),
        ("ConfigMap", "loki-rules"),
        ("StatefulSet", "loki"),
    }


def test_loki_alone_snapshot(default: LokiObjects, snapshot: SnapshotAssertion) -> None:
    """Loki alone in a small stack: its objects and policies, one snapshot each (dist/: the default)."""
    assert_objects_match(snapshot, own_objects(default.manifests, "loki"), what="Loki alone")


def test_default_stack_wires_alloy_grafana_prometheus_and_alertmanager(stack: Stack) -> None:
    for policy in (
        "allow-loki-from-alloy",
        "allow-loki-from-grafana",
        "allow-loki-from-prometheus",
        "allow-loki-to-alertmanager",
    ):
        assert stack.has("NetworkPolicy", policy), policy
    from_alloy = stack.get("NetworkPolicy", "allow-loki-from-alloy")["spec"]
    assert {p["port"] for r in from_alloy["ingress"] for p in r["ports"]} == {3100}
    config = yaml.safe_load(stack.config_data("loki-config")["loki.yaml"])
    assert config["ruler"]["alertmanager_url"] == stack.chart.alertmanager.web.url


def test_statefulset_keeps_data_on_the_pvc(default: LokiObjects) -> None:
    sts = default.get("StatefulSet", "loki")["spec"]
    assert sts["replicas"] == 1
    (claim,) = sts["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    mounts = {m["name"]: m for m in default.container["volumeMounts"]}
    assert mounts["data"]["mountPath"] == LOKI_DATA_DIR
    assert mounts["config"] == {"name": "config", "mountPath": LOKI_CONFIG_DIR, "readOnly": True}
    assert mounts["rules"] == {"name": "rules", "mountPath": LOKI_TENANT_RULES_DIR, "readOnly": True}


def test_container_runs_the_rendered_config_restricted(default: LokiObjects) -> None:
    c = default.container
    assert c["image"] == "docker.io/grafana/loki:3.7.6"
    assert c["args"] == ["-config.file=/etc/loki/config/loki.yaml", "-target=all"]
    assert c["ports"] == [{"containerPort": 3100, "name": "http", "protocol": "TCP"}]
    assert c["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http", "scheme": "HTTP"}
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["capabilities"] == {"drop": ["ALL"]}
    psc = default.pod["spec"]["securityContext"]
    assert (psc["runAsUser"], psc["runAsGroup"], psc["fsGroup"], psc["runAsNonRoot"]) == (
        10001,
        10001,
        10001,
        True,
    )
    assert default.pod["spec"]["automountServiceAccountToken"] is False


def test_config_checksum_rolls_the_pod_on_change(default: LokiObjects) -> None:
    text = default.get("ConfigMap", "loki-config")["data"]["loki.yaml"]
    annotation = default.pod["metadata"]["annotations"]["vault-aio.io/config-checksum"]
    assert annotation == config_checksum(text)
    with_rules = LokiObjects(rules={"example.yaml": RULES})
    assert with_rules.pod["metadata"]["annotations"]["vault-aio.io/config-checksum"] != annotation


def test_rules_become_the_tenant_rule_directory() -> None:
    objs = LokiObjects(rules={"example.yaml": RULES})
    assert objs.get("ConfigMap", "loki-rules")["data"] == {"example.yaml": RULES}
    volumes = {v["name"]: v for v in objs.pod["spec"]["volumes"]}
    assert volumes["rules"]["configMap"]["name"] == "loki-rules"


def test_settings_reach_the_config() -> None:
    objs = LokiObjects(
        {
            "retention_days": 30,
            "ingestion_rate_mb": 2,
            "ingestion_burst_size_mb": 4,
            "max_global_streams": 1000,
            "log_level": "warn",
            "storage_gib": 25,
            "image_tag": "3.7.5",
            "deletion_mode": "filter-only",
        }
    )
    limits = objs.config["limits_config"]
    assert limits["deletion_mode"] == "filter-only"
    assert limits["retention_period"] == "720h"
    assert (limits["ingestion_rate_mb"], limits["ingestion_burst_size_mb"]) == (2, 4)
    assert limits["max_global_streams_per_user"] == 1000
    assert objs.config["server"]["log_level"] == "warn"
    claim = objs.get("StatefulSet", "loki")["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "25Gi"
    assert objs.container["image"] == "docker.io/grafana/loki:3.7.5"


def test_production_profile_sizes() -> None:
    objs = LokiObjects(profile=Profile.PRODUCTION)
    claim = objs.get("StatefulSet", "loki")["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "100Gi"
    assert objs.container["resources"]["requests"]["memory"] == "2048Mi"


def test_without_alertmanager_the_ruler_only_evaluates() -> None:
    objs = LokiObjects(alertmanager=False)
    assert "alertmanager_url" not in objs.config["ruler"]
    assert not [m for m in objs.manifests if m.kind == "NetworkPolicy" and "alertmanager" in m.name]


def test_public_endpoints(default: LokiObjects) -> None:
    assert default.loki.push_endpoint.url == "http://loki.vault-aio.svc:3100/loki/api/v1/push"
    assert default.loki.query_endpoint.url == "http://loki.vault-aio.svc:3100"
    assert default.loki.metrics_target.job == "loki"


def test_fails_duplicate_rule_file() -> None:
    chart = StackChart(cdk8s.App(), "test")
    loki = Loki(chart, "Loki")
    loki.add_rules("a.yaml", RULES)
    with pytest.raises(ValueError, match=r"loki already has a rule file named 'a.yaml'"):
        loki.add_rules("a.yaml", RULES)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("rules.txt", RULES, r"rule file name must be a plain \*.yaml or \*.yml name, got 'rules.txt'"),
        ("../x.yaml", RULES, r"rule file name must be a plain"),
        ("bad.yaml", "groups: [", r"rule file 'bad.yaml' is not valid YAML"),
        ("list.yaml", "- a\n", r"rule file 'list.yaml' must be a mapping with a 'groups' list"),
    ],
)
def test_fails_bad_rule_file(name: str, content: str, message: str) -> None:
    loki = Loki(StackChart(cdk8s.App(), "test"), "Loki")
    with pytest.raises(ValueError, match=message):
        loki.add_rules(name, content)


def test_fails_burst_below_rate() -> None:
    with pytest.raises(
        ValueError, match=r"'ingestion_burst_size_mb' \(1\.0\) must be >= 'ingestion_rate_mb' \(2\.0\)"
    ):
        LokiProps(ingestion_rate_mb=2, ingestion_burst_size_mb=1)


def test_fails_old_samples_beyond_retention() -> None:
    with pytest.raises(
        SettingsError, match=r"'reject_old_samples_max_age_hours' \(168\) must be <= 'retention_days'"
    ):
        parse_settings({"loki": {"retention_days": 1}})


def test_fails_unknown_or_invalid_setting() -> None:
    with pytest.raises(SettingsError, match=r"loki.retention: unknown setting"):
        parse_settings({"loki": {"retention": 3}})
    with pytest.raises(SettingsError, match=r"loki.retention_days"):
        parse_settings({"loki": {"retention_days": 0}})
