"""Shared fixtures: the default stack is synthesized once per test session and read by many tests."""

from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import functools

import kubernetes_validate.utils
import pytest

from tests.schedule import FileDurations
from tests.stack import Stack, scenario_stack, synth_stack

# kubernetes-validate reads and parses the kind's schema and the version's _definitions.json (1.8 MB) on every
# validate() call, about 15 ms per object; the schema files do not change during a run, so each is parsed once
# per test process (eight times faster for a whole stack). What is validated, and how, is unchanged: the
# same function builds the same registry and strict validator from the same (read-only) schema.
kubernetes_validate.utils.schema_contents = functools.cache(kubernetes_validate.utils.schema_contents)


def pytest_configure(config: pytest.Config) -> None:
    # longest test files first, by the durations of the previous run (tests/schedule.py)
    config.pluginmanager.register(FileDurations(config), "vault-aio-file-durations")


@pytest.fixture(scope="session")
def stack() -> Stack:
    """The default stack (no settings), synthesized once."""
    return synth_stack()


@pytest.fixture(scope="session")
def ha_stack() -> Stack:
    """The ``examples/settings/ha.yaml`` scenario (every component replicated), synthesized once."""
    return scenario_stack("ha")
