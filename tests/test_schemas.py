"""Every synthesized object validates strictly against the Kubernetes schemas of 1.27 and the newest."""

from __future__ import annotations

import kubernetes_validate
import pytest

from tests.stack import Stack

VERSIONS = ("1.27", kubernetes_validate.latest_version())


@pytest.mark.parametrize("version", VERSIONS)
def test_default_stack_validates_strictly(stack: Stack, version: str) -> None:
    failures = []
    for m in stack.manifests:
        try:
            kubernetes_validate.validate(m.body, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            failures.append(f"{m.path}: {err.message} at {'/'.join(map(str, err.path))}")
    assert not failures, "\n".join(failures)
