"""Fixtures shared by the Grafana tests: the built-in dashboards, built and parsed once per module."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vaultaio_constructs.grafana.dashboards import GrafanaDashboard, builtin_dashboards


@pytest.fixture(scope="module")
def dashboards() -> tuple[GrafanaDashboard, ...]:
    return builtin_dashboards()


@pytest.fixture(scope="module")
def models(dashboards: tuple[GrafanaDashboard, ...]) -> dict[str, dict[str, Any]]:
    """Dashboard name -> parsed JSON model."""
    return {dashboard.name: json.loads(dashboard.json) for dashboard in dashboards}
