"""Grafana on an external database: grafana.ini keys, Secret files, egress, stateless replicas, HA."""

from __future__ import annotations

import configparser
from typing import Any

import pytest

from tests.stack import Stack, synth_stack
from vaultaio_constructs.settings import SettingsError, parse_settings

DB_CIDR = "10.20.0.0/24"
POSTGRES: dict[str, Any] = {
    "type": "postgres",
    "host": "grafana-db.example.internal",
    "user": {"name": "grafana-db", "key": "user"},
    "password": {"name": "grafana-db", "key": "password"},
    "ca": {"name": "grafana-db-ca", "key": "ca.crt"},
    "cidrs": [DB_CIDR],
}
#: ``[database]`` keys of Grafana's configuration reference (``docs/sources/setup-grafana/configure-grafana``)
DOCUMENTED_DATABASE_KEYS = {
    "type",
    "host",
    "name",
    "user",
    "password",
    "url",
    "max_idle_conn",
    "max_open_conn",
    "conn_max_lifetime",
    "log_queries",
    "ssl_mode",
    "isolation_level",
    "ca_cert_path",
    "client_key_path",
    "client_cert_path",
    "server_cert_name",
    "path",
    "cache_mode",
    "wal",
}
#: ``[unified_alerting]`` HA keys of the reference (alerting "Configure high availability").
DOCUMENTED_ALERTING_HA_KEYS = {"ha_peers", "ha_listen_address", "ha_advertise_address", "ha_peer_timeout"}


def _ini(stack: Stack) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(stack.config_data("grafana-config")["grafana.ini"])
    return parser


def _pod(stack: Stack) -> dict[str, Any]:
    spec: dict[str, Any] = stack.get("StatefulSet", "grafana")["spec"]["template"]["spec"]
    return spec


@pytest.fixture(scope="module")
def single() -> Stack:
    """One replica on Postgres, with mutual TLS."""
    return synth_stack(
        {
            "grafana": {
                "database": {
                    **POSTGRES,
                    "client_cert": {"name": "grafana-db-client", "key": "tls.crt"},
                    "client_key": {"name": "grafana-db-client", "key": "tls.key"},
                }
            }
        }
    )


def test_database_section_reads_credentials_from_secret_files(single: Stack) -> None:
    database = dict(_ini(single)["database"])
    assert set(database) <= DOCUMENTED_DATABASE_KEYS
    assert database == {
        "type": "postgres",
        "host": "grafana-db.example.internal:5432",
        "name": "grafana",
        "user": "$__file{/etc/grafana/database/grafana-db/user}",
        "password": "$__file{/etc/grafana/database/grafana-db/password}",
        "ssl_mode": "verify-full",
        "ca_cert_path": "/etc/grafana/database/grafana-db-ca/ca.crt",
        "client_cert_path": "/etc/grafana/database/grafana-db-client/tls.crt",
        "client_key_path": "/etc/grafana/database/grafana-db-client/tls.key",
    }


def test_every_database_file_is_a_mounted_secret_key(single: Stack) -> None:
    spec = _pod(single)
    (container,) = spec["containers"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    database = _ini(single)["database"]
    paths = [v.removeprefix("$__file{").removesuffix("}") for k, v in database.items() if "/" in v]
    assert len(paths) == 5
    for path in paths:
        directory, key = path.rsplit("/", 1)
        secret = volumes[mounts[directory]]["secret"]
        assert key in [item["key"] for item in secret["items"]], path
        assert not secret.get("optional"), "Grafana must not start without its database credentials"


def test_external_database_makes_the_pods_stateless(single: Stack) -> None:
    sts = single.get("StatefulSet", "grafana")["spec"]
    assert "volumeClaimTemplates" not in sts
    data = {v["name"]: v for v in sts["template"]["spec"]["volumes"]}["data"]
    assert "emptyDir" in data


def test_database_is_the_only_new_egress(single: Stack, stack: Stack) -> None:
    spec = single.get("NetworkPolicy", "allow-grafana-to-database")["spec"]
    (rule,) = spec["egress"]
    assert rule["to"] == [{"ipBlock": {"cidr": DB_CIDR}}]
    assert rule["ports"] == [{"port": 5432, "protocol": "TCP"}]
    added = {p["metadata"]["name"] for p in single.all("NetworkPolicy")} - {
        p["metadata"]["name"] for p in stack.all("NetworkPolicy")
    }
    assert added == {"allow-grafana-to-database"}


def test_single_replica_needs_no_alerting_cluster(single: Stack) -> None:
    assert not _ini(single).has_section("unified_alerting")
    assert not single.has("Service", "grafana-internal")
    assert not single.all("PodDisruptionBudget")


def test_mysql_defaults_and_yaml_booleans() -> None:
    props = parse_settings(
        {"grafana": {"database": {**POSTGRES, "type": "mysql", "ssl_mode": True, "ca": None}}}
    ).grafana
    section = props.database.ini_section()  # type: ignore[union-attr]
    assert section["host"] == "grafana-db.example.internal:3306"
    assert section["ssl_mode"] == "true"
    assert "ca_cert_path" not in section


def test_default_stays_on_sqlite_and_the_pvc(stack: Stack) -> None:
    assert not _ini(stack).has_section("database")
    assert stack.get("StatefulSet", "grafana")["spec"]["volumeClaimTemplates"]


# -- replicas ------------------------------------------------------------------------------------------------


def test_replicas_form_the_alerting_ha_cluster(ha_stack: Stack) -> None:
    alerting = dict(_ini(ha_stack)["unified_alerting"])
    assert set(alerting) <= DOCUMENTED_ALERTING_HA_KEYS
    assert alerting == {
        "ha_peers": "grafana-internal.vault-aio.svc.cluster.local:9094",
        "ha_listen_address": "$__env{POD_IP}:9094",
        "ha_advertise_address": "$__env{POD_IP}:9094",
    }
    spec = _pod(ha_stack)
    (container,) = spec["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    peers = ha_stack.get("Service", "grafana-internal")["spec"]
    assert peers["clusterIP"] == "None" and peers["publishNotReadyAddresses"] is True
    assert {(p["port"], p["protocol"]) for p in peers["ports"]} == {
        (3000, "TCP"),
        (9094, "TCP"),
        (9094, "UDP"),
    }
    assert {(p["containerPort"], p["protocol"]) for p in container["ports"]} == {
        (p["port"], p["protocol"]) for p in peers["ports"]
    }


def test_replicas_are_spread_and_disrupted_one_at_a_time(ha_stack: Stack) -> None:
    sts = ha_stack.get("StatefulSet", "grafana")["spec"]
    assert sts["replicas"] == 2 and sts["podManagementPolicy"] == "Parallel"
    assert ha_stack.get("PodDisruptionBudget", "grafana")["spec"]["maxUnavailable"] == 1
    spec = sts["template"]["spec"]
    assert spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert spec["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    # no session affinity needed: sessions are in the database
    assert "sessionAffinity" not in ha_stack.get("Service", "grafana")["spec"]


def test_secret_key_is_a_mounted_file(ha_stack: Stack) -> None:
    security = _ini(ha_stack)["security"]
    assert security["secret_key"] == "$__file{/etc/grafana/secret-key/secret-key}"
    volumes = {v["name"]: v for v in _pod(ha_stack)["volumes"]}
    assert volumes["secret-key"]["secret"]["secretName"] == "grafana-secret-key"


# -- bad settings --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grafana", "match"),
    [
        ({"replicas": 2}, r"grafana: 'replicas' \(2\) needs an external 'database': sqlite is a file"),
        (
            {"database": {**POSTGRES, "cidrs": []}},
            r"grafana.database.postgres.cidrs: list at least one network",
        ),
        (
            {"database": {**POSTGRES, "password": "correct-horse-battery"}},
            r"grafana.database.postgres.password: must be a Secret reference",
        ),
        (
            {"database": {**POSTGRES, "ssl_mode": "verify-ca"}},
            r"grafana.database.postgres.ssl_mode: Input should be",
        ),
        (
            {"database": {**POSTGRES, "ssl_mode": "disable"}},
            r"'database.ssl_mode' turns TLS off for postgres",
        ),
        (
            {"database": {**POSTGRES, "client_cert": {"name": "c", "key": "tls.crt"}}},
            r"'database.client_cert' and 'database.client_key' must be given together",
        ),
        (
            {"database": {"type": "oracle"}},
            r"grafana.database: Input tag 'oracle' found using 'type' does not",
        ),
        (
            {"replicas": 11, "database": POSTGRES},
            r"grafana.replicas: Input should be less than or equal to 10",
        ),
    ],
)
def test_fails_bad_database_settings(grafana: dict[str, Any], match: str) -> None:
    with pytest.raises(SettingsError, match=match) as info:
        parse_settings({"grafana": grafana})
    assert "correct-horse" not in str(info.value), "a literal password must never be repeated"
