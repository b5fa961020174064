"""Placeholder Chrony construct (foundation): ServiceAccount and Service with the right name and ports.

The component issue replaces this with the full construct; the public names stay.
"""

from __future__ import annotations

from constructs import Construct
from pydantic import Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs import versions
from vaultaio_constructs.common import PROPS_CONFIG, ImageTag, Protocol, Resources
from vaultaio_constructs.component import Area, Component
from vaultaio_constructs.wiring import Scheme
from vaultaio_constructs.workload import service, service_account


@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class ChronyProps:
    """Settings of the Chrony component."""

    #: Image tag overriding the pinned one in :mod:`vaultaio_constructs.versions`.
    image_tag: ImageTag | None = None
    #: Container resources (``None``: the profile's default).
    resources: Resources | None = Field(default=None)


class Chrony(Component):
    """Chrony (time-sync)."""

    area = Area.NTP

    def __init__(self, scope: Construct, id: str, props: ChronyProps | None = None) -> None:
        props = props or ChronyProps()
        super().__init__(
            scope, id, name="chrony", role="time-sync", version=versions.version("chrony", props.image_tag)
        )
        self.ntp = self.endpoint(port_name="ntp", port=123, protocol=Protocol.UDP, scheme=Scheme.NTP)
        service_account(self)
        service(self, [self.ntp])
