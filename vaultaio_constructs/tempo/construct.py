"""Placeholder Tempo construct (foundation): ServiceAccount and Service with the right name and ports.

The component issue replaces this with the full construct; the public names stay.
"""

from __future__ import annotations

from constructs import Construct
from pydantic import Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs import versions
from vaultaio_constructs.common import PROPS_CONFIG, ImageTag, Resources
from vaultaio_constructs.component import Area, Component
from vaultaio_constructs.scrape import ScrapeTarget
from vaultaio_constructs.wiring import Endpoint, Scheme
from vaultaio_constructs.workload import service, service_account


@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class TempoProps:
    """Settings of the Tempo component."""

    #: Image tag overriding the pinned one in :mod:`vaultaio_constructs.versions`.
    image_tag: ImageTag | None = None
    #: Container resources (``None``: the profile's default).
    resources: Resources | None = Field(default=None)


class Tempo(Component):
    """Tempo (traces)."""

    area = Area.TRACING

    def __init__(self, scope: Construct, id: str, props: TempoProps | None = None) -> None:
        props = props or TempoProps()
        super().__init__(
            scope, id, name="tempo", role="traces", version=versions.version("tempo", props.image_tag)
        )
        self.http = self.endpoint(port_name="http", port=3200)
        self.otlp_grpc = self.endpoint(port_name="otlp-grpc", port=4317, scheme=Scheme.GRPC)
        service_account(self)
        service(self, [self.http, self.otlp_grpc])

    @property
    def query_endpoint(self) -> Endpoint:
        return self.http

    @property
    def metrics_target(self) -> ScrapeTarget:
        return ScrapeTarget(job="tempo", endpoint=self.http)
