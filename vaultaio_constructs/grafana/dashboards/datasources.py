"""The data sources the dashboards query, by UID and by the dashboard variable that picks each one.

Kept apart from :mod:`~vaultaio_constructs.grafana.dashboards.common` (which builds dashboards with
grafana-foundation-sdk) so that provisioning and the Grafana construct load without the SDK.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class DatasourceUid(StrEnum):
    """UIDs of the provisioned data sources; ``provisioning.render_datasources`` sets exactly these."""

    PROMETHEUS = "prometheus"
    LOKI = "loki"
    TEMPO = "tempo"
    ALERTMANAGER = "alertmanager"


#: The dashboard variable that picks the data source of each type. Every query names its data source through
#: it (``${datasource}``), so the same dashboard works in the stack's Grafana, where the variable defaults to
#: the provisioned UID, and in any other Grafana that loads the ConfigMaps through its dashboard sidecar:
#: there Grafana falls back to the first data source of that type when the UID is unknown, and the variable
#: lets people pick another one. ``datasource`` for Prometheus is the name the community dashboards use.
DATASOURCE_VARIABLES: Final = {
    DatasourceUid.PROMETHEUS: "datasource",
    DatasourceUid.LOKI: "loki_datasource",
    DatasourceUid.TEMPO: "tempo_datasource",
    DatasourceUid.ALERTMANAGER: "alertmanager_datasource",
}
