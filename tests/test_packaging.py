"""The package metadata builds without deprecation warnings from setuptools."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_license_is_an_spdx_expression_not_a_deprecated_table() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    license_ = project["project"]["license"]
    assert isinstance(license_, str), "a TOML table for project.license is deprecated (PEP 639)"
    assert license_ == "Apache-2.0"
    assert not any(c.startswith("License ::") for c in project["project"].get("classifiers", []))
    requires = project["build-system"]["requires"]
    assert any(r.startswith("setuptools>=") and int(r.split(">=")[1].split(".")[0]) >= 77 for r in requires)
