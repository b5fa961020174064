"""The order test files are handed to the workers in (tests/schedule.py)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.schedule import longest_first


@dataclass
class Item:
    nodeid: str


def test_recorded_files_go_longest_first_after_the_unrecorded_ones() -> None:
    items = [
        Item("tests/a.py::one"),
        Item("tests/b.py::one"),
        Item("tests/a.py::two"),
        Item("tests/c.py::one"),
        Item("tests/new.py::one"),
        Item("tests/newer.py::one"),
        Item("tests/newer.py::two"),
    ]
    seconds = {"tests/a.py": 1.0, "tests/b.py": 9.0, "tests/c.py": 3.0, "tests/gone.py": 99.0}
    order = [i.nodeid for i in longest_first(items, seconds)]
    assert order == [
        "tests/newer.py::one",  # no record: first, the file with more tests before the other
        "tests/newer.py::two",
        "tests/new.py::one",
        "tests/b.py::one",  # then by recorded seconds
        "tests/c.py::one",
        "tests/a.py::one",  # a file's own tests keep their order, together
        "tests/a.py::two",
    ]


def test_a_run_without_the_cache_plugin_keeps_the_collected_order() -> None:
    # the plugin reads and writes the pytest cache; without it (-p no:cacheprovider) it must stand aside
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "recorded", __file__],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
