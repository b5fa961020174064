"""``chrony.conf`` for the node time-sync DaemonSet, rendered from typed settings.

chronyd runs as UID 0 with every capability dropped except ``SYS_TIME`` (it steps and slews the node
clock, which every pod shares) and ``-u root`` so it never tries to switch users (that would need
``SETUID``/``SETGID``). Directives were checked against chrony's ``chrony.conf(5)`` and ``chronyd(8)``;
a test runs ``chronyd -p -f chrony.conf`` (parse and print, works as any user) on every rendering.

Paths (the construct mounts them; the root filesystem stays read-only):

* ``/etc/chrony/chrony.conf``: this file (ConfigMap).
* ``/run``: an emptyDir; chronyd creates ``/run/chronyd`` in it with the private permissions it insists on
  for the command socket (a mounted emptyDir is world-writable and would be refused). Not ``/run/chrony``:
  images declare that as a VOLUME, and a runtime-provided directory with other owners or modes there
  would make chronyd refuse its socket.
* ``/var/lib/chrony``: an emptyDir for the drift file.

Health: the UDP command port is off (``cmdport 0``); ``chronyc`` talks to chronyd over the Unix socket
(:data:`CHRONY_SOCKET_PATH`), which is what the readiness probe (:data:`CHRONY_READINESS_COMMAND`) uses.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from vaultaio_constructs.common import check_cidr, check_host_credentials, shown

#: NTP (UDP) port: the servers chronyd queries, and the port it serves on when clients are allowed.
CHRONY_NTP_PORT: Final = 123
#: NTS key-establishment (TCP) port, needed towards servers marked ``nts``.
CHRONY_NTS_KE_PORT: Final = 4460
CHRONY_CONFIG_DIR: Final = "/etc/chrony"
CHRONY_CONFIG_FILE: Final = "chrony.conf"
CHRONY_CONFIG_PATH: Final = f"{CHRONY_CONFIG_DIR}/{CHRONY_CONFIG_FILE}"
#: emptyDir mount for runtime files; chronyd creates :data:`CHRONY_RUN_DIR` inside it.
CHRONY_RUN_MOUNT: Final = "/run"
CHRONY_RUN_DIR: Final = "/run/chronyd"
CHRONY_SOCKET_PATH: Final = f"{CHRONY_RUN_DIR}/chronyd.sock"
CHRONY_PID_FILE: Final = f"{CHRONY_RUN_DIR}/chronyd.pid"
#: emptyDir for the drift file.
CHRONY_STATE_DIR: Final = "/var/lib/chrony"
CHRONY_DRIFT_FILE: Final = f"{CHRONY_STATE_DIR}/drift"
#: Container command: chronyd in the foreground, logging to stderr, staying UID 0 (no privilege switch).
CHRONY_COMMAND: Final = ("/usr/sbin/chronyd",)
CHRONY_ARGS: Final = ("-d", "-u", "root", "-f", CHRONY_CONFIG_PATH)
#: Capability chronyd needs to adjust the node clock; nothing else.
CHRONY_CAPABILITIES: Final = ("SYS_TIME",)

#: chrony's default ``maxsources`` of a pool.
_POOL_DEFAULT_MAX_SOURCES: Final = 4
_LABEL: Final = r"[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?"
_HOSTNAME: Final = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


class SourceKind(StrEnum):
    """``server`` (one host) or ``pool`` (a name resolving to several servers)."""

    SERVER = "server"
    POOL = "pool"


class LeapSecondSource(StrEnum):
    """Where chronyd learns about leap seconds besides its NTP sources.

    ``none`` relies on the sources' leap indicator (always available). ``right/UTC`` reads the image's
    timezone database (``leapsectz right/UTC``); chronyd only logs a warning at runtime if that zone is
    missing, so enable it only for an image known to ship the ``right/`` zones.
    """

    NONE = "none"
    RIGHT_UTC = "right/UTC"


def check_ntp_host(value: str) -> str:
    """A hostname or an IPv4/IPv6 literal (``user:password@host`` is refused as a credential)."""
    check_host_credentials(value)
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    if not _HOSTNAME.fullmatch(value):
        raise ValueError(f"'host' must be a hostname or an ip address, got {shown(value)}")
    return value


@dataclass(frozen=True, kw_only=True)
class NtpSource:
    """One ``server`` or ``pool`` line."""

    #: Hostname or IP address.
    host: str
    #: ``server`` or ``pool``.
    kind: SourceKind = SourceKind.SERVER
    #: ``iburst``: four quick requests at start for a fast first synchronisation.
    iburst: bool = True
    #: ``nts``: authenticate with Network Time Security (needs TCP 4460 egress to the host as well).
    nts: bool = False
    #: ``prefer``: prefer this source over others of similar quality.
    prefer: bool = False
    #: ``maxsources`` for a pool (1-16); ``None`` keeps chrony's default (4). Only valid for pools.
    max_sources: int | None = None

    def __post_init__(self) -> None:
        check_ntp_host(self.host)
        if self.max_sources is not None:
            if self.kind is not SourceKind.POOL:
                raise ValueError(f"'max_sources' is only valid for a pool, got it for server {self.host!r}")
            if not 1 <= self.max_sources <= 16:
                raise ValueError(f"'max_sources' must be between 1 and 16, got {self.max_sources}")

    def line(self) -> str:
        words = [str(self.kind), self.host]
        if self.iburst:
            words.append("iburst")
        if self.nts:
            words.append("nts")
        if self.prefer:
            words.append("prefer")
        if self.max_sources is not None:
            words += ["maxsources", str(self.max_sources)]
        return " ".join(words)


@dataclass(frozen=True, kw_only=True)
class ChronyConfig:
    """Inputs of :func:`render_chrony_conf`."""

    #: Time sources; at least one.
    sources: tuple[NtpSource, ...]
    #: ``makestep`` threshold: offsets above this many seconds are stepped instead of slewed...
    makestep_threshold_seconds: float = 1.0
    #: ...during the first this-many clock updates (``-1``: always).
    makestep_limit: int = 3
    #: ``rtcsync``: let the kernel copy system time to the hardware clock every 11 minutes.
    rtcsync: bool = True
    #: ``allow``: client networks that may query this chronyd over NTP. Empty (the default): no NTP
    #: serving at all (``port 0``), chronyd is a client only.
    allow_cidrs: tuple[str, ...] = ()
    #: Extra leap-second information (``leapsectz``); see :class:`LeapSecondSource`.
    leap_second_source: LeapSecondSource = LeapSecondSource.NONE
    #: ``minsources``: selectable sources required before the clock is updated.
    min_sources: int = 1

    def __post_init__(self) -> None:
        if not self.sources:
            raise ValueError("'sources' must name at least one ntp server or pool, got none")
        hosts = [s.host for s in self.sources]
        duplicates = sorted({h for h in hosts if hosts.count(h) > 1})
        if duplicates:
            raise ValueError(f"'sources' lists {', '.join(duplicates)} more than once")
        if not self.makestep_threshold_seconds > 0:
            raise ValueError(
                f"'makestep_threshold_seconds' must be > 0, got {self.makestep_threshold_seconds}"
            )
        if self.makestep_limit == 0 or self.makestep_limit < -1:
            raise ValueError(f"'makestep_limit' must be >= 1 or -1 (always), got {self.makestep_limit}")
        for cidr in self.allow_cidrs:
            check_cidr(cidr)
        capacity = sum(
            1 if s.kind is SourceKind.SERVER else (s.max_sources or _POOL_DEFAULT_MAX_SOURCES)
            for s in self.sources
        )
        if not 1 <= self.min_sources <= capacity:
            raise ValueError(
                f"'min_sources' must be between 1 and the number of sources the servers and pools can "
                f"provide ({capacity}), got {self.min_sources}"
            )


def render_chrony_conf(config: ChronyConfig) -> str:
    """``chrony.conf`` (one directive per line, stable order, no timestamps)."""
    lines = ["# Generated by vault-aio from the stack's settings; edit the settings, not this file.", ""]
    lines += [source.line() for source in config.sources]
    lines += [
        "",
        f"makestep {float(config.makestep_threshold_seconds)} {config.makestep_limit}",
    ]
    if config.rtcsync:
        lines.append("rtcsync")
    if config.min_sources != 1:
        lines.append(f"minsources {config.min_sources}")
    lines += [
        f"driftfile {CHRONY_DRIFT_FILE}",
        f"pidfile {CHRONY_PID_FILE}",
        "",
        "# chronyc only through the Unix socket (readiness probe); no UDP command port.",
        f"bindcmdaddress {CHRONY_SOCKET_PATH}",
        "cmdport 0",
        "",
    ]
    if config.allow_cidrs:
        lines.append("# NTP service for these client networks.")
        lines += [f"allow {cidr}" for cidr in config.allow_cidrs]
    else:
        lines.append("# Client only: never open the NTP server port.")
        lines.append("port 0")
    if config.leap_second_source is LeapSecondSource.RIGHT_UTC:
        lines.append(f"leapsectz {config.leap_second_source}")
    return "\n".join(lines) + "\n"


def readiness_command(max_correction_seconds: float = 0.1) -> tuple[str, ...]:
    """Exec probe: succeeds once chronyd is synchronised and its remaining correction is small.

    ``chronyc waitsync 1 <max-correction>`` checks once (no waiting) and exits non-zero while chronyd is
    not synchronised to a source or the system clock still needs more than ``max_correction_seconds``.
    """
    if not max_correction_seconds > 0:
        raise ValueError(f"'max_correction_seconds' must be > 0, got {max_correction_seconds}")
    return ("chronyc", "-h", CHRONY_SOCKET_PATH, "-n", "waitsync", "1", f"{max_correction_seconds:g}")


#: Liveness: chronyd answers ``tracking`` on its command socket (synchronised or not).
CHRONY_LIVENESS_COMMAND: Final = ("chronyc", "-h", CHRONY_SOCKET_PATH, "-n", "tracking")
#: The default readiness probe command.
CHRONY_READINESS_COMMAND: Final = readiness_command()
