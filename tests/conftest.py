"""Shared fixtures: the default stack is synthesized once per test session and read by many tests."""

from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import pytest

from tests.stack import Stack, scenario_stack, synth_stack


@pytest.fixture(scope="session")
def stack() -> Stack:
    """The default stack (no settings), synthesized once."""
    return synth_stack()


@pytest.fixture(scope="session")
def ha_stack() -> Stack:
    """The ``examples/settings/ha.yaml`` scenario (every component replicated), synthesized once."""
    return scenario_stack("ha")
