"""Longest test files first: how ``make test`` keeps its two workers busy until the end.

``pytest -n 2 --dist loadfile`` runs each test file on one worker and hands out files in queue order, so the
run ends when the worker that got the last file finishes it. A file of 15 seconds handed out last leaves the
other worker idle for up to that long. This plugin (registered in ``tests/conftest.py``) records, after each
run, how long each file took (setup, call and teardown of its tests, in the pytest cache under
:data:`CACHE_KEY`; only files whose every collected test reported, so a ``-k`` or ``-x`` run does not make a
long file look short), and has the xdist workers order the next run's files longest first
(``--no-loadscope-reorder`` in the Makefile keeps that order; xdist's own order is by number of tests). Files
without a record (a fresh clone, a new file) go first, then the rest by recorded seconds; the order of the
tests inside a file never changes.

The controller reads the record once and hands it to every worker (``workerinput``), so all workers collect
in the same order even if another run rewrites the cache meanwhile. Without xdist nothing is reordered
(one process gains nothing from it, and ``--sw`` relies on the collected order).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

import pytest

CACHE_KEY = "vault-aio/file-seconds"
WORKER_INPUT_KEY = "vault_aio_file_seconds"


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
    """Sums each file's test durations during a run and stores those of complete files when it ends."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.seconds: dict[str, float] = defaultdict(float)
        self.reported: Counter[str] = Counter()
        self.collected: Counter[str] = Counter()

    def _cache(self) -> Any:
        return getattr(self.config, "cache", None)  # None with -p no:cacheprovider

    def _count(self, nodeids: Iterable[str]) -> None:
        if not self.collected:  # every worker collects the same tests: count them once
            self.collected.update(file_of(n) for n in nodeids)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Controller: every worker gets the same record."""
        cache = self._cache()
        node.workerinput[WORKER_INPUT_KEY] = cache.get(CACHE_KEY, {}) if cache is not None else {}

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self._count(ids)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        workerinput = getattr(self.config, "workerinput", None)
        if workerinput is not None:
            items[:] = longest_first(items, workerinput.get(WORKER_INPUT_KEY, {}))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._count(item.nodeid for item in session.items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[file_of(report.nodeid)] += report.duration
        if report.when == "teardown":
            self.reported[file_of(report.nodeid)] += 1

    def pytest_sessionfinish(self) -> None:
        # only the process that sees every report writes: the controller under xdist, else the only one
        cache = self._cache()
        if hasattr(self.config, "workerinput") or cache is None:
            return
        complete = {f: round(s, 3) for f, s in self.seconds.items() if self.reported[f] == self.collected[f]}
        if complete:
            recorded = dict(cache.get(CACHE_KEY, {}))
            recorded.update(complete)
            cache.set(CACHE_KEY, recorded)
