"""The settings of Chrony (``chrony`` in the settings file): its props and their checks, built by
:class:`vaultaio_constructs.chrony.construct.Chrony`. No jsii here: the settings import it without starting
Node.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.chrony.config import (
    LeapSecondSource,
    SourceKind,
    check_ntp_host,
)
from vaultaio_constructs.common import (
    PROPS_CONFIG,
    Cidr,
    DnsLabel,
    WorkloadProps,
)
from vaultaio_constructs.fielddocs import document_fields

NtpHost = Annotated[str, AfterValidator(check_ntp_host)]


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class NtpServerProps:
    """One NTP server (or pool) chronyd synchronises with, and where it may send packets to reach it."""

    name: DnsLabel = Field(
        description="Short name, used in the NetworkPolicy name (``allow-chrony-to-<name>``).",
    )
    address: NtpHost = Field(description="Hostname or IP address written to ``chrony.conf``.")
    cidrs: Annotated[tuple[Cidr, ...], Field(min_length=1)] = Field(
        description=(
            "Networks the server's addresses are in: NTP egress is allowed there only. For a pool, whose "
            "members change, this has to be broad (``0.0.0.0/0``); prefer fixed servers."
        ),
    )
    kind: SourceKind = Field(
        default=SourceKind.SERVER,
        description="``server`` (one host) or ``pool`` (a name for several servers).",
    )
    iburst: bool = Field(default=True, description="``iburst``: fast first synchronisation.")
    nts: bool = Field(
        default=False,
        description=(
            "``nts``: authenticate with Network Time Security (adds egress to 4460/TCP for key "
            "establishment)."
        ),
    )
    prefer: bool = Field(default=False, description="``prefer`` this source.")
    max_sources: Annotated[int, Field(ge=1, le=16)] | None = Field(
        default=None,
        description="``maxsources`` for a pool (``None``: chrony's default, 4).",
    )

    def __post_init__(self) -> None:
        if self.max_sources is not None and self.kind is not SourceKind.POOL:
            raise ValueError(
                f"'max_sources' is only valid for a pool, got it for server {self.address!r}: "
                "set kind: pool or remove max_sources"
            )


#: Google Public NTP: ``time.google.com`` answers from 216.239.35.0/4/8/12 and 2001:4860:4806::/::4/::8/::c.
#: Google smears leap seconds; do not mix it with servers that do not.
GOOGLE_PUBLIC_NTP: Final = NtpServerProps(
    name="google-public-ntp",
    address="time.google.com",
    cidrs=("216.239.35.0/28", "2001:4860:4806::/48"),
)


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class ChronyProps(WorkloadProps):
    """Settings of Chrony. The default synchronises with Google Public NTP, client only."""

    enabled: bool = Field(
        default=True,
        description=(
            "Run chronyd on every node. ``False`` when the nodes already synchronise their clocks (the "
            "host's chronyd or systemd-timesyncd): two daemons disciplining one clock fight each other."
        ),
    )

    servers: Annotated[tuple[NtpServerProps, ...], Field(min_length=1)] = Field(
        default=(GOOGLE_PUBLIC_NTP,),
        description="Time sources, at least one.",
    )
    makestep_threshold_seconds: Annotated[float, Field(gt=0)] = Field(
        default=1.0,
        description="Offsets above this many seconds are stepped instead of slewed...",
    )
    makestep_limit: int = Field(
        default=3,
        description="...during the first this-many clock updates (``-1``: always).",
    )
    rtcsync: bool = Field(
        default=True,
        description="Let the kernel copy the system time to the hardware clock every 11 minutes.",
    )
    min_sources: Annotated[int, Field(ge=1)] = Field(
        default=1,
        description="Selectable sources required before the clock is adjusted.",
    )
    leap_second_source: LeapSecondSource = Field(
        default=LeapSecondSource.NONE,
        description=(
            "Extra leap-second source (``right/UTC`` needs the image's timezone database to ship it)."
        ),
    )
    ready_max_correction_seconds: Annotated[float, Field(gt=0)] = Field(
        default=0.1,
        description="Readiness: synchronised and the remaining correction at most this many seconds.",
    )

    def __post_init__(self) -> None:
        if self.makestep_limit == 0 or self.makestep_limit < -1:
            raise ValueError(f"'makestep_limit' must be >= 1 or -1 (always), got {self.makestep_limit}")
        names = [s.name for s in self.servers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"'servers' names must be unique, got {', '.join(duplicates)} more than once")
