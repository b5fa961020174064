"""chrony.conf: chronyd accepts every rendering, directives match the settings, validation."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.tools import require_tool
from vaultaio_constructs.chrony.config import (
    CHRONY_ARGS,
    CHRONY_CAPABILITIES,
    CHRONY_CONFIG_PATH,
    CHRONY_DRIFT_FILE,
    CHRONY_NTP_PORT,
    CHRONY_PID_FILE,
    CHRONY_READINESS_COMMAND,
    CHRONY_RUN_DIR,
    CHRONY_RUN_MOUNT,
    CHRONY_SOCKET_PATH,
    CHRONY_STATE_DIR,
    ChronyConfig,
    LeapSecondSource,
    NtpSource,
    SourceKind,
    readiness_command,
    render_chrony_conf,
)

POOL = NtpSource(host="pool.ntp.org", kind=SourceKind.POOL)
CLOUDFLARE = NtpSource(host="time.cloudflare.com", nts=True, prefer=True)
IP = NtpSource(host="192.0.2.10", iburst=False)
IPV6 = NtpSource(host="2001:db8::123")

CONFIGS = {
    "minimal": ChronyConfig(sources=(POOL,)),
    "servers-and-pool": ChronyConfig(
        sources=(
            CLOUDFLARE,
            IP,
            IPV6,
            NtpSource(host="europe.pool.ntp.org", kind=SourceKind.POOL, max_sources=2),
        ),
        min_sources=2,
    ),
    "serving-clients": ChronyConfig(
        sources=(POOL,),
        allow_cidrs=("10.0.0.0/8", "fd00::/8"),
        makestep_threshold_seconds=0.5,
        makestep_limit=-1,
        rtcsync=False,
        leap_second_source=LeapSecondSource.RIGHT_UTC,
    ),
}


def directives(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def chronyd_print(conf: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    chronyd = require_tool("chronyd")
    path = tmp_path / "chrony.conf"
    path.write_text(conf)
    return subprocess.run(
        [chronyd, "-p", "-f", str(path)], capture_output=True, text=True, timeout=20, check=False
    )


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_chronyd_accepts_the_file(name: str, tmp_path: Path) -> None:
    conf = render_chrony_conf(CONFIGS[name])
    result = chronyd_print(conf, tmp_path)
    assert result.returncode == 0, result.stderr
    # chronyd -p prints the configuration it parsed: every directive, none lost.
    assert directives(result.stdout) == directives(conf)


def test_chronyd_check_can_fail(tmp_path: Path) -> None:
    broken = render_chrony_conf(CONFIGS["minimal"]).replace("makestep 1.0 3", "makestep one 3")
    result = chronyd_print(broken, tmp_path)
    assert result.returncode != 0
    assert "makestep" in result.stderr


def test_sources_are_rendered_with_their_options() -> None:
    conf = render_chrony_conf(CONFIGS["servers-and-pool"])
    lines = directives(conf)
    assert lines[:4] == [
        "server time.cloudflare.com iburst nts prefer",
        "server 192.0.2.10",
        "server 2001:db8::123 iburst",
        "pool europe.pool.ntp.org iburst maxsources 2",
    ]
    assert "minsources 2" in lines


def test_client_only_by_default_with_clock_discipline() -> None:
    lines = directives(render_chrony_conf(CONFIGS["minimal"]))
    assert "pool pool.ntp.org iburst" in lines
    assert "makestep 1.0 3" in lines
    assert "rtcsync" in lines
    assert "port 0" in lines
    assert not [line for line in lines if line.startswith("allow")]
    assert not [line for line in lines if line.startswith("leapsectz")]


def test_allow_opens_ntp_serving_for_the_given_networks_only() -> None:
    lines = directives(render_chrony_conf(CONFIGS["serving-clients"]))
    assert [line for line in lines if line.startswith("allow")] == ["allow 10.0.0.0/8", "allow fd00::/8"]
    assert "port 0" not in lines  # the default NTP port (123) is used
    assert CHRONY_NTP_PORT == 123
    assert "makestep 0.5 -1" in lines
    assert "rtcsync" not in lines
    assert "leapsectz right/UTC" in lines


def test_writable_paths_are_on_the_emptydirs_and_command_port_is_off() -> None:
    lines = directives(render_chrony_conf(CONFIGS["minimal"]))
    assert f"driftfile {CHRONY_DRIFT_FILE}" in lines
    assert CHRONY_DRIFT_FILE.startswith(CHRONY_STATE_DIR + "/")
    assert f"pidfile {CHRONY_PID_FILE}" in lines
    assert f"bindcmdaddress {CHRONY_SOCKET_PATH}" in lines
    assert "cmdport 0" in lines
    # chronyd creates its socket directory itself inside the emptyDir mount (it refuses a 0777 dir).
    assert CHRONY_RUN_DIR.startswith(CHRONY_RUN_MOUNT + "/")
    assert CHRONY_SOCKET_PATH.startswith(CHRONY_RUN_DIR + "/") and CHRONY_PID_FILE.startswith(
        CHRONY_RUN_DIR + "/"
    )


def test_process_and_probe() -> None:
    assert CHRONY_ARGS == ("-d", "-u", "root", "-f", CHRONY_CONFIG_PATH)
    assert "-x" not in CHRONY_ARGS  # clock control stays on
    assert CHRONY_CAPABILITIES == ("SYS_TIME",)
    assert CHRONY_READINESS_COMMAND == ("chronyc", "-h", CHRONY_SOCKET_PATH, "-n", "waitsync", "1", "0.1")
    assert readiness_command(0.5)[-1] == "0.5"


def test_output_is_deterministic() -> None:
    assert render_chrony_conf(CONFIGS["servers-and-pool"]) == render_chrony_conf(CONFIGS["servers-and-pool"])


def test_fails_no_sources() -> None:
    with pytest.raises(ValueError, match=r"'sources' must name at least one ntp server or pool, got none"):
        ChronyConfig(sources=())


def test_fails_duplicate_source() -> None:
    with pytest.raises(ValueError, match=r"'sources' lists pool.ntp.org more than once"):
        ChronyConfig(sources=(POOL, NtpSource(host="pool.ntp.org")))


@pytest.mark.parametrize("host", ["bad host", "-leading.dash", "a..b", "http://time.example", ""])
def test_fails_bad_host(host: str) -> None:
    with pytest.raises(ValueError, match=r"'host' must be a hostname or an ip address"):
        NtpSource(host=host)


def test_fails_max_sources_on_a_server() -> None:
    with pytest.raises(ValueError, match=r"'max_sources' is only valid for a pool"):
        NtpSource(host="time.example", max_sources=2)


def test_fails_max_sources_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"'max_sources' must be between 1 and 16, got 17"):
        NtpSource(host="pool.ntp.org", kind=SourceKind.POOL, max_sources=17)


@pytest.mark.parametrize("limit", [0, -2])
def test_fails_makestep_limit(limit: int) -> None:
    with pytest.raises(ValueError, match=r"'makestep_limit' must be >= 1 or -1 \(always\)"):
        ChronyConfig(sources=(POOL,), makestep_limit=limit)


def test_fails_makestep_threshold() -> None:
    with pytest.raises(ValueError, match=r"'makestep_threshold_seconds' must be > 0, got 0"):
        ChronyConfig(sources=(POOL,), makestep_threshold_seconds=0)


def test_fails_bad_allow_cidr() -> None:
    # chronyd -p does not reject this (it resolves allow lines later), so the renderer must.
    with pytest.raises(ValueError, match=r"'10.0.0.0/33' is not a valid CIDR"):
        ChronyConfig(sources=(POOL,), allow_cidrs=("10.0.0.0/33",))


def test_fails_min_sources_unreachable() -> None:
    with pytest.raises(ValueError, match=r"'min_sources' must be between 1 and .* \(2\), got 3"):
        ChronyConfig(sources=(CLOUDFLARE, IP), min_sources=3)


def test_fails_readiness_correction() -> None:
    with pytest.raises(ValueError, match=r"'max_correction_seconds' must be > 0, got 0"):
        readiness_command(0)
