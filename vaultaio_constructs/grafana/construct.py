"""Placeholder Grafana construct (foundation): ServiceAccount and Service with the right name and ports.

The component issue replaces this with the full construct; the public names stay.
"""

from __future__ import annotations

from constructs import Construct
from pydantic import Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs import versions
from vaultaio_constructs.alertmanager.construct import Alertmanager
from vaultaio_constructs.common import PROPS_CONFIG, ImageTag, Resources
from vaultaio_constructs.component import Area, Component
from vaultaio_constructs.loki.construct import Loki
from vaultaio_constructs.prometheus.construct import Prometheus
from vaultaio_constructs.scrape import ScrapeTarget
from vaultaio_constructs.tempo.construct import Tempo
from vaultaio_constructs.workload import service, service_account


@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class GrafanaProps:
    """Settings of the Grafana component."""

    #: Image tag overriding the pinned one in :mod:`vaultaio_constructs.versions`.
    image_tag: ImageTag | None = None
    #: Container resources (``None``: the profile's default).
    resources: Resources | None = Field(default=None)


class Grafana(Component):
    """Grafana (dashboards)."""

    area = Area.MONITORING

    def __init__(self, scope: Construct, id: str, props: GrafanaProps | None = None) -> None:
        props = props or GrafanaProps()
        super().__init__(
            scope, id, name="grafana", role="dashboards", version=versions.version("grafana", props.image_tag)
        )
        self.http = self.endpoint(port_name="http", port=3000)
        service_account(self)
        service(self, [self.http])

    def use_prometheus(self, prometheus: Prometheus) -> None:
        self.connect(prometheus.query_endpoint, reason="query metrics")

    def use_loki(self, loki: Loki) -> None:
        self.connect(loki.query_endpoint, reason="query logs")

    def use_tempo(self, tempo: Tempo) -> None:
        self.connect(tempo.query_endpoint, reason="query traces")

    def use_alertmanager(self, alertmanager: Alertmanager) -> None:
        self.connect(alertmanager.web, reason="show and silence alerts")

    @property
    def metrics_target(self) -> ScrapeTarget:
        return ScrapeTarget(job="grafana", endpoint=self.http)
