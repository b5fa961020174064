"""The Alertmanager construct: StatefulSet on a PVC, config from settings, Secret files, egress, amtool."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import cdk8s
import pytest
import yaml
from syrupy.assertion import SnapshotAssertion

from tests.podfs import files_named, materialize
from tests.snapshots import assert_objects_match, own_objects
from tests.stack import Manifests, Stack, synth_stack
from tests.tools import require_tool
from vaultaio_constructs.alertmanager.construct import Alertmanager
from vaultaio_constructs.component import StackChart
from vaultaio_constructs.output import Manifest, render
from vaultaio_constructs.profiles import Profile
from vaultaio_constructs.settings import SettingsError, parse_settings

NOTIFICATIONS: dict[str, Any] = {
    "webhook_receivers": [
        {
            "name": "ops-hook",
            "url": "https://hooks.example.org/alerts",
            "cidrs": ["203.0.113.10/32"],
            "bearer_token": {"name": "am-webhook", "key": "token"},
        },
        {
            "name": "chat-hook",
            "url_secret": {"name": "am-chat", "key": "url"},
            "host": "chat.example.org",
            "cidrs": ["203.0.113.30/32"],
        },
    ],
    "email_receivers": [
        {
            "name": "ops-mail",
            "to": "ops@example.org",
            "from_address": "vault-aio@example.org",
            "smarthost": "smtp.example.org",
            "cidrs": ["203.0.113.20/32"],
            "auth_username": "vault-aio",
            "auth_password": {"name": "am-smtp", "key": "password"},
        }
    ],
    "slack_receivers": [
        {"name": "ops-slack", "api_url": {"name": "am-slack", "key": "url"}, "cidrs": ["198.51.100.0/24"]}
    ],
    "pagerduty_receivers": [
        {
            "name": "oncall",
            "routing_key": {"name": "am-pagerduty", "key": "routing-key"},
            "cidrs": ["198.51.100.128/25"],
        }
    ],
    "routes": [
        {"severities": ["critical"], "receiver": "oncall"},
        {"severities": ["critical", "warning"], "receiver": "ops-slack"},
        {"severities": ["warning"], "receiver": "ops-mail"},
        {"severities": ["critical"], "receiver": "ops-hook"},
        {"severities": ["critical"], "receiver": "chat-hook"},
    ],
}


class AlertmanagerObjects(Manifests):
    """One Alertmanager in a small stack."""

    def __init__(self, settings: dict[str, Any] | None = None, *, profile: Profile = Profile.SMALL) -> None:
        props = parse_settings({"alertmanager": settings or {}}, "test settings").alertmanager
        chart = StackChart(cdk8s.App(), "test", profile=profile)
        self.alertmanager = Alertmanager(chart, "Alertmanager", props)
        chart.finish()
        self.manifests: list[Manifest] = render(chart)

    @property
    def pod(self) -> dict[str, Any]:
        template: dict[str, Any] = self.get("StatefulSet", "alertmanager")["spec"]["template"]
        return template

    @property
    def config_text(self) -> str:
        text: str = self.get("ConfigMap", "alertmanager-config")["data"]["alertmanager.yml"]
        return text


@pytest.fixture(scope="module")
def default() -> AlertmanagerObjects:
    return AlertmanagerObjects()


@pytest.fixture(scope="module")
def receivers() -> AlertmanagerObjects:
    return AlertmanagerObjects({"notifications": NOTIFICATIONS})


def _amtool(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    amtool = require_tool("amtool")
    path = tmp_path / "alertmanager.yml"
    path.write_text(text)
    return subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True, check=False)


def test_default_stack_alertmanager_objects(stack: Stack) -> None:
    selected = stack.of_component("alertmanager")
    assert {(m.kind, m.name) for m in selected} == {
        ("ServiceAccount", "alertmanager"),
        ("Service", "alertmanager"),
        ("ConfigMap", "alertmanager-config"),
        ("StatefulSet", "alertmanager"),
    }


def test_alertmanager_alone_snapshot(default: AlertmanagerObjects, snapshot: SnapshotAssertion) -> None:
    """Alertmanager alone in a small stack: its objects and policies, one snapshot each."""
    assert_objects_match(snapshot, own_objects(default.manifests, "alertmanager"), what="Alertmanager alone")


def test_default_config_passes_amtool(default: AlertmanagerObjects, tmp_path: Path) -> None:
    result = _amtool(tmp_path, default.config_text)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_receiver_type_passes_amtool(receivers: AlertmanagerObjects, tmp_path: Path) -> None:
    result = _amtool(tmp_path, receivers.config_text)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 receivers" in result.stdout


def test_default_sends_nothing_out(default: AlertmanagerObjects) -> None:
    config = yaml.safe_load(default.config_text)
    assert config["route"]["receiver"] == "null"
    assert config["receivers"] == [{"name": "null"}]
    assert not [
        m
        for m in default.manifests
        if m.kind == "NetworkPolicy" and m.name.startswith("allow-alertmanager-to")
    ]
    assert "inhibit_rules" in config


def test_statefulset_keeps_silences_on_the_pvc(default: AlertmanagerObjects) -> None:
    sts = default.get("StatefulSet", "alertmanager")["spec"]
    (claim,) = sts["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"
    assert sts["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    (container,) = sts["template"]["spec"]["containers"]
    assert "--storage.path=/alertmanager" in container["args"]
    assert {m["name"]: m["mountPath"] for m in container["volumeMounts"]}["data"] == "/alertmanager"


def test_container_is_restricted_without_gossip(default: AlertmanagerObjects) -> None:
    spec = default.pod["spec"]
    (container,) = spec["containers"]
    assert container["image"] == "quay.io/prometheus/alertmanager:v0.34.0"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert spec["securityContext"]["runAsUser"] == 65534
    assert "--cluster.listen-address=" in container["args"]
    assert [p["containerPort"] for p in container["ports"]] == [9093]


def test_receiver_secrets_are_mounted_files(receivers: AlertmanagerObjects) -> None:
    spec = receivers.pod["spec"]
    volumes = {v["name"]: v for v in spec["volumes"] if "secret" in v}
    assert {v["secret"]["secretName"] for v in volumes.values()} == {
        "am-chat",
        "am-pagerduty",
        "am-slack",
        "am-smtp",
        "am-webhook",
    }
    mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
    config = yaml.safe_load(receivers.config_text)
    by_name = {r["name"]: r for r in config["receivers"]}
    path = by_name["ops-slack"]["slack_configs"][0]["api_url_file"]
    assert path == f"{mounts['secret-am-slack']}/url"
    assert volumes["secret-am-slack"]["secret"]["items"] == [{"key": "url", "path": "url"}]
    assert "Secret" not in {m.kind for m in receivers.manifests}


def test_every_file_the_config_names_is_mounted(receivers: AlertmanagerObjects, tmp_path: Path) -> None:
    """amtool does not open ``*_file`` paths: check each one is a file the pod mounts from its Secret."""
    written = materialize(receivers.objects, receivers.pod["spec"], "alertmanager", tmp_path)
    named = files_named(yaml.safe_load(receivers.config_text))
    assert len(named) == 5  # bearer token, webhook URL, SMTP password, Slack URL, PagerDuty key
    assert set(named) <= set(written), f"named but not mounted: {sorted(set(named) - set(written))}"
    chat = (tmp_path / "etc/alertmanager/secrets/am-chat/url").read_text()
    assert "key url of Secret am-chat" in chat


def test_each_receiver_gets_its_own_egress(receivers: AlertmanagerObjects) -> None:
    policy = receivers.get("NetworkPolicy", "allow-alertmanager-to-ops-mail")["spec"]
    (rule,) = policy["egress"]
    assert rule["to"] == [{"ipBlock": {"cidr": "203.0.113.20/32"}}]
    assert rule["ports"] == [{"port": 587, "protocol": "TCP"}]
    for name in ("ops-hook", "ops-slack", "oncall"):
        assert receivers.has("NetworkPolicy", f"allow-alertmanager-to-{name}"), name
    chat = receivers.get("NetworkPolicy", "allow-alertmanager-to-chat-hook")["spec"]
    assert chat["egress"] == [
        {"to": [{"ipBlock": {"cidr": "203.0.113.30/32"}}], "ports": [{"port": 443, "protocol": "TCP"}]}
    ]


def test_settings_reach_the_config(receivers: AlertmanagerObjects) -> None:
    objects = AlertmanagerObjects({"data_retention_hours": 240, "notifications": {"repeat_interval": "12h"}})
    assert "--data.retention=240h" in objects.pod["spec"]["containers"][0]["args"]
    assert yaml.safe_load(objects.config_text)["route"]["repeat_interval"] == "12h"
    key = "vault-aio.io/config-checksum"
    assert objects.pod["metadata"]["annotations"][key] != receivers.pod["metadata"]["annotations"][key]


def test_default_stack_receives_alerts_from_prometheus_and_loki(stack: Stack) -> None:
    for policy in ("allow-alertmanager-from-prometheus", "allow-alertmanager-from-loki"):
        assert stack.has("NetworkPolicy", policy), policy


# -- a gossip cluster ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster() -> AlertmanagerObjects:
    return AlertmanagerObjects({"replicas": 3})


def test_default_opens_no_cluster_port(default: AlertmanagerObjects) -> None:
    assert not default.has("Service", "alertmanager-internal")
    assert not default.all("PodDisruptionBudget")
    sts = default.get("StatefulSet", "alertmanager")["spec"]
    assert sts["serviceName"] == "alertmanager" and sts["replicas"] == 1
    assert not [a for a in default.pod["spec"]["containers"][0]["args"] if a.startswith("--cluster.peer")]


def test_cluster_peers_are_every_pod_through_the_headless_service(cluster: AlertmanagerObjects) -> None:
    sts = cluster.get("StatefulSet", "alertmanager")["spec"]
    assert sts["replicas"] == 3 and sts["podManagementPolicy"] == "Parallel"
    # the headless Service governs the StatefulSet: that is what gives each pod its DNS name
    assert sts["serviceName"] == "alertmanager-internal"
    peers = cluster.get("Service", "alertmanager-internal")["spec"]
    assert peers["clusterIP"] == "None" and peers["publishNotReadyAddresses"] is True
    assert {(p["name"], p["port"], p["protocol"]) for p in peers["ports"]} == {
        ("web", 9093, "TCP"),
        ("mesh-tcp", 9094, "TCP"),
        ("mesh-udp", 9094, "UDP"),
    }
    (container,) = sts["template"]["spec"]["containers"]
    assert {(p["name"], p["containerPort"], p["protocol"]) for p in container["ports"]} == {
        (p["name"], p["port"], p["protocol"]) for p in peers["ports"]
    }
    args = container["args"]
    assert [a for a in args if a.startswith("--cluster.peer=")] == [
        f"--cluster.peer=alertmanager-{i}.alertmanager-internal.vault-aio.svc:9094" for i in range(3)
    ]
    # listen on (and so advertise) the pod's own address, given by the downward API
    assert "--cluster.listen-address=[$(POD_IP)]:9094" in args
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"


def test_cluster_flags_exist_in_the_pinned_alertmanager(cluster: AlertmanagerObjects) -> None:
    """Every ``--cluster.*`` flag used is one Alertmanager v0.34 defines (cmd/alertmanager/main.go)."""
    flags = {"cluster.listen-address", "cluster.advertise-address", "cluster.peer", "cluster.label"}
    (container,) = cluster.pod["spec"]["containers"]
    used = {a[2:].split("=", 1)[0] for a in container["args"] if a.startswith("--cluster.")}
    assert used and used <= flags


def test_gossip_is_allowed_between_alertmanager_pods_only(cluster: AlertmanagerObjects) -> None:
    selector = cluster.get("StatefulSet", "alertmanager")["spec"]["selector"]["matchLabels"]
    for name, direction, peer_key in (
        ("allow-alertmanager-to-alertmanager", "egress", "to"),
        ("allow-alertmanager-from-alertmanager", "ingress", "from"),
    ):
        spec = cluster.get("NetworkPolicy", name)["spec"]
        assert spec["podSelector"]["matchLabels"] == selector
        (rule,) = spec[direction]
        assert rule[peer_key] == [{"podSelector": {"matchLabels": selector}}]
        assert {(p["port"], p["protocol"]) for p in rule["ports"]} == {(9094, "TCP"), (9094, "UDP")}


def test_cluster_survives_one_disruption_at_a_time(cluster: AlertmanagerObjects) -> None:
    pdb = cluster.get("PodDisruptionBudget", "alertmanager")["spec"]
    assert pdb["maxUnavailable"] == 1
    selector = cluster.get("StatefulSet", "alertmanager")["spec"]["selector"]
    assert pdb["selector"] == selector
    spec = cluster.pod["spec"]
    (term,) = spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert term["podAffinityTerm"]["labelSelector"] == selector
    (spread,) = spec["topologySpreadConstraints"]
    assert spread["whenUnsatisfiable"] == "ScheduleAnyway"


def test_alert_senders_reach_every_replica(ha_stack: Stack) -> None:
    """Prometheus and the Loki ruler send to each Alertmanager pod, not to one behind the Service: the
    cluster deduplicates notifications, it does not forward alerts."""
    pods = [f"alertmanager-{i}.alertmanager-internal.vault-aio.svc:9093" for i in range(3)]
    prometheus = yaml.safe_load(ha_stack.config_data("prometheus-config")["prometheus.yml"])
    (alerting,) = prometheus["alerting"]["alertmanagers"]
    assert alerting["static_configs"] == [{"targets": pods}]
    loki = yaml.safe_load(ha_stack.config_data("loki-config")["loki.yaml"])
    assert loki["ruler"]["alertmanager_url"].split(",") == [f"http://{pod}" for pod in pods]
    # people and Grafana use the Service: silences are shared over gossip
    datasources = yaml.safe_load(ha_stack.config_data("grafana-provisioning")["datasources.yaml"])
    (am,) = [d for d in datasources["datasources"] if d["type"] == "alertmanager"]
    assert am["url"] == "http://alertmanager.vault-aio.svc:9093"


@pytest.mark.parametrize("replicas", [0, 6])
def test_fails_replicas_out_of_range(replicas: int) -> None:
    with pytest.raises(SettingsError, match=r"alertmanager.replicas: Input should be (greater|less) than"):
        parse_settings({"alertmanager": {"replicas": replicas}})


def test_production_profile_sizes() -> None:
    objects = AlertmanagerObjects(profile=Profile.PRODUCTION)
    (claim,) = objects.get("StatefulSet", "alertmanager")["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "2Gi"


def test_fails_route_to_undefined_receiver() -> None:
    with pytest.raises(SettingsError, match="names receiver 'pager', which is not defined"):
        parse_settings(
            {
                "alertmanager": {
                    "notifications": {"routes": [{"severities": ["critical"], "receiver": "pager"}]}
                }
            }
        )


def test_fails_webhook_url_secret_without_host() -> None:
    webhook = {"name": "chat", "url_secret": {"name": "am-chat", "key": "url"}, "cidrs": ["203.0.113.1/32"]}
    with pytest.raises(
        SettingsError,
        match=r"alertmanager\.notifications\.webhook_receivers\.0: webhook receiver 'chat': 'host' is "
        r"required with 'url_secret'",
    ):
        parse_settings({"alertmanager": {"notifications": {"webhook_receivers": [webhook]}}})


def test_fails_unknown_or_invalid_setting() -> None:
    with pytest.raises(SettingsError, match=r"alertmanager.retention: unknown setting"):
        parse_settings({"alertmanager": {"retention": 3}})
    with pytest.raises(SettingsError, match=r"cidrs"):
        parse_settings(
            {
                "alertmanager": {
                    "notifications": {
                        "slack_receivers": [{"name": "s", "api_url": {"name": "a", "key": "b"}, "cidrs": []}]
                    }
                }
            }
        )


def test_whole_stack_with_receivers_synthesizes() -> None:
    stack = synth_stack({"alertmanager": {"notifications": NOTIFICATIONS}})
    assert stack.has("NetworkPolicy", "allow-alertmanager-to-oncall")
