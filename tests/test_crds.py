"""The CRD validator of ``tests/crds.py`` finds what the API server would refuse (so a passing custom resource
means something), and the custom-resource code stays off the default synth path."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from typing import Any

import pytest

from tests import crds
from tests.crds import REPO, crd, is_custom, validate_custom_resource, validate_object

POD_MONITOR: dict[str, Any] = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "PodMonitor",
    "metadata": {"name": "vault", "namespace": "vault-aio", "labels": {"release": "kube-prometheus-stack"}},
    "spec": {
        "selector": {"matchLabels": {"app.kubernetes.io/name": "vault"}},
        "podMetricsEndpoints": [{"port": "metrics", "path": "/v1/sys/metrics", "scheme": "https"}],
    },
}
ISSUER: dict[str, Any] = {
    "apiVersion": "cert-manager.io/v1",
    "kind": "ClusterIssuer",
    "metadata": {"name": "corp-ca"},
    "spec": {"ca": {"secretName": "corp-ca"}},
}


def _changed(body: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


def test_valid_objects_pass() -> None:
    assert validate_custom_resource(POD_MONITOR) == []
    assert validate_custom_resource(ISSUER) == []


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["spec", "podMetricsEndpoints"], [{"port": "metrics", "sheme": "https"}], "sheme"),  # unknown key
        (["spec", "podMetricsEndpoints"], [{"port": "metrics", "scheme": "gopher"}], "gopher"),  # enum
        (["spec", "selector"], "vault", "not of type 'object'"),
        (["spec", "extra"], {}, "extra"),
        (["metadata", "labels"], {"release": 1}, "metadata"),
    ],
)
def test_invalid_pod_monitors_fail(path: list[str], value: Any, message: str) -> None:
    problems = validate_custom_resource(_changed(POD_MONITOR, path, value))
    assert problems and any(message in p for p in problems), problems


def test_scope_is_checked_both_ways() -> None:
    no_namespace = copy.deepcopy(POD_MONITOR)
    del no_namespace["metadata"]["namespace"]
    assert any("must be set" in p for p in validate_custom_resource(no_namespace))
    namespaced = _changed(ISSUER, ["metadata", "namespace"], "vault-aio")
    assert any("must not be set" in p for p in validate_custom_resource(namespaced))


def test_an_unserved_version_is_refused() -> None:
    with pytest.raises(AssertionError, match="not served"):
        validate_custom_resource(_changed(POD_MONITOR, ["apiVersion"], "monitoring.coreos.com/v9"))


def test_every_kind_the_stack_emits_has_its_crd() -> None:
    for group, kind in (
        ("monitoring.coreos.com", "PodMonitor"),
        ("monitoring.coreos.com", "PrometheusRule"),
        ("monitoring.coreos.com", "Probe"),
        ("cert-manager.io", "Certificate"),
        ("cert-manager.io", "Issuer"),
        ("cert-manager.io", "ClusterIssuer"),
    ):
        assert crd(group, kind)["spec"]["group"] == group


def test_objects_are_routed_by_api_group() -> None:
    assert is_custom(POD_MONITOR) and is_custom(ISSUER)
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "y"}}
    assert not is_custom(config_map)
    assert validate_object(config_map, "1.27") == []
    assert validate_object(_changed(config_map, ["spec"], {}), "1.27") != []


def test_default_synth_loads_no_custom_resource_or_schema_code() -> None:
    """Only settings that ask for custom resources load their modules (and nothing loads jsonschema)."""
    code = (
        "import sys\n"
        "from vaultaio_constructs.output import build, render\n"
        "render(build()[1])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('vaultaio_constructs.crd', "
        "'vaultaio_constructs.integrations.prometheus_operator', 'vaultaio_constructs.vault.certificates', "
        "'jsonschema')))\n"
        "print(loaded)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_make_crds_downloads_the_modules_the_tests_read() -> None:
    """``make crds`` (for a clone without ``../shared/crds``) fetches exactly the module versions that
    :data:`tests.crds.CRD_MODULES` reads the files from."""
    makefile = (crds.REPO / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ncrds:\n", 1)[1].split("\n\n", 1)[0]
    downloaded = set(re.findall(r"(github\.com/[\w./-]+@v[\w.-]+)", recipe))
    assert downloaded == {f"{module}@{version}" for module, version, _ in crds.CRD_MODULES.values()}
