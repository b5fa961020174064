"""Prometheus remote write (typed destinations, Secret files, egress) and the HA pair (replica label,
alert deduplication, writers reaching every replica), checked by behaviour and by promtool 3."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.podfs import files_named
from tests.prometheus.promtool import check_config_as_mounted
from tests.stack import Stack, synth_stack
from tests.tools import require_tool
from vaultaio_constructs.common import SecretKeyRef
from vaultaio_constructs.prometheus.construct import SECRETS_DIR
from vaultaio_constructs.prometheus.remote_write import RemoteWrite
from vaultaio_constructs.settings import SettingsError, parse_settings, validate_settings_value

MIMIR_CIDR = "203.0.113.0/24"
CLOUD_CIDR = "198.51.100.0/24"
TOKEN_CIDR = "198.51.100.128/25"
AMP_CIDR = "52.94.0.0/16"

#: One destination per authentication type, with every optional block somewhere.
DESTINATIONS: list[dict[str, Any]] = [
    {
        "name": "mimir",
        "url": "https://mimir.example.com/api/v1/push",
        "cidrs": [MIMIR_CIDR],
        "auth": {
            "type": "basic",
            "username": {"name": "rw-mimir", "key": "username"},
            "password": {"name": "rw-mimir", "key": "password"},
        },
        "headers": {"X-Scope-OrgID": "vault-aio"},
        "tls": {
            "ca": {"name": "rw-ca", "key": "ca.crt"},
            "cert": {"name": "rw-mimir", "key": "tls.crt"},
            "key": {"name": "rw-mimir", "key": "tls.key"},
            "server_name": "mimir.example.com",
        },
        "remote_timeout_seconds": 20,
        "queue": {
            "capacity": 20000,
            "max_shards": 10,
            "min_shards": 2,
            "max_samples_per_send": 4000,
            "batch_send_deadline_seconds": 10,
            "min_backoff_ms": 100,
            "max_backoff_ms": 10000,
            "retry_on_http_429": True,
            "sample_age_limit_seconds": 3600,
        },
        "write_relabel_configs": [
            {"action": "drop", "source_labels": ["__name__"], "regex": "go_.*"},
            {"action": "labeldrop", "regex": "pod_template_hash"},
            {"source_labels": ["job"], "regex": "(.*)", "target_label": "${1}_job", "replacement": "$1"},
            {"action": "hashmod", "source_labels": ["instance"], "target_label": "shard", "modulus": 4},
            {"action": "keepequal", "source_labels": ["job"], "target_label": "service"},
        ],
    },
    {
        "name": "thanos",
        "url": "https://thanos.example.com/api/v1/receive",
        "cidrs": [MIMIR_CIDR],
        "auth": {"type": "bearer", "token": {"name": "rw-thanos", "key": "token"}},
        # a credential header (review finding 6): its value comes from the Secret, never the ConfigMap
        "secret_headers": {"X-Api-Key": {"name": "rw-thanos", "key": "api-key"}},
    },
    {
        "name": "cloud",
        "url": "https://metrics.example.net/api/prom/push",
        "cidrs": [CLOUD_CIDR],
        "auth": {
            "type": "oauth2",
            "client_id": "vault-aio",
            "client_secret": {"name": "rw-cloud", "key": "client-secret"},
            "token_url": "https://auth.example.net:8443/oauth2/token",
            "token_cidrs": [TOKEN_CIDR],
            "scopes": ["metrics:write"],
            "endpoint_params": {"audience": "metrics"},
        },
    },
    {
        "name": "amp",
        "url": "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write",
        "cidrs": [AMP_CIDR],
        "auth": {"type": "sigv4", "region": "eu-west-1", "role_arn": "arn:aws:iam::123456789012:role/amp"},
    },
]


@pytest.fixture(scope="module")
def every_auth() -> Stack:
    return synth_stack({"prometheus": {"remote_write": DESTINATIONS}})


@pytest.fixture(scope="module")
def pair() -> Stack:
    return synth_stack({"prometheus": {"replicas": 2, "external_labels": {"cluster": "prod", "price": "$5"}}})


def _config(stack: Stack) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(stack.config_data("prometheus-config")["prometheus.yml"])
    return config


def _pod(stack: Stack) -> dict[str, Any]:
    spec: dict[str, Any] = stack.get("StatefulSet", "prometheus")["spec"]["template"]["spec"]
    return spec


# -- rendering -----------------------------------------------------------------------------------------------


def test_every_auth_type_reads_its_secrets_from_files(every_auth: Stack) -> None:
    entries = {rw["name"]: rw for rw in _config(every_auth)["remote_write"]}
    assert list(entries) == ["mimir", "thanos", "cloud", "amp"]
    mimir = entries["mimir"]
    assert mimir["basic_auth"] == {
        "username_file": f"{SECRETS_DIR}/rw-mimir/username",
        "password_file": f"{SECRETS_DIR}/rw-mimir/password",
    }
    assert mimir["tls_config"] == {
        "ca_file": f"{SECRETS_DIR}/rw-ca/ca.crt",
        "cert_file": f"{SECRETS_DIR}/rw-mimir/tls.crt",
        "key_file": f"{SECRETS_DIR}/rw-mimir/tls.key",
        "server_name": "mimir.example.com",
        "insecure_skip_verify": False,
    }
    assert entries["thanos"]["authorization"] == {
        "type": "Bearer",
        "credentials_file": f"{SECRETS_DIR}/rw-thanos/token",
    }
    # prometheus/common's http_headers: the value is read from the file on every request
    assert entries["thanos"]["http_headers"] == {"X-Api-Key": {"files": [f"{SECRETS_DIR}/rw-thanos/api-key"]}}
    assert "headers" not in entries["thanos"]
    assert entries["cloud"]["oauth2"] == {
        "client_id": "vault-aio",
        "client_secret_file": f"{SECRETS_DIR}/rw-cloud/client-secret",
        "token_url": "https://auth.example.net:8443/oauth2/token",
        "scopes": ["metrics:write"],
        "endpoint_params": {"audience": "metrics"},
    }
    assert entries["amp"]["sigv4"] == {"region": "eu-west-1"}
    assert mimir["queue_config"] == {
        "capacity": 20000,
        "max_shards": 10,
        "min_shards": 2,
        "max_samples_per_send": 4000,
        "batch_send_deadline": "10s",
        "min_backoff": "100ms",
        "max_backoff": "10000ms",
        "retry_on_http_429": True,
        "sample_age_limit": "3600s",
    }
    assert mimir["remote_timeout"] == "20s" and mimir["headers"] == {"X-Scope-OrgID": "vault-aio"}
    assert mimir["write_relabel_configs"][0] == {
        "action": "drop",
        "source_labels": ["__name__"],
        "regex": "go_.*",
    }


def test_every_file_the_config_names_is_a_mounted_secret_key(every_auth: Stack) -> None:
    """Each ``*_file`` path is a key of a Secret volume mounted at that directory, and the pod cannot start
    without it: Prometheus refuses a configuration whose TLS files are missing."""
    spec = _pod(every_auth)
    (container,) = spec["containers"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    files = files_named(_config(every_auth)["remote_write"])
    assert len(files) == 8  # basic 2, client TLS 3, bearer 1, oauth2 1, secret header 1
    for path in files:
        directory, key = path.rsplit("/", 1)
        secret = volumes[mounts[directory]]["secret"]
        assert key in [item["key"] for item in secret["items"]], path
        assert not secret.get("optional"), f"{path}: a credential must not be optional"
    # the Vault CA for scraping stays optional: monitoring starts before Vault's TLS exists
    assert volumes[mounts[f"{SECRETS_DIR}/vault-tls"]]["secret"]["optional"] is True


def test_sigv4_irsa_annotates_the_service_account(every_auth: Stack) -> None:
    annotations = every_auth.get("ServiceAccount", "prometheus")["metadata"]["annotations"]
    assert annotations == {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/amp"}
    assert "env" not in _pod(every_auth)["containers"][0]


def test_sigv4_static_keys_are_secret_key_refs() -> None:
    stack = synth_stack(
        {
            "prometheus": {
                "remote_write": [
                    {
                        **DESTINATIONS[3],
                        "auth": {
                            "type": "sigv4",
                            "region": "eu-west-1",
                            "access_key_id": {"name": "amp", "key": "id"},
                            "secret_access_key": {"name": "amp", "key": "secret"},
                        },
                    }
                ]
            }
        }
    )
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in _pod(stack)["containers"][0]["env"]}
    assert env == {
        "AWS_ACCESS_KEY_ID": {"name": "amp", "key": "id"},
        "AWS_SECRET_ACCESS_KEY": {"name": "amp", "key": "secret"},
    }


def test_each_destination_is_one_egress_rule_to_its_networks(every_auth: Stack) -> None:
    expected = {
        "allow-prometheus-to-mimir": ({MIMIR_CIDR}, 443),
        "allow-prometheus-to-thanos": ({MIMIR_CIDR}, 443),
        "allow-prometheus-to-cloud": ({CLOUD_CIDR}, 443),
        # the OAuth2 token endpoint lives elsewhere (other networks, other port): its own rule
        "allow-prometheus-to-cloud-token": ({TOKEN_CIDR}, 8443),
        "allow-prometheus-to-amp": ({AMP_CIDR}, 443),
    }
    for name, (cidrs, port) in expected.items():
        spec = every_auth.get("NetworkPolicy", name)["spec"]
        assert spec["policyTypes"] == ["Egress"]
        (rule,) = spec["egress"]
        assert {peer["ipBlock"]["cidr"] for peer in rule["to"]} == cidrs
        assert rule["ports"] == [{"port": port, "protocol": "TCP"}]
    external = {
        p["metadata"]["name"]
        for p in every_auth.all("NetworkPolicy")
        if any("ipBlock" in peer for r in p["spec"].get("egress", []) for peer in r["to"])
        and p["metadata"]["name"].startswith("allow-prometheus-")
    }
    assert external == set(expected)


def test_token_endpoint_on_the_same_networks_and_port_adds_no_rule() -> None:
    # settings-shaped data validates as the settings file does (the Python API takes props instances)
    rw = validate_settings_value(
        RemoteWrite,
        {
            "name": "cloud",
            "url": "https://metrics.example.net/push",
            "cidrs": [CLOUD_CIDR],
            "auth": {
                "type": "oauth2",
                "client_id": "c",
                "client_secret": {"name": "s", "key": "k"},
                "token_url": "https://auth.example.net/token",
            },
        },
    )
    assert [e.name for e in rw.endpoints()] == ["cloud"]


def test_secret_values_never_reach_the_manifests(every_auth: Stack) -> None:
    text = every_auth.yaml()
    for ref in ("rw-mimir", "rw-thanos", "rw-cloud"):
        assert ref in text  # the references are there...
    assert "password:" not in every_auth.config_data("prometheus-config")["prometheus.yml"]


def test_external_label_values_stay_literal(pair: Stack) -> None:
    """Prometheus 3 expands ``$VAR`` in external labels: the user's ``$`` is escaped, the pod name is not."""
    labels = _config(pair)["global"]["external_labels"]
    assert labels == {"cluster": "prod", "price": "$$5", "replica": "${POD_NAME}"}


# -- the HA pair ---------------------------------------------------------------------------------------------


def test_pair_labels_each_replica_and_drops_the_label_from_alerts(pair: Stack) -> None:
    config = _config(pair)
    assert config["global"]["external_labels"]["replica"] == "${POD_NAME}"
    env = {e["name"]: e for e in _pod(pair)["containers"][0]["env"]}
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    # both replicas' copies of an alert become identical, so Alertmanager groups them as one
    assert config["alerting"]["alert_relabel_configs"] == [{"action": "labeldrop", "regex": "replica"}]


def test_pair_replica_label_is_configurable_for_mimir() -> None:
    stack = synth_stack({"prometheus": {"replicas": 2, "replica_label": "__replica__"}})
    config = _config(stack)
    assert config["global"]["external_labels"] == {"__replica__": "${POD_NAME}"}
    assert config["alerting"]["alert_relabel_configs"] == [{"action": "labeldrop", "regex": "__replica__"}]


def test_single_replica_has_no_replica_label(stack: Stack) -> None:
    config = _config(stack)
    assert "external_labels" not in config["global"]
    assert "alert_relabel_configs" not in config["alerting"]


def test_pair_workload_service_and_disruption_budget(pair: Stack) -> None:
    sts = pair.get("StatefulSet", "prometheus")["spec"]
    assert sts["replicas"] == 2 and sts["serviceName"] == "prometheus-internal"
    peers = pair.get("Service", "prometheus-internal")["spec"]
    assert peers["clusterIP"] == "None" and peers["ports"][0]["port"] == 9090
    # queries stick to one replica while it is ready: no flickering between two slightly different copies
    assert pair.get("Service", "prometheus")["spec"]["sessionAffinity"] == "ClientIP"
    assert pair.get("PodDisruptionBudget", "prometheus")["spec"]["maxUnavailable"] == 1
    spec = sts["template"]["spec"]
    assert spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert spec["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "ScheduleAnyway"


def test_writers_reach_every_replica(pair: Stack) -> None:
    """Alloy and Tempo's metrics-generator write to each replica by its own address (not through the
    load-balancing Service), so both replicas hold the same series."""
    urls = [f"http://prometheus-{i}.prometheus-internal.vault-aio.svc:9090/api/v1/write" for i in range(2)]
    alloy = pair.config_data("alloy-config")["config.alloy"]
    for url in urls:
        assert f'url = "{url}"' in alloy
    assert "prometheus.vault-aio.svc:9090/api/v1/write" not in alloy
    tempo = yaml.safe_load(pair.config_data("tempo-config")["tempo.yaml"])
    assert [w["url"] for w in tempo["metrics_generator"]["storage"]["remote_write"]] == urls


def test_pair_scrapes_each_replica(pair: Stack) -> None:
    jobs = {job["job_name"]: job for job in _config(pair)["scrape_configs"]}
    assert jobs["prometheus"]["dns_sd_configs"] == [
        {"names": ["prometheus-internal.vault-aio.svc.cluster.local"], "type": "A", "port": 9090}
    ]


# -- real validators -----------------------------------------------------------------------------------------


def _with_files(text: str, root: Path) -> str:
    """The config with in-pod secret paths moved under ``root``, each file created."""
    moved = text.replace(SECRETS_DIR, str(root / "secrets"))
    for value in files_named(yaml.safe_load(moved)):
        if value.startswith(str(root)):
            Path(value).parent.mkdir(parents=True, exist_ok=True)
            Path(value).write_text("placeholder\n")
    return moved


def test_every_destination_passes_promtool(every_auth: Stack, tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    config = tmp_path / "prometheus.yml"
    text = every_auth.config_data("prometheus-config")["prometheus.yml"]
    config.write_text(
        _with_files(text.replace("/etc/prometheus/rules/*.yaml", str(tmp_path / "r.yaml")), tmp_path)
    )
    (tmp_path / "r.yaml").write_text(every_auth.config_data("prometheus-rules")["vault-aio.yaml"])
    result = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_refuses_what_the_settings_refuse(every_auth: Stack, tmp_path: Path) -> None:
    """The check is real: the same config with the queue's shards crossed over fails promtool."""
    promtool = require_tool("promtool")
    config = yaml.safe_load(every_auth.config_data("prometheus-config")["prometheus.yml"])
    config["remote_write"][0]["queue_config"]["min_shards"] = 20
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [promtool, "check", "config", "--syntax-only", str(path)], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "min_shards must not be greater than max_shards" in result.stdout + result.stderr
    with pytest.raises(SettingsError, match=r"'min_shards' \(20\) must be <= 'max_shards' \(10"):
        parse_settings(
            {
                "prometheus": {
                    "remote_write": [{**DESTINATIONS[0], "queue": {"min_shards": 20, "max_shards": 10}}]
                }
            }
        )


def test_pair_passes_promtool(pair: Stack, tmp_path: Path) -> None:
    """Full check with the files the pod mounts and POD_NAME set as on the first replica."""
    output = check_config_as_mounted(pair.objects, tmp_path)
    assert "rules found" in output


# -- bad settings --------------------------------------------------------------------------------------------


def _rw(**changes: Any) -> dict[str, Any]:
    return {"prometheus": {"remote_write": [{**DESTINATIONS[1], **changes}]}}


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        (_rw(cidrs=[]), r"prometheus.remote_write.0.cidrs: list at least one network"),
        (
            _rw(auth={"type": "bearer", "token": "hunter2-hunter2"}),
            r"prometheus.remote_write.0.auth.bearer.token: must be a Secret reference",
        ),
        (
            _rw(url="http://thanos.example.com/api/v1/receive"),
            r"must be https with 'bearer' authentication",
        ),
        (_rw(url="https://user:hunter2@thanos.example.com/x"), r"must not contain credentials"),
        (_rw(headers={"Authorization": "Bearer x"}), r"header 'Authorization' is set by Prometheus itself"),
        # review finding 6: a credential header goes to secret_headers, never the ConfigMap
        (
            _rw(headers={"X-Api-Key": "hunter2"}),
            r"header 'X-Api-Key' looks like a credential.*'secret_headers'",
        ),
        (_rw(headers={"X-Auth-Token": "hunter2"}), r"header 'X-Auth-Token' looks like a credential"),
        (_rw(url="https://thanos.example.com/x?access_token=hunter2"), r"\(the parameter 'access_token'"),
        (
            _rw(secret_headers={"Authorization": {"name": "s", "key": "k"}}),
            r"header 'Authorization' is set by Prometheus itself",
        ),
        (
            _rw(secret_headers={"X-Api-Key": "hunter2"}),
            r"secret_headers\.X-Api-Key: must be a Secret reference",
        ),
        (
            _rw(
                auth=None,
                url="http://thanos.example.com/x",
                secret_headers={"X-Api-Key": {"name": "s", "key": "k"}},
            ),
            r"must be https with 'secret_headers'",
        ),
        (
            _rw(headers={"x-scope-orgid": "a"}, secret_headers={"X-Scope-OrgID": {"name": "s", "key": "k"}}),
            r"header\(s\) \['x-scope-orgid'\] in both 'headers' and 'secret_headers'",
        ),
        (
            _rw(auth={**DESTINATIONS[2]["auth"], "token_url": "https://id:hunter2@auth.example.net/t"}),
            r"'auth\.token_url' must not contain credentials",
        ),
        (
            _rw(write_relabel_configs=[{"action": "labeldrop", "regex": "a", "source_labels": ["b"]}]),
            r"a 'labeldrop' rule does not use 'source_labels'",
        ),
        (
            _rw(write_relabel_configs=[{"action": "hashmod", "source_labels": ["a"], "target_label": "b"}]),
            r"a 'hashmod' rule needs 'modulus'",
        ),
        (
            _rw(write_relabel_configs=[{"action": "drop", "source_labels": ["a"], "regex": "(?!x)"}]),
            r"look-around or a back-reference",
        ),
        (
            _rw(write_relabel_configs=[{"action": "keep", "regex": "x"}]),
            r"a 'keep' rule needs 'source_labels'",
        ),
        (
            _rw(queue={"min_backoff_ms": 6000}),
            r"'min_backoff_ms' \(6000\) must be <= 'max_backoff_ms' \(5000; Prometheus' default",
        ),
        (
            {"prometheus": {"remote_write": [DESTINATIONS[1], DESTINATIONS[1]]}},
            r"'remote_write' names must be unique, got \['thanos'\]",
        ),
        (
            _rw(auth={"type": "sigv4", "region": "eu-west-1"}),
            r"sigv4 needs exactly one credential source",
        ),
        (
            {"prometheus": {"replicas": 2, "external_labels": {"replica": "x"}}},
            r"'replica_label' \('replica'\) is also a key of 'external_labels'",
        ),
        ({"prometheus": {"replicas": 4}}, r"prometheus.replicas: Input should be less than or equal to 3"),
    ],
)
def test_fails_bad_remote_write_or_pair_settings(settings: dict[str, Any], match: str) -> None:
    with pytest.raises(SettingsError, match=match) as info:
        parse_settings(settings)
    assert "hunter2" not in str(info.value), "a literal secret must never be repeated"


def test_secret_key_ref_type_is_what_the_settings_hold() -> None:
    props = parse_settings({"prometheus": {"remote_write": [DESTINATIONS[1]]}}).prometheus
    (rw,) = props.remote_write
    assert rw.secrets() == (
        SecretKeyRef(name="rw-thanos", key="token"),
        SecretKeyRef(name="rw-thanos", key="api-key"),
    )
