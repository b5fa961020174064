"""A team's own Prometheus behind an authenticating https gateway with a private CA (``prometheus.external``:
``basic_auth``, ``ca``; examples/settings/external-prometheus-tls.yaml).

Every client of that Prometheus carries them: Grafana's data source (queries), Alloy's
``prometheus.remote_write`` endpoint (node, agent and TLS-probe metrics, in the node namespace) and Tempo's
metrics-generator remote_write. Every file a config names is traced through that pod's read-only volume
mounts to the Secret key the settings name (paths derived from the manifests, never assumed). The scenario's
other gates (kubeconform, promtool on the PrometheusRule, the connectivity check, Alloy's own parser) run in
tests/test_scenarios.py, tests/test_hardening.py and tests/alloy/test_upstream_parser.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.alloy.alloy_parser import parse
from tests.stack import SCENARIOS_DIR, Stack, scenario_settings, scenario_stack, synth_stack
from tests.test_external_loki_auth import _children, _file_of, _pod_spec, _ref, _secret_behind
from vaultaio_constructs.alloy.config import AlloyConfig
from vaultaio_constructs.common import ExternalBasicAuth, SecretKeyRef
from vaultaio_constructs.grafana.provisioning import DatasourceUrls, datasources
from vaultaio_constructs.prometheus.props import PrometheusExternalProps
from vaultaio_constructs.settings import load_settings
from vaultaio_constructs.tempo.config import TempoConfig

SCENARIO = "external-prometheus-tls"
GATEWAY = {"kubernetes.io/metadata.name": "monitoring"}


@pytest.fixture(scope="module")
def external() -> PrometheusExternalProps:
    props = load_settings(SCENARIOS_DIR / f"{SCENARIO}.yaml").prometheus.external
    assert props is not None and props.basic_auth is not None and props.ca is not None
    return props


@pytest.fixture(scope="module")
def stack() -> Stack:
    return scenario_stack(SCENARIO)


def _datasource(stack: Stack, kind: str = "prometheus") -> dict[str, Any]:
    doc = yaml.safe_load(stack.config_data("grafana-provisioning")["datasources.yaml"])
    (source,) = [d for d in doc["datasources"] if d["type"] == kind]
    result: dict[str, Any] = source
    return result


def _secret_volumes(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in pod_spec["volumes"] if v["name"].startswith("prometheus-secret")]


def _alloy_endpoints(stack: Stack) -> list[dict[str, Any]]:
    config = parse(stack.config_data("alloy-config")["config.alloy"])
    (write,) = [b for b in config["blocks"] if b["name"] == "prometheus.remote_write"]
    endpoints: list[dict[str, Any]] = write["blocks"]
    assert endpoints and {e["name"] for e in endpoints} == {"endpoint"}
    return endpoints


def _tempo_remote_writes(stack: Stack) -> list[dict[str, Any]]:
    tempo = yaml.safe_load(stack.config_data("tempo-config")["tempo.yaml"])
    writes: list[dict[str, Any]] = tempo["metrics_generator"]["storage"]["remote_write"]
    assert writes
    return writes


def test_grafana_queries_with_basic_auth_and_the_private_ca(
    stack: Stack, external: PrometheusExternalProps
) -> None:
    assert external.basic_auth is not None and external.ca is not None
    prometheus = _datasource(stack)
    assert prometheus["url"] == external.url
    assert (prometheus["basicAuth"], prometheus["basicAuthUser"]) == (True, external.basic_auth.username)
    assert prometheus["jsonData"]["tlsAuthWithCACert"] is True
    secure = prometheus["secureJsonData"]
    assert set(secure) == {"basicAuthPassword", "tlsCACert"}
    grafana = _pod_spec(stack, "StatefulSet", "grafana")
    password = _secret_behind(grafana, "grafana", _file_of(secure["basicAuthPassword"]))
    assert password == _ref(external.basic_auth.password)
    assert _secret_behind(grafana, "grafana", _file_of(secure["tlsCACert"])) == _ref(external.ca)
    # the other data sources are unchanged: no credentials leak to Loki or Tempo
    for kind in ("loki", "tempo"):
        assert "basicAuth" not in _datasource(stack, kind)


def test_alloy_remote_writes_with_basic_auth_and_the_private_ca(
    stack: Stack, external: PrometheusExternalProps
) -> None:
    assert external.basic_auth is not None and external.ca is not None
    alloy = _pod_spec(stack, "DaemonSet", "alloy")
    for endpoint in _alloy_endpoints(stack):
        assert endpoint["attrs"]["url"] == external.url + external.remote_write_path
        children = _children(endpoint)
        assert set(children) == {"basic_auth", "tls_config"}
        assert set(children["basic_auth"]) == {"username", "password_file"}
        assert children["basic_auth"]["username"] == external.basic_auth.username
        assert set(children["tls_config"]) == {"ca_file"}
        password = _secret_behind(alloy, "alloy", children["basic_auth"]["password_file"])
        assert password == _ref(external.basic_auth.password)
        assert _secret_behind(alloy, "alloy", children["tls_config"]["ca_file"]) == _ref(external.ca)
    # Alloy has no fsGroup: the files must be readable by its user whatever their owner
    assert "fsGroup" not in alloy.get("securityContext", {})
    assert {v["secret"]["defaultMode"] for v in _secret_volumes(alloy)} == {0o444}


def test_tempo_metrics_generator_remote_writes_with_them(
    stack: Stack, external: PrometheusExternalProps
) -> None:
    assert external.basic_auth is not None and external.ca is not None
    tempo = _pod_spec(stack, "StatefulSet", "tempo")
    for write in _tempo_remote_writes(stack):
        assert write["url"] == external.url + external.remote_write_path
        assert set(write["basic_auth"]) == {"username", "password_file"}
        assert write["basic_auth"]["username"] == external.basic_auth.username
        assert set(write["tls_config"]) == {"ca_file"}
        password = _secret_behind(tempo, "tempo", write["basic_auth"]["password_file"])
        assert password == _ref(external.basic_auth.password)
        assert _secret_behind(tempo, "tempo", write["tls_config"]["ca_file"]) == _ref(external.ca)
    # group-readable through the pod's fsGroup, the files' group
    assert tempo["securityContext"]["fsGroup"] is not None
    assert {v["secret"]["defaultMode"] for v in _secret_volumes(tempo)} == {0o440}


def test_each_writer_mounts_the_secrets_in_its_own_namespace(stack: Stack) -> None:
    """Secrets are namespaced: Alloy's volumes name Secrets of the node namespace, Tempo's and Grafana's of
    the stack's namespace, which the field descriptions tell the operator to create them in."""
    namespaces = {
        name: stack.get(kind, name)["metadata"]["namespace"]
        for kind, name in (("DaemonSet", "alloy"), ("StatefulSet", "tempo"), ("StatefulSet", "grafana"))
    }
    assert namespaces["tempo"] == namespaces["grafana"] != namespaces["alloy"]
    for kind, name in (("DaemonSet", "alloy"), ("StatefulSet", "tempo"), ("StatefulSet", "grafana")):
        assert {v["secret"]["secretName"] for v in _secret_volumes(_pod_spec(stack, kind, name))} == {
            "prometheus-client"
        }, name


def test_the_writers_reach_the_gateway_pods_on_the_url_port(
    stack: Stack, external: PrometheusExternalProps
) -> None:
    for writer in ("alloy", "tempo"):
        egress = stack.get("NetworkPolicy", f"allow-{writer}-to-prometheus")["spec"]["egress"]
        assert egress == [
            {
                "ports": [{"port": 8443, "protocol": "TCP"}],
                "to": [
                    {
                        "namespaceSelector": {"matchLabels": external.namespace_labels},
                        "podSelector": {"matchLabels": external.pod_labels},
                    }
                ],
            }
        ], writer


def test_grafana_reaches_the_gateway_pods_on_the_url_port(
    stack: Stack, external: PrometheusExternalProps
) -> None:
    egress = stack.get("NetworkPolicy", "allow-grafana-to-prometheus")["spec"]["egress"]
    assert egress == [
        {
            "ports": [{"port": 8443, "protocol": "TCP"}],
            "to": [
                {
                    "namespaceSelector": {"matchLabels": external.namespace_labels},
                    "podSelector": {"matchLabels": external.pod_labels},
                }
            ],
        }
    ]


def test_no_secret_object_and_only_references_in_the_manifests(stack: Stack) -> None:
    assert not stack.all("Secret")
    assert "$__file{/etc/grafana/prometheus/" in stack.yaml()
    for text in (
        stack.config_data("alloy-config")["config.alloy"],
        stack.config_data("tempo-config")["tempo.yaml"],
    ):
        assert "password_file" in text and "password =" not in text and "password:" not in text


def test_without_settings_the_datasource_has_no_credentials_or_mounts() -> None:
    settings = scenario_settings(SCENARIO)
    del settings["prometheus"]["external"]["basic_auth"], settings["prometheus"]["external"]["ca"]
    stack = synth_stack(settings)
    prometheus = _datasource(stack)
    assert "basicAuth" not in prometheus and "secureJsonData" not in prometheus
    assert "tlsAuthWithCACert" not in prometheus["jsonData"]
    for endpoint in _alloy_endpoints(stack):
        assert not endpoint["blocks"]
    for write in _tempo_remote_writes(stack):
        assert "basic_auth" not in write and "tls_config" not in write
    for kind, name in (("StatefulSet", "grafana"), ("DaemonSet", "alloy"), ("StatefulSet", "tempo")):
        assert not _secret_volumes(_pod_spec(stack, kind, name)), name


def test_secrets_of_two_names_get_two_read_only_volumes() -> None:
    settings = scenario_settings(SCENARIO)
    settings["prometheus"]["external"]["basic_auth"] = {
        "username": "u$1",
        "password": {"name": "prom-auth", "key": "pw"},
    }
    settings["prometheus"]["external"]["ca"] = {"name": "team-ca", "key": "bundle.pem"}
    stack = synth_stack(settings)
    prometheus = _datasource(stack)
    # provisioning files expand $NAME: a literal '$' in the user name is written '$$'
    assert prometheus["basicAuthUser"] == "u$$1"
    grafana = _pod_spec(stack, "StatefulSet", "grafana")
    assert len(_secret_volumes(grafana)) == 2
    secure = prometheus["secureJsonData"]
    assert _secret_behind(grafana, "grafana", _file_of(secure["basicAuthPassword"])) == ("prom-auth", "pw")
    assert _secret_behind(grafana, "grafana", _file_of(secure["tlsCACert"])) == ("team-ca", "bundle.pem")
    alloy = _pod_spec(stack, "DaemonSet", "alloy")
    assert len(_secret_volumes(alloy)) == 2
    (endpoint,) = _alloy_endpoints(stack)
    children = _children(endpoint)
    # Alloy's strings are not expanded: the user name is written as it is
    assert children["basic_auth"]["username"] == "u$1"
    assert _secret_behind(alloy, "alloy", children["basic_auth"]["password_file"]) == ("prom-auth", "pw")
    assert _secret_behind(alloy, "alloy", children["tls_config"]["ca_file"]) == ("team-ca", "bundle.pem")
    tempo = _pod_spec(stack, "StatefulSet", "tempo")
    (write,) = _tempo_remote_writes(stack)
    assert write["basic_auth"]["username"] == "u$1"
    assert _secret_behind(tempo, "tempo", write["basic_auth"]["password_file"]) == ("prom-auth", "pw")
    assert _secret_behind(tempo, "tempo", write["tls_config"]["ca_file"]) == ("team-ca", "bundle.pem")


def test_a_prometheus_outside_the_cluster_gets_the_credentials_from_every_writer() -> None:
    """The settings the stack refused before (basic_auth with Alloy's metrics and Tempo's metrics-generator
    on, a Prometheus reached by CIDR over https) now synthesize, each writer sending the user and password."""
    stack = synth_stack(
        {
            "prometheus": {
                "enabled": False,
                "external": {
                    "url": "https://p.example.com",
                    "cidrs": ["192.0.2.0/24"],
                    "basic_auth": {"username": "u", "password": {"name": "s", "key": "p"}},
                },
            }
        }
    )
    (endpoint,) = _alloy_endpoints(stack)
    assert endpoint["attrs"]["url"] == "https://p.example.com/api/v1/write"
    children = _children(endpoint)
    assert set(children) == {"basic_auth"} and children["basic_auth"]["username"] == "u"
    alloy = _pod_spec(stack, "DaemonSet", "alloy")
    assert _secret_behind(alloy, "alloy", children["basic_auth"]["password_file"]) == ("s", "p")
    (write,) = _tempo_remote_writes(stack)
    assert write["basic_auth"]["username"] == "u" and "tls_config" not in write
    tempo = _pod_spec(stack, "StatefulSet", "tempo")
    assert _secret_behind(tempo, "tempo", write["basic_auth"]["password_file"]) == ("s", "p")


def test_the_props_refuse_a_ca_for_http_and_a_username_with_a_colon() -> None:
    with pytest.raises(ValueError, match=r"'ca' verifies the certificate of an https:// Prometheus"):
        PrometheusExternalProps(
            url="http://prometheus.example.com",
            cidrs=("203.0.113.0/24",),
            ca=SecretKeyRef(name="ca", key="ca.crt"),
        )
    with pytest.raises(ValueError, match=r"'basic_auth.username' must be 1-256 characters without ':'"):
        ExternalBasicAuth(username="a:b", password=SecretKeyRef(name="p", key="password"))


def test_the_writers_configs_refuse_half_credentials_a_ca_for_http_and_relative_paths() -> None:
    http, https = ("http://p.example.com/api/v1/write",), ("https://p.example.com/api/v1/write",)
    ns = ("vault-aio",)
    with pytest.raises(ValueError, match="'prometheus_username' and 'prometheus_password_file'"):
        AlloyConfig(namespaces=ns, prometheus_remote_write_urls=https, prometheus_username="u")
    with pytest.raises(ValueError, match="'prometheus_ca_file' verifies an https:// Prometheus"):
        AlloyConfig(namespaces=ns, prometheus_remote_write_urls=http, prometheus_ca_file="/ca")
    with pytest.raises(ValueError, match="'prometheus_password_file' must be an absolute path"):
        AlloyConfig(
            namespaces=ns,
            prometheus_remote_write_urls=https,
            prometheus_username="u",
            prometheus_password_file="pw",
        )
    with pytest.raises(
        ValueError, match="'metrics_remote_write_username' and 'metrics_remote_write_password"
    ):
        TempoConfig(metrics_remote_write_urls=https, metrics_remote_write_password_file="/pw")
    with pytest.raises(ValueError, match="'metrics_remote_write_ca_file' verifies an https:// Prometheus"):
        TempoConfig(metrics_remote_write_urls=http, metrics_remote_write_ca_file="/ca")
    with pytest.raises(ValueError, match="'metrics_remote_write_ca_file' must be an absolute path"):
        TempoConfig(metrics_remote_write_urls=https, metrics_remote_write_ca_file="ca.crt")
    with pytest.raises(ValueError, match="'metrics_remote_write_username' needs 'metrics_remote_write_urls'"):
        TempoConfig(metrics_remote_write_username="u", metrics_remote_write_password_file="/pw")


def test_the_renderer_refuses_half_credentials_a_ca_for_http_and_odd_paths() -> None:
    https = "https://prometheus.example.com"
    with pytest.raises(
        ValueError, match="'prometheus_basic_auth_user' and 'prometheus_basic_auth_password_file'"
    ):
        DatasourceUrls(prometheus=https, prometheus_basic_auth_user="u")
    with pytest.raises(ValueError, match="'prometheus_ca_file' verifies an https:// prometheus"):
        DatasourceUrls(prometheus="http://prometheus.example.com", prometheus_ca_file="/etc/ca.crt")
    with pytest.raises(ValueError, match="'prometheus_ca_file' must be an absolute path"):
        DatasourceUrls(prometheus=https, prometheus_ca_file="/etc/{ca}.crt")
    doc = datasources(
        DatasourceUrls(prometheus=https, prometheus_ca_file="/etc/ca.crt"), prometheus_version=None
    )
    sources: list[dict[str, Any]] = doc["datasources"]  # type: ignore[assignment]
    (source,) = sources
    assert source["secureJsonData"] == {"tlsCACert": "$__file{/etc/ca.crt}"}
    assert source["jsonData"]["tlsAuthWithCACert"] is True and "basicAuth" not in source
