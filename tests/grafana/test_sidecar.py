"""The dashboard ConfigMaps serve a Grafana dashboard sidecar (kube-prometheus-stack's Grafana) as they are:
label and folder annotation from settings, and data sources picked through variables, never fixed UIDs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.grafana.queries import iter_panels
from tests.stack import Stack, synth_stack
from vaultaio_constructs.settings import SettingsError, parse_settings


def _dashboard_maps(stack: Stack) -> list[dict[str, Any]]:
    return [m.body for m in stack.manifests if m.path.startswith("dashboards/")]


def test_defaults_match_kube_prometheus_stack_and_the_sidecar_folder_annotation(stack: Stack) -> None:
    maps = _dashboard_maps(stack)
    assert len(maps) == 5
    for config_map in maps:
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert config_map["metadata"]["annotations"] == {"k8s-sidecar-target-directory": "vault-aio"}


def test_label_and_folder_from_settings() -> None:
    sidecar = {"label_key": "example.com/dashboard", "label_value": "", "folder": "Platform/Vault"}
    sidecar["folder_annotation"] = "grafana_folder"
    stack = synth_stack({"grafana": {"dashboard_sidecar": sidecar}})
    for config_map in _dashboard_maps(stack):
        assert config_map["metadata"]["labels"]["example.com/dashboard"] == ""
        assert "grafana_dashboard" not in config_map["metadata"]["labels"]
        assert config_map["metadata"]["annotations"] == {"grafana_folder": "Platform/Vault"}


def test_no_dashboard_names_a_fixed_datasource_uid(stack: Stack) -> None:
    """A fixed UID would break in a Grafana whose data sources have other UIDs."""
    for config_map in _dashboard_maps(stack):
        (text,) = config_map["data"].values()
        model = json.loads(text)
        refs = [p["datasource"] for p in iter_panels(model) if "datasource" in p]
        refs += [v["datasource"] for v in model["templating"]["list"] if "datasource" in v]
        for panel in iter_panels(model):
            refs += [t["datasource"] for t in panel.get("targets", []) if "datasource" in t]
        assert refs, config_map["metadata"]["name"]
        fixed = [r for r in refs if not str(r["uid"]).startswith("${")]
        assert not fixed, f"{config_map['metadata']['name']}: {fixed[:3]}"


@pytest.mark.parametrize(
    ("sidecar", "message"),
    [
        ({"folder": "/abs"}, "'folder' must be a relative folder path"),
        ({"folder": "a/../b"}, "'folder' must be a relative folder path"),
        ({"label_value": "not ok"}, "'label_value' must be a label value"),
        ({"label_key": "bad key"}, "annotation key 'bad key' is invalid"),
    ],
)
def test_fails_on_bad_sidecar_settings(sidecar: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_settings({"grafana": {"dashboard_sidecar": sidecar}})
