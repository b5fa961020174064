"""The Chrony construct: SYS_TIME-only DaemonSet, chrony.conf from settings, NTP egress per server."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import cdk8s
import pytest
from syrupy.assertion import SnapshotAssertion

from tests.snapshots import assert_objects_match, own_objects
from tests.stack import Manifests, Stack
from tests.tools import require_tool
from vaultaio_constructs.chrony.config import (
    CHRONY_CONFIG_DIR,
    CHRONY_RUN_MOUNT,
    CHRONY_SOCKET_PATH,
    CHRONY_STATE_DIR,
)
from vaultaio_constructs.chrony.construct import Chrony
from vaultaio_constructs.component import StackChart
from vaultaio_constructs.output import Manifest, render
from vaultaio_constructs.settings import SettingsError, parse_settings

CORP = {"name": "corp-ntp", "address": "ntp.corp.example", "cidrs": ["192.0.2.0/28"], "prefer": True}
NTS = {"name": "cloudflare", "address": "time.cloudflare.com", "cidrs": ["162.159.200.0/24"], "nts": True}
POOL = {"name": "pool", "address": "pool.ntp.org", "cidrs": ["0.0.0.0/0"], "kind": "pool", "max_sources": 3}


class ChronyObjects(Manifests):
    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        props = parse_settings({"chrony": settings or {}}, "test settings").chrony
        chart = StackChart(cdk8s.App(), "test")
        self.chrony = Chrony(chart, "Chrony", props)
        chart.finish()
        self.manifests: list[Manifest] = render(chart)

    def policies(self) -> dict[str, dict[str, Any]]:
        return {m.name: m.body["spec"] for m in self.manifests if m.kind == "NetworkPolicy"}

    @property
    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.get("DaemonSet", "chrony")["spec"]["template"]["spec"]
        return spec

    @property
    def container(self) -> dict[str, Any]:
        (c,) = self.spec["containers"]
        assert isinstance(c, dict)
        return c

    @property
    def conf(self) -> str:
        text: str = self.get("ConfigMap", "chrony-config")["data"]["chrony.conf"]
        return text


@pytest.fixture(scope="module")
def default() -> ChronyObjects:
    return ChronyObjects()


@pytest.fixture(scope="module")
def custom() -> ChronyObjects:
    return ChronyObjects({"servers": [CORP, NTS, POOL], "makestep_limit": -1, "min_sources": 2})


def directives(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_default_stack_chrony_objects(stack: Stack) -> None:
    selected = stack.of_component("chrony")
    assert {(m.kind, m.name) for m in selected} == {
        ("ServiceAccount", "chrony"),
        ("ConfigMap", "chrony-config"),
        ("DaemonSet", "chrony"),
    }


def test_chrony_alone_snapshot(default: ChronyObjects, snapshot: SnapshotAssertion) -> None:
    """Chrony alone in a small stack: its objects and policies, one snapshot each (dist/: the default)."""
    assert_objects_match(snapshot, own_objects(default.manifests, "chrony"), what="Chrony alone")


def test_only_sys_time_is_added_and_everything_else_is_hardened(default: ChronyObjects) -> None:
    sc = default.container["securityContext"]
    assert sc["capabilities"] == {"add": ["SYS_TIME"], "drop": ["ALL"]}
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["privileged"] is False
    assert sc["readOnlyRootFilesystem"] is True
    # UID 0: a non-root process would not get SYS_TIME in its effective set.
    assert (sc["runAsUser"], sc["runAsNonRoot"]) == (0, False)
    psc = default.spec["securityContext"]
    assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert default.spec["automountServiceAccountToken"] is False
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        assert key not in default.spec
    assert not [v for v in default.spec["volumes"] if "hostPath" in v]


def test_chronyd_runs_the_rendered_file_with_clock_control(default: ChronyObjects) -> None:
    c = default.container
    assert c["image"] == "docker.io/dockurr/chrony:4.8"
    assert c["command"] == ["/usr/sbin/chronyd"]
    assert c["args"] == ["-d", "-u", "root", "-f", f"{CHRONY_CONFIG_DIR}/chrony.conf"]
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    assert mounts["config"] == {"name": "config", "mountPath": CHRONY_CONFIG_DIR, "readOnly": True}
    assert mounts["run"]["mountPath"] == CHRONY_RUN_MOUNT
    assert mounts["state"]["mountPath"] == CHRONY_STATE_DIR
    volumes = {v["name"]: v for v in default.spec["volumes"]}
    assert "emptyDir" in volumes["run"] and "emptyDir" in volumes["state"]


def test_readiness_reflects_synchronisation(default: ChronyObjects) -> None:
    probe = default.container["readinessProbe"]["exec"]["command"]
    assert probe == ["chronyc", "-h", CHRONY_SOCKET_PATH, "-n", "waitsync", "1", "0.1"]
    objs = ChronyObjects({"ready_max_correction_seconds": 0.5})
    assert objs.container["readinessProbe"]["exec"]["command"][-1] == "0.5"


def test_default_is_a_client_of_google_public_ntp_only(default: ChronyObjects) -> None:
    assert directives(default.conf)[0] == "server time.google.com iburst"
    assert "port 0" in directives(default.conf)
    policy = default.policies()["allow-chrony-to-google-public-ntp"]
    (rule,) = policy["egress"]
    assert rule["ports"] == [{"port": 123, "protocol": "UDP"}]
    assert [p["ipBlock"]["cidr"] for p in rule["to"]] == ["216.239.35.0/28", "2001:4860:4806::/48"]
    assert "ingress" not in policy
    assert not [m for m in default.manifests if m.kind == "Service"]  # a client only: nothing to serve


def test_servers_become_config_lines_and_egress_rules(custom: ChronyObjects) -> None:
    lines = directives(custom.conf)
    assert lines[:3] == [
        "server ntp.corp.example iburst prefer",
        "server time.cloudflare.com iburst nts",
        "pool pool.ntp.org iburst maxsources 3",
    ]
    assert "makestep 1.0 -1" in lines and "minsources 2" in lines
    policies = custom.policies()
    corp = policies["allow-chrony-to-corp-ntp"]["egress"][0]
    assert corp["ports"] == [{"port": 123, "protocol": "UDP"}]
    assert [p["ipBlock"]["cidr"] for p in corp["to"]] == ["192.0.2.0/28"]
    nts = policies["allow-chrony-to-cloudflare-nts-ke"]["egress"][0]
    assert nts["ports"] == [{"port": 4460, "protocol": "TCP"}]
    assert "allow-chrony-to-pool" in policies
    assert not [name for name in policies if name.startswith("allow-chrony-to-google")]


@pytest.mark.parametrize("fixture", ["default", "custom"])
def test_chronyd_accepts_the_config_map(fixture: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    objs: ChronyObjects = request.getfixturevalue(fixture)
    chronyd = require_tool("chronyd")
    path = tmp_path / "chrony.conf"
    path.write_text(objs.conf)
    result = subprocess.run(
        [chronyd, "-p", "-f", str(path)], capture_output=True, text=True, timeout=20, check=False
    )
    assert result.returncode == 0, result.stderr
    assert directives(result.stdout) == directives(objs.conf)


def test_fails_no_servers() -> None:
    with pytest.raises(SettingsError, match=r"chrony.servers"):
        parse_settings({"chrony": {"servers": []}})


def test_fails_duplicate_server_names() -> None:
    with pytest.raises(SettingsError, match=r"'servers' names must be unique, got corp-ntp more than once"):
        parse_settings({"chrony": {"servers": [CORP, {**CORP, "address": "ntp2.corp.example"}]}})


@pytest.mark.parametrize(
    ("server", "message"),
    [
        (
            {**CORP, "address": "not a host"},
            r"chrony.servers.0.address: 'host' must be a hostname or an ip address",
        ),
        ({**CORP, "cidrs": []}, r"chrony.servers.0.cidrs"),
        ({**CORP, "cidrs": ["10.0.0.0/33"]}, r"not a valid CIDR"),
        ({**CORP, "kind": "peer"}, r"chrony.servers.0.kind"),
        ({**CORP, "max_sources": 17}, r"chrony.servers.0.max_sources"),
    ],
)
def test_fails_bad_server(server: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_settings({"chrony": {"servers": [server]}})


def test_fails_max_sources_on_a_server() -> None:
    with pytest.raises(SettingsError, match=r"'max_sources' is only valid for a pool, got it for server"):
        parse_settings({"chrony": {"servers": [{**CORP, "max_sources": 2}]}})


@pytest.mark.parametrize("limit", [0, -2])
def test_fails_makestep_limit(limit: int) -> None:
    with pytest.raises(SettingsError, match=r"'makestep_limit' must be >= 1 or -1 \(always\), got"):
        parse_settings({"chrony": {"makestep_limit": limit}})


def test_fails_min_sources_beyond_the_servers_at_construction() -> None:
    props = parse_settings({"chrony": {"min_sources": 2}}).chrony
    with pytest.raises(ValueError, match=r"'min_sources' must be between 1 and .* \(1\), got 2"):
        Chrony(StackChart(cdk8s.App(), "test"), "Chrony", props)
