"""Sizing profiles: default CPU/memory per container and PVC sizes, in one table.

``small`` fits the stack beside k3s on a 2 vCPU / 4 GiB VM (total requests at most 1000m CPU and 2 GiB);
``production`` gives every component room for real load. A component's ``resources`` setting overrides
its row. See ``docs/PERFORMANCE.md`` for the measured footprint and the reasons behind each number.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from vaultaio_constructs.common import Resources


class Profile(StrEnum):
    """Sizing profile of the whole stack."""

    SMALL = "small"
    PRODUCTION = "production"


def _r(cpu: int, mem: int, mem_limit: int, cpu_limit: int | None = None) -> Resources:
    return Resources(
        cpu_request_millicores=cpu,
        memory_request_mib=mem,
        memory_limit_mib=mem_limit,
        cpu_limit_millicores=cpu_limit,
    )


#: (component, container) -> resources per profile.
RESOURCES: Final[dict[Profile, dict[str, Resources]]] = {
    Profile.SMALL: {
        "vault": _r(150, 256, 512),
        "prometheus": _r(150, 384, 768),
        "alertmanager": _r(20, 48, 128),
        "grafana": _r(75, 160, 384),
        "loki": _r(150, 320, 640),
        "tempo": _r(75, 192, 512),
        "alloy": _r(100, 192, 512),
        "chrony": _r(10, 16, 64),
        "backup": _r(20, 32, 128),
    },
    Profile.PRODUCTION: {
        "vault": _r(500, 1024, 2048),
        "prometheus": _r(1000, 2048, 4096),
        "alertmanager": _r(100, 128, 256),
        "grafana": _r(250, 512, 1024),
        "loki": _r(1000, 2048, 4096),
        "tempo": _r(500, 1024, 2048),
        "alloy": _r(250, 512, 1024),
        "chrony": _r(20, 32, 64),
        "backup": _r(50, 64, 256),
    },
}

#: component -> PVC size in GiB per profile.
STORAGE_GIB: Final[dict[Profile, dict[str, int]]] = {
    Profile.SMALL: {"vault": 5, "prometheus": 10, "alertmanager": 1, "grafana": 1, "loki": 10, "tempo": 5},
    Profile.PRODUCTION: {
        "vault": 20,
        "prometheus": 100,
        "alertmanager": 2,
        "grafana": 5,
        "loki": 100,
        "tempo": 50,
    },
}


def default_resources(profile: Profile, container: str) -> Resources:
    """Resources for ``container`` under ``profile``."""
    return RESOURCES[profile][container]


def default_storage_gib(profile: Profile, component: str) -> int:
    """PVC size for ``component`` under ``profile``."""
    return STORAGE_GIB[profile][component]
