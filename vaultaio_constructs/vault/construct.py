"""Placeholder Vault construct (foundation): ServiceAccount and Service with the right name and ports.

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
from vaultaio_constructs.wiring import Scheme
from vaultaio_constructs.workload import service, service_account


@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class VaultProps:
    """Settings of the Vault component."""

    #: Image tag overriding the pinned one in :mod:`vaultaio_constructs.versions`.
    image_tag: ImageTag | None = None
    #: Container resources (``None``: the profile's default).
    resources: Resources | None = Field(default=None)


class Vault(Component):
    """Vault (secrets-store)."""

    area = Area.VAULT

    def __init__(self, scope: Construct, id: str, props: VaultProps | None = None) -> None:
        props = props or VaultProps()
        super().__init__(
            scope, id, name="vault", role="secrets-store", version=versions.version("vault", props.image_tag)
        )
        self.api = self.endpoint(port_name="https", port=8200, scheme=Scheme.HTTPS)
        service_account(self)
        service(self, [self.api])

    @property
    def metrics_target(self) -> ScrapeTarget:
        return ScrapeTarget(
            job="vault", endpoint=self.api, metrics_path="/v1/sys/metrics", params={"format": ("prometheus",)}
        )
