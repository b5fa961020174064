"""Every synthesized object validates strictly against the Kubernetes schemas of the oldest version the
stack targets (``kubernetes_version``: 1.31 by default, 1.27 in a variant) and the newest (custom resources
against their CRD, see ``tests/crds.py``), for the default stack and for variants that switch on every
optional object (the scenarios of ``examples/settings/``: tests/test_scenarios.py)."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from tests.crds import validate_object
from tests.stack import Stack, synth_stack

#: Which schema a stack is validated against: the oldest version it targets, and the newest known.
VERSIONS = ("oldest", "newest")


def _schema(stack: Stack, which: str) -> str:
    return stack.chart.kubernetes_version if which == "oldest" else kubernetes_validate.latest_version()


def _everything_on() -> dict[str, Any]:
    from tests.test_readme import _settings_example

    return {
        **_settings_example(),
        "grafana": {"ingress": {"host": "grafana.example.com"}},
        "alloy": {"otlp_clients": [{"name": "apps", "namespace_labels": {"team": "apps"}}]},
    }


VARIANTS: dict[str, Any] = {
    "tls-off": {"vault": {"tls": {"enabled": False}}},
    "production": {"profile": "production", "storage_class": "fast-ssd"},
    # the oldest target: no field newer than 1.27 (Alloy's recursiveReadOnly) may be written
    "kubernetes-1.27": {"kubernetes_version": "1.27"},
    "everything-on": _everything_on,
}


def _failures(stack: Stack, which: str) -> list[str]:
    """Built-in kinds strictly against the Kubernetes schema ``which`` names, custom resources against their
    CRD."""
    version = _schema(stack, which)
    return [f"{m.path}: {problem}" for m in stack.manifests for problem in validate_object(m.body, version)]


@pytest.mark.parametrize("version", VERSIONS)
def test_default_stack_validates_strictly(stack: Stack, version: str) -> None:
    failures = _failures(stack, version)
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def variant(request: pytest.FixtureRequest) -> Stack:
    settings = VARIANTS[request.param]
    return synth_stack(settings() if callable(settings) else settings)


@pytest.mark.parametrize("version", VERSIONS)
def test_variants_validate_strictly(variant: Stack, version: str) -> None:
    failures = _failures(variant, version)
    assert not failures, "\n".join(failures)
