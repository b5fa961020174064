"""Structure of the five dashboards: stable identity, layout, rows health-first, units and variables."""

from __future__ import annotations

from typing import Any

import pytest

from tests.grafana.queries import dashboard_queries, iter_panels, referenced_variables
from vaultaio_constructs.grafana.dashboards import GrafanaDashboard, builtin_dashboards
from vaultaio_constructs.grafana.dashboards.common import GRID_COLUMNS, DatasourceUid

EXPECTED = {
    # name: (uid, title, rows top-down)
    "vault-overview": (
        "vault-overview",
        "Vault Overview",
        [
            "Health",
            "Requests",
            "Tokens and authentication",
            "Secret engines (KV and PKI)",
            "Leases",
            "Raft storage",
            "Audit devices",
            "Go runtime",
        ],
    ),
    "vault-audit": (
        "vault-audit",
        "Vault Audit Logs",
        ["Overview", "Authentication", "Policy violations", "Access patterns", "Audit entries"],
    ),
    "vm-system": (
        "vm-system",
        "VM System Metrics",
        ["Health", "CPU", "Memory", "Disk and filesystems", "Network", "Time synchronisation", "Node logs"],
    ),
    "container-logs": ("container-logs", "Container Logs", ["Log pipeline health", "Log volume", "Logs"]),
    "trace-explorer": (
        "trace-explorer",
        "Trace Explorer",
        ["Trace pipeline health", "Recent traces", "Span durations", "Logs with trace context"],
    ),
}

EXPECTED_VARIABLES = {
    "vault-overview": ["datasource", "loki_datasource", "instance"],
    "vault-audit": ["loki_datasource", "pod", "operation", "mount_type", "path", "client"],
    "vm-system": ["datasource", "loki_datasource", "instance", "search"],
    "container-logs": ["datasource", "loki_datasource", "namespace", "app", "pod", "container", "search"],
    "trace-explorer": [
        "datasource",
        "loki_datasource",
        "tempo_datasource",
        "service",
        "min_duration",
        "namespace",
    ],
}

BUILTINS = {"__rate_interval", "__interval", "__range", "__trace", "__value"}


def test_the_five_dashboards_in_order(dashboards: tuple[GrafanaDashboard, ...]) -> None:
    assert [d.name for d in dashboards] == list(EXPECTED)
    for dashboard in dashboards:
        uid, title, _ = EXPECTED[dashboard.name]
        assert (dashboard.uid, dashboard.title, dashboard.file_name) == (uid, title, f"{dashboard.name}.json")


def test_json_is_deterministic(dashboards: tuple[GrafanaDashboard, ...]) -> None:
    again = builtin_dashboards()
    assert [d.json for d in again] == [d.json for d in dashboards]
    for dashboard in dashboards:
        lines = dashboard.json.splitlines()
        assert lines[1].startswith('  "annotations"'), "keys are not sorted"
        assert dashboard.json.endswith("}\n")


@pytest.mark.parametrize("name", list(EXPECTED))
def test_rows_read_top_down_from_health_to_detail(models: dict[str, dict[str, Any]], name: str) -> None:
    rows = [p["title"] for p in models[name]["panels"] if p["type"] == "row"]
    assert rows == EXPECTED[name][2]
    first_row_panels = []
    for panel in models[name]["panels"][1:]:
        if panel["type"] == "row":
            break
        first_row_panels.append(panel["type"])
    assert first_row_panels and set(first_row_panels) <= {"stat", "text"}, (
        "the first row must be health stats"
    )


@pytest.mark.parametrize("name", list(EXPECTED))
def test_panel_ids_are_stable_and_layout_fits_the_grid(models: dict[str, dict[str, Any]], name: str) -> None:
    panels = list(iter_panels(models[name]))
    assert [p["id"] for p in panels] == list(range(1, len(panels) + 1))
    occupied: set[tuple[int, int]] = set()
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= GRID_COLUMNS, panel["title"]
        cells = {
            (x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not cells & occupied, f"{panel['title']!r} overlaps another panel"
        occupied |= cells
    ys = [p["gridPos"]["y"] for p in panels]
    assert ys == sorted(ys), "panels must be listed in reading order"


def _pickers(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in model["templating"]["list"] if v["type"] == "datasource"}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_query_targets_a_provisioned_datasource(models: dict[str, dict[str, Any]], name: str) -> None:
    """Through the variable of its type, which defaults to the data source the stack provisions."""
    uids = {str(uid) for uid in DatasourceUid}
    pickers = _pickers(models[name])
    model = models[name]
    sources = [(p["title"], p["datasource"]) for p in iter_panels(model) if p["type"] not in ("row", "text")]
    variables = model["templating"]["list"]
    sources += [(f"variable {v['name']}", v["datasource"]) for v in variables if "datasource" in v]
    for where, source in sources:
        picker = pickers[source["uid"].removeprefix("${").removesuffix("}")]
        assert picker["query"] == source["type"] == picker["current"]["value"], where
        assert picker["current"]["value"] in uids, where
    for panel in iter_panels(models[name]):
        if panel["type"] in ("row", "text"):
            continue
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert ref_ids == [chr(ord("A") + i) for i in range(len(ref_ids))], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"], panel["title"]


def test_datasource_pickers_come_first_and_only_for_used_types(models: dict[str, dict[str, Any]]) -> None:
    """Grafana resolves variables in order: a query variable can only use a picker defined before it."""
    for name, model in models.items():
        kinds = [v["type"] for v in model["templating"]["list"]]
        assert kinds == sorted(kinds, key=lambda k: k != "datasource"), name
        used = {p["datasource"]["type"] for p in iter_panels(model) if "datasource" in p}
        used |= {v["datasource"]["type"] for v in model["templating"]["list"] if "datasource" in v}
        assert {v["query"] for v in _pickers(model).values()} == used, name


@pytest.mark.parametrize("name", list(EXPECTED))
def test_variables_are_defined_and_used(models: dict[str, dict[str, Any]], name: str) -> None:
    model = models[name]
    defined = [v["name"] for v in model["templating"]["list"]]
    assert defined == EXPECTED_VARIABLES[name]
    used: set[str] = {
        str(source["uid"]).removeprefix("${").removesuffix("}")
        for source in [p.get("datasource") for p in iter_panels(model)]
        + [v.get("datasource") for v in model["templating"]["list"]]
        if source
    }
    for query in dashboard_queries(model):
        refs = referenced_variables(query.expr)
        assert refs <= set(defined) | BUILTINS, f"{query.panel}: undefined variables {refs - set(defined)}"
        used |= refs
    assert set(defined) <= used, f"variables never used: {set(defined) - used}"
    for variable in model["templating"]["list"]:
        if variable["type"] == "query":
            assert variable["refresh"] == 2, "label values must follow the time range"


def _units(model: dict[str, Any]) -> dict[str, str]:
    return {
        p["title"]: p["fieldConfig"]["defaults"].get("unit", "")
        for p in iter_panels(model)
        if p["type"] in ("stat", "timeseries")
    }


def test_every_graph_and_stat_has_a_unit(models: dict[str, dict[str, Any]]) -> None:
    for name, model in models.items():
        for title, unit in _units(model).items():
            assert unit, f"{name}: {title!r} has no unit"


def test_units_match_what_the_queries_measure(models: dict[str, dict[str, Any]]) -> None:
    overview = _units(models["vault-overview"])
    assert overview["Average request latency"] == "ms"  # Vault summaries are in milliseconds
    assert overview["Leader last contact (average)"] == "ms"
    assert overview["GC pause (average)"] == "ns"
    assert overview["Request rate by node"] == "reqps"
    assert overview["TLS certificate expires in"] == "dtdurations"
    system = _units(models["vm-system"])
    assert system["Memory"] == "bytes"
    assert system["Network traffic"] == "bps"  # bytes * 8
    assert system["CPU busy"] == "percentunit"
    assert system["Disk throughput"] == "Bps"
    assert system["Clock offset"] == "s"
    for name, model in models.items():
        for panel in iter_panels(model):
            exprs = " ".join(t.get("expr", "") for t in panel.get("targets", []))
            if "_sum{" in exprs and "vault_" in exprs:
                unit = panel["fieldConfig"]["defaults"]["unit"]
                assert unit in ("ms", "ns"), f"{name}: {panel['title']!r} averages a Vault summary as {unit}"
            if "* 8" in exprs:
                assert panel["fieldConfig"]["defaults"]["unit"] == "bps"


def test_seal_status_maps_values_to_words(models: dict[str, dict[str, Any]]) -> None:
    seal = next(p for p in iter_panels(models["vault-overview"]) if p["title"] == "Seal status")
    options = seal["fieldConfig"]["defaults"]["mappings"][0]["options"]
    assert (options["0"]["text"], options["0"]["color"]) == ("Sealed", "red")
    assert (options["1"]["text"], options["1"]["color"]) == ("Unsealed", "green")
    assert seal["targets"][0]["expr"] == 'vault_core_unsealed{job="vault", instance=~"$instance"}'


def test_trace_explorer_searches_tempo_and_links_logs(models: dict[str, dict[str, Any]]) -> None:
    model = models["trace-explorer"]
    tempo = [p for p in iter_panels(model) if p.get("datasource", {}).get("type") == "tempo"]
    assert [p["title"] for p in tempo] == ["Traces", "Failed traces", "Slowest server spans"]
    for panel in tempo:
        (target,) = panel["targets"]
        assert target["queryType"] == "traceql"
        query = target["query"]
        assert query.startswith("{") and query.endswith("}") and query.count("{") == query.count("}")
        assert 'resource.service.name=~"$service"' in query
    assert [p["targets"][0]["tableType"] for p in tempo] == ["traces", "traces", "spans"]
    service = next(v for v in model["templating"]["list"] if v["name"] == "service")
    assert service["datasource"] == {"type": "tempo", "uid": "${tempo_datasource}"}
    assert service["query"] == {
        "label": "service.name",
        "refId": "TempoDatasourceVariableQueryEditor-VariableQuery",
        "type": 1,
    }
    logs = [p for p in iter_panels(model) if p["type"] == "logs"]
    assert len(logs) == 2


def test_fails_on_a_panel_wider_than_the_grid() -> None:
    """An over-wide panel is refused when it is built, before layout."""
    from vaultaio_constructs.grafana.dashboards.common import Unit, promql, timeseries

    with pytest.raises(ValueError, match="w must be <= 24"):
        timeseries("x", [promql("up")], description="x", unit=Unit.SHORT, width=25)
