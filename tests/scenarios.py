"""The supported deployment scenarios: one settings file each under ``examples/settings/``.

Every scenario is loaded the way ``make synth`` loads a settings file and synthesized once per test session
(:func:`scenario_stack`); the schema, hardening and network tests run over each of them like over the
default stack.
"""

from __future__ import annotations

import functools
from pathlib import Path

from tests.stack import Stack, synth_stack
from vaultaio_constructs.settings import load_settings

REPO = Path(__file__).resolve().parent.parent
SCENARIO_DIR = REPO / "examples" / "settings"
#: Scenario name (file name without ``.yaml``) -> settings file.
SCENARIOS: dict[str, Path] = {path.stem: path for path in sorted(SCENARIO_DIR.glob("*.yaml"))}


@functools.cache
def scenario_stack(name: str) -> Stack:
    """The stack of scenario ``name``, synthesized once per session."""
    return synth_stack(load_settings(SCENARIOS[name]))
