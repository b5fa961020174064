"""Placeholder Alertmanager construct (foundation): ServiceAccount and Service with the right name and ports.

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
from vaultaio_constructs.workload import service, service_account


@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class AlertmanagerProps:
    """Settings of the Alertmanager component."""

    #: Image tag overriding the pinned one in :mod:`vaultaio_constructs.versions`.
    image_tag: ImageTag | None = None
    #: Container resources (``None``: the profile's default).
    resources: Resources | None = Field(default=None)


class Alertmanager(Component):
    """Alertmanager (alerting)."""

    area = Area.MONITORING

    def __init__(self, scope: Construct, id: str, props: AlertmanagerProps | None = None) -> None:
        props = props or AlertmanagerProps()
        super().__init__(
            scope,
            id,
            name="alertmanager",
            role="alerting",
            version=versions.version("alertmanager", props.image_tag),
        )
        self.web = self.endpoint(port_name="web", port=9093)
        service_account(self)
        service(self, [self.web])

    @property
    def metrics_target(self) -> ScrapeTarget:
        return ScrapeTarget(job="alertmanager", endpoint=self.web)
