"""The Tempo construct: StatefulSet on a PVC, OTLP ports, optional metrics-generator wiring, settings."""

from __future__ import annotations

from typing import Any

import cdk8s
import pytest
import yaml
from syrupy.assertion import SnapshotAssertion

from tests.snapshots import assert_objects_match, own_objects
from tests.stack import Manifests, Stack
from vaultaio_constructs.component import StackChart
from vaultaio_constructs.output import Manifest, render
from vaultaio_constructs.prometheus.construct import Prometheus
from vaultaio_constructs.settings import SettingsError, parse_settings
from vaultaio_constructs.tempo.config import TEMPO_CONFIG_DIR, TEMPO_DATA_DIR
from vaultaio_constructs.tempo.construct import Tempo
from vaultaio_constructs.workload import config_checksum


class TempoObjects(Manifests):
    """One Tempo in a small stack, optionally remote-writing to a Prometheus."""

    def __init__(self, settings: dict[str, Any] | None = None, *, prometheus: bool = False) -> None:
        props = parse_settings({"tempo": settings or {}}, "test settings").tempo
        chart = StackChart(cdk8s.App(), "test")
        self.tempo = Tempo(chart, "Tempo", props)
        if prometheus:
            self.tempo.remote_write_to(Prometheus(chart, "Prometheus"))
        chart.finish()
        self.manifests: list[Manifest] = render(chart)

    @property
    def pod(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.get("StatefulSet", "tempo")["spec"]["template"]
        return spec

    @property
    def container(self) -> dict[str, Any]:
        (c,) = self.pod["spec"]["containers"]
        assert isinstance(c, dict)
        return c

    @property
    def config(self) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load(self.get("ConfigMap", "tempo-config")["data"]["tempo.yaml"])
        return data


@pytest.fixture(scope="module")
def default() -> TempoObjects:
    return TempoObjects()


def test_default_stack_tempo_objects(stack: Stack) -> None:
    selected = stack.of_component("tempo")
    assert {(m.kind, m.name) for m in selected} == {
        ("ServiceAccount", "tempo"),
        ("Service", "tempo"),
        ("ConfigMap", "tempo-config"),
        ("StatefulSet", "tempo"),
    }


def test_tempo_alone_snapshot(default: TempoObjects, snapshot: SnapshotAssertion) -> None:
    """Tempo alone in a small stack: its objects and policies, one snapshot each (dist/: the default)."""
    assert_objects_match(snapshot, own_objects(default.manifests, "tempo"), what="Tempo alone")


def test_default_stack_admits_alloy_on_otlp_grpc_and_grafana_on_http(stack: Stack) -> None:
    from_alloy = stack.get("NetworkPolicy", "allow-tempo-from-alloy")["spec"]
    assert {p["port"] for r in from_alloy["ingress"] for p in r["ports"]} == {4317}
    from_grafana = stack.get("NetworkPolicy", "allow-tempo-from-grafana")["spec"]
    assert {p["port"] for r in from_grafana["ingress"] for p in r["ports"]} == {3200}


def test_statefulset_keeps_traces_on_the_pvc(default: TempoObjects) -> None:
    sts = default.get("StatefulSet", "tempo")["spec"]
    assert sts["replicas"] == 1
    (claim,) = sts["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["resources"]["requests"]["storage"] == "5Gi"
    mounts = {m["name"]: m for m in default.container["volumeMounts"]}
    assert mounts["data"]["mountPath"] == TEMPO_DATA_DIR
    assert mounts["config"] == {"name": "config", "mountPath": TEMPO_CONFIG_DIR, "readOnly": True}
    trace = default.config["storage"]["trace"]
    assert trace["wal"]["path"].startswith(TEMPO_DATA_DIR + "/")
    assert trace["local"]["path"].startswith(TEMPO_DATA_DIR + "/")


def test_ports_service_and_probe(default: TempoObjects) -> None:
    ports = {(p["name"], p["containerPort"]) for p in default.container["ports"]}
    assert ports == {("http", 3200), ("otlp-grpc", 4317), ("otlp-http", 4318)}
    svc = default.get("Service", "tempo")["spec"]["ports"]
    assert {(p["name"], p["port"], p["targetPort"]) for p in svc} == {
        ("http", 3200, "http"),
        ("otlp-grpc", 4317, "otlp-grpc"),
        ("otlp-http", 4318, "otlp-http"),
    }
    assert default.container["readinessProbe"]["httpGet"] == {
        "path": "/ready",
        "port": "http",
        "scheme": "HTTP",
    }
    assert default.container["args"] == ["-config.file=/etc/tempo/tempo.yaml"]


def test_restricted_as_the_tempo_user(default: TempoObjects) -> None:
    psc = default.pod["spec"]["securityContext"]
    assert (psc["runAsUser"], psc["runAsGroup"], psc["fsGroup"], psc["runAsNonRoot"]) == (
        10001,
        10001,
        10001,
        True,
    )
    sc = default.container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["capabilities"] == {"drop": ["ALL"]}
    text = default.get("ConfigMap", "tempo-config")["data"]["tempo.yaml"]
    annotation = default.pod["metadata"]["annotations"]["vault-aio.io/config-checksum"]
    assert annotation == config_checksum(text)


def test_no_metrics_generator_unless_wired(default: TempoObjects) -> None:
    assert "metrics_generator" not in default.config
    assert not default.has("NetworkPolicy", "allow-tempo-to-prometheus")


def test_remote_write_to_prometheus_enables_the_metrics_generator() -> None:
    objs = TempoObjects(prometheus=True)
    remote = objs.config["metrics_generator"]["storage"]["remote_write"]
    assert remote == [{"url": "http://prometheus.vault-aio.svc:9090/api/v1/write", "send_exemplars": False}]
    policy = objs.get("NetworkPolicy", "allow-tempo-to-prometheus")["spec"]
    assert {p["port"] for r in policy["egress"] for p in r["ports"]} == {9090}


def test_metrics_generator_setting_off_wins() -> None:
    objs = TempoObjects({"metrics_generator": False}, prometheus=True)
    assert "metrics_generator" not in objs.config
    assert not objs.has("NetworkPolicy", "allow-tempo-to-prometheus")


def test_settings_reach_the_config() -> None:
    objs = TempoObjects(
        {"retention_hours": 72, "log_level": "debug", "storage_gib": 20, "image_tag": "2.10.7"}
    )
    assert objs.config["compactor"]["compaction"]["block_retention"] == "72h"
    assert objs.config["server"]["log_level"] == "debug"
    claim = objs.get("StatefulSet", "tempo")["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert objs.container["image"] == "docker.io/grafana/tempo:2.10.7"


def test_public_endpoints(default: TempoObjects) -> None:
    assert default.tempo.otlp_grpc.address == "tempo.vault-aio.svc:4317"
    assert default.tempo.query_endpoint.url == "http://tempo.vault-aio.svc:3200"
    assert default.tempo.metrics_target.job == "tempo"


def test_fails_retention_below_one_hour() -> None:
    with pytest.raises(SettingsError, match=r"tempo.retention_hours"):
        parse_settings({"tempo": {"retention_hours": 0}})


def test_fails_unknown_setting() -> None:
    with pytest.raises(SettingsError, match=r"tempo.retention_days: unknown setting"):
        parse_settings({"tempo": {"retention_days": 7}})
