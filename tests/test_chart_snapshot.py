"""Whole-stack snapshot: a review aid for pull requests (every object, in dist order).

The behaviour is proven elsewhere (wiring, matrix, hardening, configs checked by their real tools); this
snapshot makes any change to the output visible in review. Update with ``pytest --snapshot-update``.
"""

from __future__ import annotations

from syrupy.assertion import SnapshotAssertion

from tests.stack import Stack


def test_default_stack_snapshot(stack: Stack, snapshot: SnapshotAssertion) -> None:
    assert stack.yaml() == snapshot
