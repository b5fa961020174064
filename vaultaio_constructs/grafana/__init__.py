"""Grafana: provisioning (data sources, dashboard provider, ``grafana.ini``) and the stack's dashboards."""

from vaultaio_constructs.grafana.dashboards import GrafanaDashboard, builtin_dashboards
from vaultaio_constructs.grafana.dashboards.datasources import DatasourceUid
from vaultaio_constructs.grafana.provisioning import (
    DatasourceUrls,
    dashboard_providers,
    datasources,
    grafana_ini,
    render_dashboard_providers,
    render_datasources,
    render_ini,
)

__all__ = [
    "DatasourceUid",
    "DatasourceUrls",
    "GrafanaDashboard",
    "builtin_dashboards",
    "dashboard_providers",
    "datasources",
    "grafana_ini",
    "render_dashboard_providers",
    "render_datasources",
    "render_ini",
]
