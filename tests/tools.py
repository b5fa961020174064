"""Helpers for tests that need a real validator program (promtool, amtool, chronyd, shellcheck, kubectl).

A missing tool skips the test with a one-line reason; with ``VAULTAIO_REQUIRE_TOOLS=1`` (set by ``.ci/run``)
it fails instead, so CI can never pass by skipping the real checks.
"""

from __future__ import annotations

import os
import shutil

import pytest


def require_tool(name: str) -> str:
    """Return the absolute path of ``name`` or skip (fail under ``VAULTAIO_REQUIRE_TOOLS=1``)."""
    path = shutil.which(name)
    if path is None:
        for candidate in (f"/usr/sbin/{name}", f"/sbin/{name}"):
            if os.access(candidate, os.X_OK):
                path = candidate
                break
    if path is None:
        reason = f"{name} is not installed (apt-get install the package that provides it)"
        if os.environ.get("VAULTAIO_REQUIRE_TOOLS") == "1":
            pytest.fail(f"VAULTAIO_REQUIRE_TOOLS=1 but {reason}")
        pytest.skip(reason)
    return path
