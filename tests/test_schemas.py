"""Every synthesized object validates strictly against the Kubernetes schemas of 1.27 and the newest,
for the default stack and for variants that switch on every optional object."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from tests.stack import Stack, synth_stack

VERSIONS = ("1.27", kubernetes_validate.latest_version())


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
    "everything-on": _everything_on,
}


def _failures(stack: Stack, version: str) -> list[str]:
    failures = []
    for m in stack.manifests:
        try:
            kubernetes_validate.validate(m.body, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            failures.append(f"{m.path}: {err.message} at {'/'.join(map(str, err.path))}")
    return failures


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
