"""Placeholder Alloy construct (foundation): ServiceAccount and Service with the right name and ports.

The component issue replaces this with the full construct; the public names stay.
"""

from __future__ import annotations

from constructs import Construct
from pydantic import Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs import versions
from vaultaio_constructs.common import PROPS_CONFIG, ImageTag, Resources
from vaultaio_constructs.component import Area, Component
from vaultaio_constructs.loki.construct import Loki
from vaultaio_constructs.prometheus.construct import Prometheus
from vaultaio_constructs.tempo.construct import Tempo
from vaultaio_constructs.wiring import Endpoint, Scheme
from vaultaio_constructs.workload import service, service_account


@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class AlloyProps:
    """Settings of the Alloy component."""

    #: Image tag overriding the pinned one in :mod:`vaultaio_constructs.versions`.
    image_tag: ImageTag | None = None
    #: Container resources (``None``: the profile's default).
    resources: Resources | None = Field(default=None)


class Alloy(Component):
    """Alloy (collector)."""

    area = Area.LOGGING

    def __init__(self, scope: Construct, id: str, props: AlloyProps | None = None) -> None:
        props = props or AlloyProps()
        super().__init__(
            scope, id, name="alloy", role="collector", version=versions.version("alloy", props.image_tag)
        )
        self.http = self.endpoint(port_name="http", port=12345)
        self.otlp_grpc = self.endpoint(port_name="otlp-grpc", port=4317, scheme=Scheme.GRPC)
        service_account(self)
        service(self, [self.http, self.otlp_grpc])

    def ship_logs_to(self, loki: Loki) -> None:
        self.connect(loki.push_endpoint, reason="ship pod, node and Vault audit logs")

    def ship_traces_to(self, tempo: Tempo) -> None:
        self.connect(tempo.otlp_grpc, reason="forward OTLP traces")

    def remote_write_to(self, prometheus: Prometheus) -> None:
        self.connect(prometheus.remote_write_endpoint, reason="remote-write node, probe and agent metrics")

    def probe_tls(self, endpoint: Endpoint) -> None:
        self.connect(endpoint, reason="probe the TLS certificate for expiry")
