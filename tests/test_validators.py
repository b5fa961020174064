"""The validator harness: pinned versions follow the stack's images, the builds report them, and an older
validator on PATH never stands in for a pinned one."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests import tools
from tests.tools import PINNED, ToolUnavailable, release_of, require_tool, tool_version
from vaultaio_constructs.versions import IMAGES

#: validator -> the component whose image it must match
SAME_VERSION_AS_IMAGE = {"promtool": "prometheus", "amtool": "alertmanager"}


def test_every_tools_go_module_is_a_pinned_validator() -> None:
    folders = {path.name for path in tools.GO_TOOLS.iterdir() if (path / "go.mod").is_file()}
    assert folders == set(PINNED)
    for tool in PINNED.values():
        assert (tool.directory / "go.sum").is_file(), f"{tool.name}: go.sum pins the dependencies"
        assert tool.package() == "." or tool.package().startswith(tool.module + "/"), tool.package()


@pytest.mark.parametrize(("name", "component"), sorted(SAME_VERSION_AS_IMAGE.items()))
def test_pinned_validator_is_the_release_the_stack_runs(name: str, component: str) -> None:
    assert PINNED[name].release() == IMAGES[component][1].removeprefix("v")


def test_prometheus_module_versions_map_to_releases() -> None:
    assert PINNED["promtool"].module_version().startswith("v0.3")
    prometheus = "github.com/prometheus/prometheus"
    assert release_of(prometheus, "v0.314.0") == "3.14.0"
    assert release_of(prometheus, "v0.305.2") == "3.5.2"
    assert release_of("github.com/prometheus/alertmanager", "v0.34.0") == "0.34.0"
    with pytest.raises(ValueError, match=r"unexpected Prometheus module version v2\.53\.0"):
        release_of(prometheus, "v2.53.0")


@pytest.mark.parametrize("name", [name for name, tool in PINNED.items() if tool.version_variable])
def test_pinned_build_reports_its_release(name: str) -> None:
    tool = PINNED[name]
    path = require_tool(name)
    if Path(path) != tool.binary:
        pytest.skip(f"{name} is a stand-in from PATH ({path}), not the pinned build")
    expected = tuple(int(part) for part in tool.release().split("."))
    assert tool_version(path, tool.version_args) == expected


def _fake_tool(directory: Path, name: str, version: str) -> None:
    script = directory / name
    script.write_text(f"#!/bin/sh\necho '{name}, version {version} (branch: HEAD)'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def without_go(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No Go toolchain, and ``tmp_path`` alone on PATH."""
    monkeypatch.setattr(tools, "_go", lambda: None)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(tools.REQUIRE_ENV, raising=False)
    return tmp_path


def test_without_go_an_older_validator_on_path_does_not_stand_in(without_go: Path) -> None:
    _fake_tool(without_go, "promtool", "2.42.0")
    resolved = tools._resolve.__wrapped__("promtool")
    assert isinstance(resolved, ToolUnavailable)
    assert "Go is not installed" in str(resolved)
    assert "2.42.0, older than 3.0 (fallback_scrape_protocol" in str(resolved)


def test_without_go_a_new_enough_validator_on_path_stands_in(without_go: Path) -> None:
    _fake_tool(without_go, "promtool", "3.14.0")
    assert tools._resolve.__wrapped__("promtool") == str(without_go / "promtool")


def test_required_tools_accept_only_the_pinned_build(
    without_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_tool(without_go, "amtool", "0.34.0")
    monkeypatch.setenv(tools.REQUIRE_ENV, "1")
    resolved = tools._resolve.__wrapped__("amtool")
    assert isinstance(resolved, ToolUnavailable)
    assert "pinned amtool 0.34.0" in str(resolved)


def test_pinned_builds_live_in_an_ignored_folder() -> None:
    ignored = (tools.REPO / ".gitignore").read_text().splitlines()
    assert ".tools/" in ignored
    assert tools.BIN_DIR.is_relative_to(tools.REPO / ".tools")
    assert not os.path.relpath(tools.BIN_DIR, tools.REPO).startswith("..")
