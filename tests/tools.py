"""Helpers for tests that need a real validator program (promtool, amtool, kubeconform, chronyd, ...).

Pinned validators: each folder under ``tools/go/`` is a small Go module that pins one validator at the version
the stack runs (``go.mod``'s ``tool`` directive, or a ``main.go`` of ours on a pinned library; ``go.sum`` pins
every dependency). :func:`require_tool` builds such a validator once with ``go build -o .tools/bin/<name>``
(git-ignored; Go's module and build caches make a rebuild cheap) under a file lock, so parallel pytest-xdist
workers build it once; a stamp of the module files and the Go version marks the binary as current.
``make validators`` (a prerequisite of ``make test``) runs the same build first: ``python -m tests.tools``.

Without Go, a validator on ``PATH`` (e.g. Debian's ``promtool``) stands in only if it is at least the version
whose forms the generated configs use (:attr:`Pinned.fallback_min`); an older one skips with both versions
named. Any missing tool skips the test with a one-line reason; with ``VAULTAIO_REQUIRE_TOOLS=1`` (set by
``.ci/run``) it fails instead, and only the pinned builds count, so CI can never pass by skipping the real
checks or by checking with another version.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: One Go module per pinned validator (the folder name is the program's name).
GO_TOOLS = REPO / "tools" / "go"
#: Where the pinned validators are built (git-ignored).
BIN_DIR = REPO / ".tools" / "bin"
REQUIRE_ENV = "VAULTAIO_REQUIRE_TOOLS"


@dataclass(frozen=True)
class Pinned:
    """A validator built from ``tools/go/<name>``."""

    name: str
    #: Go module whose version is the validator's version (``require`` line of go.mod).
    module: str
    #: Linker variable that carries the release version into ``--version`` ("" for none).
    version_variable: str = ""
    #: Oldest release on ``PATH`` accepted when Go is missing (``None``: the pinned build only).
    fallback_min: tuple[int, ...] | None = None
    #: What the generated configs use that older releases reject (part of the skip reason).
    fallback_why: str = ""
    #: Arguments that make the program print its version.
    version_args: tuple[str, ...] = ("--version",)

    @property
    def directory(self) -> Path:
        return GO_TOOLS / self.name

    @property
    def binary(self) -> Path:
        return BIN_DIR / self.name

    def go_mod(self) -> str:
        return (self.directory / "go.mod").read_text()

    def package(self) -> str:
        """The main package to build: the module's ``tool`` directive, else the module's own ``main.go``."""
        tools = re.findall(r"^tool\s+(\S+)\s*$", self.go_mod(), flags=re.MULTILINE)
        if len(tools) > 1:
            raise ValueError(f"{self.directory}/go.mod declares {len(tools)} tools: one validator per module")
        return tools[0] if tools else "."

    def module_version(self) -> str:
        """The pinned version of :attr:`module` as go.mod requires it (``v0.314.0``)."""
        pattern = rf"^\s*(?:require\s+)?{re.escape(self.module)}\s+(v\S+)"
        match = re.search(pattern, self.go_mod(), re.MULTILINE)
        if match is None:
            raise ValueError(f"{self.directory}/go.mod does not require {self.module}")
        return match.group(1)

    def release(self) -> str:
        """The release this build is (``3.14.0`` for Prometheus' Go module version ``v0.314.0``)."""
        return release_of(self.module, self.module_version())


def release_of(module: str, module_version: str) -> str:
    """The release a Go module version stands for: Prometheus 3 publishes release 3.MM.P as v0.3MM.P."""
    if module == "github.com/prometheus/prometheus":
        match = re.fullmatch(r"v0\.(\d)(\d\d)\.(\d+)", module_version)
        if match is None:
            raise ValueError(f"unexpected Prometheus module version {module_version}")
        return f"{match.group(1)}.{int(match.group(2))}.{match.group(3)}"
    return module_version.removeprefix("v")


PINNED: dict[str, Pinned] = {
    tool.name: tool
    for tool in (
        Pinned(
            name="promtool",
            module="github.com/prometheus/prometheus",
            version_variable="github.com/prometheus/common/version.Version",
            fallback_min=(3, 0),
            fallback_why="fallback_scrape_protocol and the Prometheus 3 PromQL engine",
        ),
        Pinned(
            name="amtool",
            module="github.com/prometheus/alertmanager",
            version_variable="github.com/prometheus/common/version.Version",
            fallback_min=(0, 26),
            fallback_why="webhook url_file",
        ),
        Pinned(
            name="kubeconform",
            module="github.com/yannh/kubeconform",
            version_variable="main.version",
            fallback_min=(0, 6),
            fallback_why="local schema templates",
            version_args=("-v",),
        ),
        # Our own main.go on the parser and printer of Alloy's published syntax module.
        Pinned(name="alloy-syntax", module="github.com/grafana/alloy/syntax"),
    )
}


class ToolUnavailable(Exception):
    """The validator cannot be had here; the message is the one-line skip reason."""


def _required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


@functools.cache
def _go() -> tuple[str, str] | None:
    """``(path of go, its version)`` or ``None`` without a Go toolchain."""
    go = shutil.which("go")
    if go is None:
        return None
    result = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return None
    return go, result.stdout.strip()


def _ldflags(tool: Pinned) -> str:
    flags = "-s -w"
    if tool.version_variable:
        flags += f" -X {tool.version_variable}={tool.release()}"
    return flags


def _stamp(tool: Pinned, go_version: str) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in tool.directory.iterdir() if p.is_file()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(go_version.encode() + b"\0" + _ldflags(tool).encode())
    return digest.hexdigest()


def build(tool: Pinned, *, log: bool = False) -> Path:
    """Build ``tool`` into :data:`BIN_DIR` unless the binary there is current; return its path.

    Raises :class:`ToolUnavailable` without Go or when the build fails (the reason names the cause).
    """
    go = _go()
    if go is None:
        raise ToolUnavailable(
            f"Go is not installed, so the pinned {tool.name} {tool.release()} cannot be built"
        )
    go_path, go_version = go
    stamp = _stamp(tool, go_version)
    stamp_file = tool.binary.with_name(f".{tool.name}.stamp")

    def current() -> bool:
        return tool.binary.is_file() and stamp_file.is_file() and stamp_file.read_text() == stamp

    if current():
        return tool.binary
    BIN_DIR.mkdir(parents=True, exist_ok=True)
    with (BIN_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # other xdist workers wait here, then find the binary current
        if current():
            return tool.binary
        if log:
            pinned = f"{tool.module} {tool.module_version()}"
            print(f"building {tool.name} {tool.release()} ({pinned}) ...", flush=True)
        started = time.monotonic()
        partial = tool.binary.with_name(f".{tool.name}.partial")
        command = [go_path, "build", "-mod=readonly", "-buildvcs=false", f"-ldflags={_ldflags(tool)}"]
        result = subprocess.run(
            [*command, "-o", str(partial), tool.package()],
            cwd=tool.directory,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise ToolUnavailable(f"go build of the pinned {tool.name} failed: {last}")
        os.replace(partial, tool.binary)
        stamp_file.write_text(stamp)
        if log:
            print(f"built {tool.binary.relative_to(REPO)} in {time.monotonic() - started:.0f} s", flush=True)
    return tool.binary


def tool_version(path: str, args: tuple[str, ...] = ("--version",)) -> tuple[int, ...] | None:
    """The ``x.y.z`` a program reports when run with ``args`` (``None`` when it reports none)."""
    try:
        result = subprocess.run([path, *args], capture_output=True, text=True, check=False, timeout=30)
    except OSError:
        return None
    match = re.search(r"\bv?(\d+)\.(\d+)\.(\d+)", result.stdout + result.stderr)
    return tuple(int(part) for part in match.groups()) if match else None


def _on_path(name: str) -> str | None:
    path = shutil.which(name)
    if path is None:
        for candidate in (f"/usr/sbin/{name}", f"/sbin/{name}"):
            if os.access(candidate, os.X_OK):
                return candidate
    return path


@functools.cache
def _resolve(name: str) -> str | ToolUnavailable:
    """The path to run for ``name``, or why there is none (cached per process)."""
    tool = PINNED.get(name)
    if tool is None:
        path = _on_path(name)
        reason = f"{name} is not installed (apt-get install the package that provides it)"
        return path or ToolUnavailable(reason)
    try:
        return str(build(tool))
    except ToolUnavailable as unavailable:
        if _required() or tool.fallback_min is None:
            return unavailable
        fallback = _on_path(name)
        if fallback is None:
            return unavailable
        found = tool_version(fallback, tool.version_args)
        if found is None or found < tool.fallback_min:
            have = ".".join(map(str, found)) if found else "an unknown version"
            need = ".".join(map(str, tool.fallback_min))
            return ToolUnavailable(
                f"{unavailable}; {fallback} is {have}, older than {need} ({tool.fallback_why})"
            )
        return fallback


def require_tool(name: str) -> str:
    """Return the path of validator ``name`` or skip (fail under ``VAULTAIO_REQUIRE_TOOLS=1``).

    Pinned validators (:data:`PINNED`) are built from ``tools/go/<name>`` on first use.
    """
    resolved = _resolve(name)
    if isinstance(resolved, ToolUnavailable):
        if _required():
            pytest.fail(f"{REQUIRE_ENV}=1 but {resolved}")
        pytest.skip(str(resolved))
    return resolved


def main() -> int:
    """Build every pinned validator (``make validators``); without Go, say so and succeed unless required."""
    if _go() is None:
        print("go not found: tests use validators on PATH where new enough, or skip", file=sys.stderr)
        return 1 if _required() else 0
    for tool in PINNED.values():
        try:
            build(tool, log=True)
        except ToolUnavailable as unavailable:
            print(unavailable, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
