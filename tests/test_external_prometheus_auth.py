"""A team's own Prometheus behind an authenticating https gateway with a private CA (``prometheus.external``:
``basic_auth``, ``ca``; examples/settings/external-prometheus-tls.yaml).

Only Grafana queries an external Prometheus, so only its data source carries the settings; every file the
data source names is traced through Grafana's volume mounts to the Secret key the settings name (paths
derived from the manifests, never assumed). The writers of the stack (Alloy's metrics, Tempo's
metrics-generator) would send without them, so the settings refuse them next to these fields, and so does
the Python API. The scenario's other gates (kubeconform, promtool on the PrometheusRule, the connectivity
check) run in tests/test_scenarios.py and tests/test_hardening.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.stack import SCENARIOS_DIR, Stack, scenario_settings, scenario_stack, synth_stack
from tests.test_external_loki_auth import _file_of, _pod_spec, _ref, _secret_behind
from vaultaio_constructs.common import ExternalBasicAuth, SecretKeyRef
from vaultaio_constructs.grafana.provisioning import DatasourceUrls, datasources
from vaultaio_constructs.prometheus.construct import ExternalPrometheus, refuse_authenticated_writes
from vaultaio_constructs.prometheus.props import PrometheusExternalProps
from vaultaio_constructs.settings import load_settings

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


def test_nothing_of_the_stack_writes_to_that_prometheus(stack: Stack) -> None:
    alloy = stack.config_data("alloy-config")["config.alloy"]
    assert "prometheus.remote_write" not in alloy
    tempo = yaml.safe_load(stack.config_data("tempo-config")["tempo.yaml"])
    assert "metrics_generator" not in tempo and "metrics_generator" not in tempo.get("overrides", {}).get(
        "defaults", {}
    )
    assert not stack.has("NetworkPolicy", "allow-alloy-to-prometheus")
    assert not stack.has("NetworkPolicy", "allow-tempo-to-prometheus")


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


def test_without_settings_the_datasource_has_no_credentials_or_mounts() -> None:
    settings = scenario_settings(SCENARIO)
    del settings["prometheus"]["external"]["basic_auth"], settings["prometheus"]["external"]["ca"]
    stack = synth_stack(settings)
    prometheus = _datasource(stack)
    assert "basicAuth" not in prometheus and "secureJsonData" not in prometheus
    assert "tlsAuthWithCACert" not in prometheus["jsonData"]
    assert not _secret_volumes(_pod_spec(stack, "StatefulSet", "grafana"))


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


def _combination_error(changes: dict[str, Any]) -> str:
    settings = scenario_settings(SCENARIO)
    for key, value in changes.items():
        section, name = key.split(".")
        settings[section][name] = value
    with pytest.raises(ValueError) as error:
        synth_stack(settings)
    return str(error.value)


def test_alloy_remote_write_to_an_authenticated_prometheus_is_refused() -> None:
    message = _combination_error({"alloy.ship_metrics": True})
    assert "prometheus.external.basic_auth and prometheus.external.ca" in message
    assert "alloy.ship_metrics: false" in message
    assert "tempo.metrics_generator" not in message


def test_tempo_metrics_generator_to_an_authenticated_prometheus_is_refused() -> None:
    message = _combination_error({"tempo.metrics_generator": True})
    assert "tempo.metrics_generator: false" in message
    assert "alloy.ship_metrics" not in message


def test_the_python_api_refuses_writers_and_a_ca_for_http() -> None:
    props = PrometheusExternalProps(
        url="https://prometheus.example.com",
        cidrs=("203.0.113.0/24",),
        ca=SecretKeyRef(name="ca", key="ca.crt"),
    )
    with pytest.raises(ValueError, match=r"alloy: cannot remote-write to a Prometheus with ca"):
        refuse_authenticated_writes("alloy", ExternalPrometheus(props))
    with pytest.raises(ValueError, match=r"'ca' verifies the certificate of an https:// Prometheus"):
        PrometheusExternalProps(url="http://prometheus.example.com", cidrs=("203.0.113.0/24",), ca=props.ca)
    with pytest.raises(ValueError, match=r"'basic_auth.username' must be 1-256 characters without ':'"):
        ExternalBasicAuth(username="a:b", password=SecretKeyRef(name="p", key="password"))


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
