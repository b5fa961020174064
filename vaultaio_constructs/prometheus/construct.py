"""Placeholder Prometheus construct (foundation): ServiceAccount and Service with the right name and ports.

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
from vaultaio_constructs.scrape import ScrapeTarget
from vaultaio_constructs.wiring import Endpoint
from vaultaio_constructs.workload import service, service_account


@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class PrometheusProps:
    """Settings of the Prometheus component."""

    #: Image tag overriding the pinned one in :mod:`vaultaio_constructs.versions`.
    image_tag: ImageTag | None = None
    #: Container resources (``None``: the profile's default).
    resources: Resources | None = Field(default=None)


class Prometheus(Component):
    """Prometheus (metrics)."""

    area = Area.MONITORING

    def __init__(self, scope: Construct, id: str, props: PrometheusProps | None = None) -> None:
        props = props or PrometheusProps()
        super().__init__(
            scope,
            id,
            name="prometheus",
            role="metrics",
            version=versions.version("prometheus", props.image_tag),
        )
        self.web = self.endpoint(port_name="web", port=9090)
        self.targets: list[ScrapeTarget] = []
        service_account(self)
        service(self, [self.web])

    @property
    def query_endpoint(self) -> Endpoint:
        """Where Grafana and people query Prometheus."""
        return self.web

    @property
    def remote_write_endpoint(self) -> Endpoint:
        """Where agents push samples (remote-write receiver)."""
        return self.web.with_path("/api/v1/write")

    @property
    def metrics_target(self) -> ScrapeTarget:
        return ScrapeTarget(job="prometheus", endpoint=self.web)

    def add_scrape_target(self, target: ScrapeTarget) -> None:
        """Scrape ``target``; refuses a second target with the same job name."""
        if any(t.job == target.job for t in self.targets):
            raise ValueError(f"prometheus already scrapes a job named {target.job!r}")
        self.connect(target.endpoint, reason=f"scrape {target.job} metrics")
        self.targets.append(target)

    def use_alertmanager(self, alertmanager: Alertmanager) -> None:
        """Send alerts to ``alertmanager``."""
        self.connect(alertmanager.web, reason="send alerts")
