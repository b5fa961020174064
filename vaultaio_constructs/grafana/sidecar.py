"""Dashboard ConfigMaps without a Grafana of the stack's own (``grafana.dashboard_sidecar.without_grafana``).

With ``grafana.enabled: false`` the stack runs no Grafana, but a Grafana you run (kube-prometheus-stack's)
can still load the built-in dashboards through its dashboard sidecar. This component emits them as the
Grafana construct would: one ConfigMap ``grafana-dashboard-<name>`` per dashboard in ``dashboards/``, with
the sidecar label and folder annotation of :class:`~vaultaio_constructs.grafana.construct.
GrafanaDashboardSidecarProps`. Only data your Grafana can reach is shown: each dashboard is restricted to
the data-source types of the stores you run (:meth:`GrafanaDashboard.restricted_to`), and a dashboard
about a store you do not run is left out. Queries pick data sources through variables, so your data
sources' UIDs do not matter.
"""

from __future__ import annotations

from collections.abc import Iterable

from constructs import Construct

from vaultaio_constructs import kube
from vaultaio_constructs.component import Component
from vaultaio_constructs.grafana.construct import DASHBOARD_CONFIGMAP_PREFIX
from vaultaio_constructs.grafana.dashboards import (
    BUILTIN_PRIMARY_DATASOURCE,
    DatasourceUid,
    GrafanaDashboard,
    builtin_dashboards,
)
from vaultaio_constructs.grafana.props import GrafanaDashboardSidecarProps
from vaultaio_constructs.placement import Area


def sidecar_dashboards(sources: Iterable[DatasourceUid]) -> tuple[GrafanaDashboard, ...]:
    """The built-in dashboards a Grafana with data sources of these types can fill."""
    uids = {str(uid) for uid in sources}
    kept = []
    for dashboard in builtin_dashboards():
        if str(BUILTIN_PRIMARY_DATASOURCE[dashboard.name]) not in uids:
            continue
        restricted = dashboard.restricted_to(uids)
        if restricted is not None:
            kept.append(restricted)
    return tuple(kept)


class SidecarDashboards(Component):
    """The built-in dashboards as sidecar ConfigMaps, for a Grafana outside the stack."""

    area = Area.DASHBOARDS

    def __init__(
        self,
        scope: Construct,
        id: str,
        props: GrafanaDashboardSidecarProps,
        *,
        sources: Iterable[DatasourceUid],
    ) -> None:
        super().__init__(scope, id, name="grafana-dashboards", role="dashboards", version="1")
        self.dashboards = sidecar_dashboards(sources)
        if not self.dashboards:
            raise ValueError(
                "'grafana.dashboard_sidecar.without_grafana' needs a store your Grafana can query: set "
                "'prometheus.external' (or 'loki.external' / 'tempo.external') to the one it uses"
            )
        for dashboard in self.dashboards:
            self.track(
                kube.KubeConfigMap(
                    self,
                    f"Dashboard-{dashboard.name}",
                    metadata=self.meta(
                        DASHBOARD_CONFIGMAP_PREFIX + dashboard.name,
                        labels={props.label_key: props.label_value},
                        annotations={props.folder_annotation: props.folder},
                    ),
                    data={dashboard.file_name: dashboard.json},
                )
            )


__all__ = ["SidecarDashboards", "sidecar_dashboards"]
