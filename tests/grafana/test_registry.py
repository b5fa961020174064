"""The GrafanaDashboard value type the construct provisions ConfigMaps from."""

from __future__ import annotations

import json

import pytest

from vaultaio_constructs.grafana.dashboards import GrafanaDashboard
from vaultaio_constructs.grafana.dashboards.common import Row, Unit, assemble, promql, timeseries

MINIMAL = json.dumps({"uid": "my-dash", "title": "My dashboard", "panels": []})


def test_from_json_reads_the_title_and_uid() -> None:
    dashboard = GrafanaDashboard.from_json("my-dash", MINIMAL)
    assert (dashboard.name, dashboard.title, dashboard.uid, dashboard.file_name) == (
        "my-dash",
        "My dashboard",
        "my-dash",
        "my-dash.json",
    )


def test_from_model_serialises_an_sdk_dashboard() -> None:
    model = assemble(
        uid="custom",
        title="Custom",
        description="A user's dashboard.",
        tags=["team"],
        rows=[
            Row(
                title="Health",
                panels=[timeseries("Up", [promql('up{job="vault"}')], description="d", unit=Unit.SHORT)],
            )
        ],
    )
    dashboard = GrafanaDashboard.from_model("custom", model)
    parsed = json.loads(dashboard.json)
    assert parsed["uid"] == "custom"
    assert parsed["tags"] == ["team", "vault-aio"]
    assert [p["id"] for p in parsed["panels"]] == [1, 2]


def test_fails_on_a_name_that_is_not_a_dns_label() -> None:
    with pytest.raises(ValueError, match="is not a valid name"):
        GrafanaDashboard.from_json("My_Dash", MINIMAL)


def test_fails_on_invalid_json() -> None:
    with pytest.raises(ValueError, match="'json' of dashboard 'broken' is not valid JSON"):
        GrafanaDashboard.from_json("broken", "{not json")


def test_fails_on_a_title_that_differs_from_the_json() -> None:
    with pytest.raises(
        ValueError, match=r"'title' \('Other'\) must equal the dashboard JSON's title \('My dashboard'\)"
    ):
        GrafanaDashboard(name="my-dash", title="Other", json=MINIMAL)


def test_fails_without_a_uid() -> None:
    with pytest.raises(ValueError, match="needs a 'uid' string of 1 to 40 characters, got None"):
        GrafanaDashboard.from_json("no-uid", json.dumps({"title": "No uid"}))


def test_fails_on_a_json_array() -> None:
    with pytest.raises(ValueError, match="must be a JSON object, got list"):
        GrafanaDashboard(name="arr", title="x", json="[1, 2]")


def test_fails_on_a_dashboard_without_rows() -> None:
    with pytest.raises(ValueError, match="dashboard 'empty' needs at least one row"):
        assemble(uid="empty", title="Empty", description="", tags=[], rows=[])
