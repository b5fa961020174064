"""A team's own Loki that needs a tenant, basic authentication and a private CA (``loki.external``:
``tenant_id``, ``basic_auth``, ``ca``; examples/settings/external-loki-tls.yaml).

Every consumer of the external Loki carries the settings: Alloy's ``loki.write`` endpoint (read back by the
independent Alloy parser) and Grafana's Loki data source (provisioning YAML). Each file a config names is
traced through the consuming pod's volume mounts to the Secret key it comes from, which must be the one the
settings name: the paths are derived from the manifests, never assumed. No Secret value is anywhere (the
canary test, tests/test_canary.py, feeds canaries to the user name; the password and CA are references).
Bad input is in tests/test_bad_input.py; the scenario's other gates (kubeconform, promtool, the
connectivity check, the upstream Alloy parser) run in tests/test_scenarios.py and
tests/alloy/test_upstream_parser.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.alloy.alloy_parser import parse
from tests.stack import SCENARIOS_DIR, Stack, scenario_stack, synth_stack
from vaultaio_constructs.common import SecretKeyRef
from vaultaio_constructs.loki.props import LokiExternalProps
from vaultaio_constructs.settings import load_settings

SCENARIO = "external-loki-tls"


@pytest.fixture(scope="module")
def external() -> LokiExternalProps:
    props = load_settings(SCENARIOS_DIR / f"{SCENARIO}.yaml").loki.external
    assert props is not None and props.basic_auth is not None and props.ca is not None
    assert props.tenant_id is not None
    return props


@pytest.fixture(scope="module")
def stack() -> Stack:
    return scenario_stack(SCENARIO)


def _pod_spec(stack: Stack, kind: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = stack.get(kind, name)["spec"]["template"]["spec"]
    return spec


def _secret_behind(pod_spec: dict[str, Any], container: str, path: str) -> tuple[str, str]:
    """``(Secret name, key)`` of the file ``path`` as container ``container`` sees it, through its volume
    mounts (the mount must be read-only) and the volume's items."""
    (spec,) = [c for c in pod_spec["containers"] if c["name"] == container]
    volumes = {v["name"]: v for v in pod_spec["volumes"]}
    found = []
    for mount in spec.get("volumeMounts", []):
        prefix = mount["mountPath"].rstrip("/") + "/"
        if not path.startswith(prefix) or "subPath" in mount:
            continue
        source = volumes[mount["name"]].get("secret")
        assert source is not None, f"{path} is under {mount['mountPath']}, which is not a Secret volume"
        assert mount.get("readOnly") is True, f"{mount['mountPath']} must be mounted read-only"
        relative = path[len(prefix) :]
        found += [(source["secretName"], i["key"]) for i in source["items"] if i["path"] == relative]
    assert len(found) == 1, f"{container}: {path} is mounted from {found}"
    return found[0]


def _ref(ref: SecretKeyRef) -> tuple[str, str]:
    return ref.name, ref.key


def _loki_endpoint(stack: Stack) -> dict[str, Any]:
    config = parse(stack.config_data("alloy-config")["config.alloy"])
    (write,) = [b for b in config["blocks"] if b["name"] == "loki.write"]
    (endpoint,) = write["blocks"]
    assert endpoint["name"] == "endpoint"
    result: dict[str, Any] = endpoint
    return result


def _children(block: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["name"]: b["attrs"] for b in block["blocks"]}


def _datasource(stack: Stack) -> dict[str, Any]:
    doc = yaml.safe_load(stack.config_data("grafana-provisioning")["datasources.yaml"])
    (loki,) = [d for d in doc["datasources"] if d["type"] == "loki"]
    result: dict[str, Any] = loki
    return result


_FILE = re.compile(r"\$__file\{(/[^}]+)\}")


def _file_of(value: str) -> str:
    match = _FILE.fullmatch(value)
    assert match is not None, f"{value!r} is not a $__file{{...}} reference"
    return match[1]


def test_alloy_pushes_in_the_tenant_with_basic_auth_and_the_private_ca(
    stack: Stack, external: LokiExternalProps
) -> None:
    assert external.basic_auth is not None and external.ca is not None
    endpoint = _loki_endpoint(stack)
    assert endpoint["attrs"]["url"] == external.url + "/loki/api/v1/push"
    assert endpoint["attrs"]["tenant_id"] == external.tenant_id
    children = _children(endpoint)
    assert set(children) == {"basic_auth", "tls_config"}
    assert set(children["basic_auth"]) == {"username", "password_file"}
    assert children["basic_auth"]["username"] == external.basic_auth.username
    assert set(children["tls_config"]) == {"ca_file"}
    alloy = _pod_spec(stack, "DaemonSet", "alloy")
    password = _secret_behind(alloy, "alloy", children["basic_auth"]["password_file"])
    assert password == _ref(external.basic_auth.password)
    assert _secret_behind(alloy, "alloy", children["tls_config"]["ca_file"]) == _ref(external.ca)
    # Alloy has no fsGroup: the files must be readable by its user whatever their owner
    modes = {v["secret"]["defaultMode"] for v in alloy["volumes"] if v["name"].startswith("loki-secret")}
    assert modes and all(mode & 0o004 for mode in modes)


def test_grafana_queries_in_the_tenant_with_basic_auth_and_the_private_ca(
    stack: Stack, external: LokiExternalProps
) -> None:
    assert external.basic_auth is not None and external.ca is not None
    loki = _datasource(stack)
    assert loki["url"] == external.url
    assert (loki["basicAuth"], loki["basicAuthUser"]) == (True, external.basic_auth.username)
    assert loki["jsonData"]["httpHeaderName1"] == "X-Scope-OrgID"
    assert loki["jsonData"]["tlsAuthWithCACert"] is True
    secure = loki["secureJsonData"]
    assert secure["httpHeaderValue1"] == external.tenant_id
    grafana = _pod_spec(stack, "StatefulSet", "grafana")
    password = _secret_behind(grafana, "grafana", _file_of(secure["basicAuthPassword"]))
    assert password == _ref(external.basic_auth.password)
    assert _secret_behind(grafana, "grafana", _file_of(secure["tlsCACert"])) == _ref(external.ca)


def test_both_consumers_reach_the_external_loki_and_nothing_else_of_it(
    stack: Stack, external: LokiExternalProps
) -> None:
    for consumer in ("alloy", "grafana"):
        egress = stack.get("NetworkPolicy", f"allow-{consumer}-to-loki")["spec"]["egress"]
        assert egress == [
            {
                "ports": [{"port": 443, "protocol": "TCP"}],
                "to": [{"ipBlock": {"cidr": cidr}} for cidr in external.cidrs],
            }
        ]


def test_no_secret_object_and_only_references_in_the_manifests(stack: Stack) -> None:
    # the manifests reference the Secret; they never create it (its value would be in dist/)
    assert not stack.all("Secret")
    text = stack.yaml()
    assert "$__file{/etc/grafana/loki/" in text


def test_tenant_alone_adds_no_credentials_or_mounts() -> None:
    stack = synth_stack(
        {
            "loki": {
                "enabled": False,
                "external": {
                    "url": "https://loki.example.com",
                    "cidrs": ["203.0.113.0/24"],
                    "tenant_id": "t1",
                },
            }
        }
    )
    endpoint = _loki_endpoint(stack)
    assert endpoint["attrs"]["tenant_id"] == "t1"
    assert not endpoint["blocks"]  # system CAs, no credentials
    loki = _datasource(stack)
    assert "basicAuth" not in loki and "tlsAuthWithCACert" not in loki["jsonData"]
    assert set(loki["secureJsonData"]) == {"httpHeaderValue1"}
    for kind, name in (("DaemonSet", "alloy"), ("StatefulSet", "grafana")):
        assert not [v for v in _pod_spec(stack, kind, name)["volumes"] if v["name"].startswith("loki-secret")]


def test_secrets_of_two_names_get_two_volumes_and_distinct_paths() -> None:
    external = {
        "url": "https://loki.example.com",
        "cidrs": ["203.0.113.0/24"],
        "basic_auth": {"username": "u$1", "password": {"name": "loki-auth", "key": "password"}},
        "ca": {"name": "team-ca", "key": "bundle.pem"},
    }
    stack = synth_stack({"loki": {"enabled": False, "external": external}})
    children = _children(_loki_endpoint(stack))
    alloy = _pod_spec(stack, "DaemonSet", "alloy")
    assert _secret_behind(alloy, "alloy", children["basic_auth"]["password_file"]) == (
        "loki-auth",
        "password",
    )
    assert _secret_behind(alloy, "alloy", children["tls_config"]["ca_file"]) == ("team-ca", "bundle.pem")
    assert children["basic_auth"]["username"] == "u$1"
    loki = _datasource(stack)
    # provisioning files expand $NAME: a literal '$' in the user name is written '$$'
    assert loki["basicAuthUser"] == "u$$1"
    grafana = _pod_spec(stack, "StatefulSet", "grafana")
    secure = loki["secureJsonData"]
    assert _secret_behind(grafana, "grafana", _file_of(secure["basicAuthPassword"])) == (
        "loki-auth",
        "password",
    )
    assert _secret_behind(grafana, "grafana", _file_of(secure["tlsCACert"])) == ("team-ca", "bundle.pem")


def test_the_python_api_refuses_a_ca_for_an_http_loki() -> None:
    with pytest.raises(ValueError, match=r"'ca' verifies the certificate of an https:// Loki"):
        LokiExternalProps(
            url="http://loki-gateway.logging.svc",
            namespace_labels={"kubernetes.io/metadata.name": "logging"},
            ca=SecretKeyRef(name="ca", key="ca.crt"),
        )
