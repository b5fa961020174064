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


# -- without a Grafana of the stack's own ------------------------------------------------------------------

EXTERNAL_PROMETHEUS = {
    "url": "http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
    "namespace_labels": {"kubernetes.io/metadata.name": "monitoring"},
}
EXTERNAL_LOKI = {
    "url": "http://loki-gateway.logging.svc",
    "namespace_labels": {"kubernetes.io/metadata.name": "logging"},
    "ports": [8080],
}


def _without_grafana(**stores: dict[str, Any]) -> dict[str, Any]:
    return {"grafana": {"enabled": False, "dashboard_sidecar": {"without_grafana": True}}, **stores}


def test_no_dashboards_without_grafana_unless_asked() -> None:
    stack = synth_stack({"grafana": {"enabled": False}})
    assert _dashboard_maps(stack) == []


def test_without_grafana_ships_what_the_stores_you_run_can_fill() -> None:
    prometheus = {"enabled": False, "external": EXTERNAL_PROMETHEUS}
    alertmanager = {
        "enabled": False,
        "external": {**EXTERNAL_PROMETHEUS, "url": "http://am.monitoring.svc:9093"},
    }
    only_prometheus = synth_stack(_without_grafana(prometheus=prometheus, alertmanager=alertmanager))
    names = {m["metadata"]["name"] for m in _dashboard_maps(only_prometheus)}
    assert names == {"grafana-dashboard-vault-overview", "grafana-dashboard-vm-system"}
    for config_map in _dashboard_maps(only_prometheus):
        (text,) = config_map["data"].values()
        assert '"type": "loki"' not in text  # the overview's audit-log panels need the stack's own Loki
    with_loki = synth_stack(
        _without_grafana(
            prometheus=prometheus,
            alertmanager=alertmanager,
            loki={"enabled": False, "external": EXTERNAL_LOKI},
        )
    )
    names = {m["metadata"]["name"] for m in _dashboard_maps(with_loki)}
    assert names == {
        "grafana-dashboard-vault-overview",
        "grafana-dashboard-vault-audit",
        "grafana-dashboard-vm-system",
        "grafana-dashboard-container-logs",
    }


def test_without_grafana_fails_when_no_store_of_yours_could_fill_a_dashboard() -> None:
    with pytest.raises(ValueError, match=r"'grafana\.dashboard_sidecar\.without_grafana' needs a store"):
        synth_stack(_without_grafana())
