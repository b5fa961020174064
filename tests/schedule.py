"""Longest test files first: how ``make test`` keeps its two workers busy until the end.

``pytest -n 2 --dist loadfile`` runs each test file on one worker and hands out files in queue order, so the
run ends when the worker that got the last file finishes it. A file of 15 seconds handed out last leaves the
other worker idle for up to that long. This plugin (registered in ``tests/conftest.py``) records, after each
run, how long each file took (setup, call and teardown of its tests, in the pytest cache under
:data:`CACHE_KEY`) and orders the next run's files longest first (``--no-loadscope-reorder`` in the Makefile
keeps that order; xdist's own order is by number of tests). Files without a record (a fresh clone, a new
file) go first, then the rest by recorded seconds; the order of the tests inside a file never changes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pytest

CACHE_KEY = "vault-aio/file-seconds"


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def longest_first(items: list[Any], seconds: dict[str, float]) -> list[Any]:
    """``items`` grouped by file, files without a record first (most tests first), then by ``seconds``
    (longest first); stable inside a file."""
    by_file: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        by_file[file_of(item.nodeid)].append(item)
    counts = Counter({f: len(tests) for f, tests in by_file.items()})

    def key(f: str) -> tuple[int, float]:
        recorded = seconds.get(f)
        return (0, -counts[f]) if recorded is None else (1, -recorded)

    return [item for f in sorted(by_file, key=key) for item in by_file[f]]


class FileDurations:
    """Sums each file's test durations during a run and stores them in the cache when the run ends."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.seconds: dict[str, float] = defaultdict(float)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        cache = getattr(self.config, "cache", None)  # None with -p no:cacheprovider
        items[:] = longest_first(items, cache.get(CACHE_KEY, {}) if cache is not None else {})

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[file_of(report.nodeid)] += report.duration

    def pytest_sessionfinish(self, exitstatus: int) -> None:
        # only the process that sees every report writes: the controller under xdist, else the only one
        cache = getattr(self.config, "cache", None)
        if hasattr(self.config, "workerinput") or not self.seconds or cache is None:
            return
        recorded = dict(cache.get(CACHE_KEY, {}))
        recorded.update({f: round(s, 3) for f, s in self.seconds.items()})
        cache.set(CACHE_KEY, recorded)
