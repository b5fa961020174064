"""Placeholder Loki construct (foundation): ServiceAccount and Service with the right name and ports.

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
class LokiProps:
    """Settings of the Loki component."""

    #: Image tag overriding the pinned one in :mod:`vaultaio_constructs.versions`.
    image_tag: ImageTag | None = None
    #: Container resources (``None``: the profile's default).
    resources: Resources | None = Field(default=None)


class Loki(Component):
    """Loki (logs)."""

    area = Area.LOGGING

    def __init__(self, scope: Construct, id: str, props: LokiProps | None = None) -> None:
        props = props or LokiProps()
        super().__init__(
            scope, id, name="loki", role="logs", version=versions.version("loki", props.image_tag)
        )
        self.http = self.endpoint(port_name="http", port=3100)
        service_account(self)
        service(self, [self.http])

    @property
    def push_endpoint(self) -> Endpoint:
        return self.http.with_path("/loki/api/v1/push")

    @property
    def query_endpoint(self) -> Endpoint:
        return self.http

    @property
    def metrics_target(self) -> ScrapeTarget:
        return ScrapeTarget(job="loki", endpoint=self.http)

    def use_alertmanager(self, alertmanager: Alertmanager) -> None:
        """The ruler sends log-based alerts to ``alertmanager``."""
        self.connect(alertmanager.web, reason="send log-based alerts from the ruler")
