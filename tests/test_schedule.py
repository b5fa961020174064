"""The order test files are handed to the workers in (tests/schedule.py)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

from tests.schedule import CACHE_KEY, WORKER_INPUT_KEY, FileDurations, longest_first


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


def test_without_the_cache_plugin_nothing_is_read_or_recorded() -> None:
    # pytest -p no:cacheprovider leaves Config without a ``cache`` attribute: the plugin must stand aside
    config = SimpleNamespace(workerinput={})
    plugin = FileDurations(cast(Any, config))
    node = SimpleNamespace(workerinput={})
    plugin.pytest_configure_node(node)
    assert node.workerinput[WORKER_INPUT_KEY] == {}
    items = [Item("tests/b.py::one"), Item("tests/a.py::one")]
    plugin.pytest_collection_modifyitems(cast(Any, items))  # a worker: unrecorded files by test count
    assert len(items) == 2
    controller = FileDurations(cast(Any, SimpleNamespace()))
    controller.pytest_collection_finish(cast(Any, SimpleNamespace(items=items)))
    for when in ("setup", "call", "teardown"):
        controller.pytest_runtest_logreport(_report("tests/b.py::one", when, 1.0))
    controller.pytest_sessionfinish()  # no cache to write to, and no error


class Cache:
    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, key: str, default: Any) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


def _report(nodeid: str, when: str, duration: float) -> Any:
    return SimpleNamespace(nodeid=nodeid, when=when, duration=duration)


def test_only_files_whose_every_test_reported_are_recorded() -> None:
    cache = Cache({CACHE_KEY: {"tests/a.py": 7.0, "tests/b.py": 5.0}})
    plugin = FileDurations(cast(Any, SimpleNamespace(cache=cache)))
    names = ("tests/a.py::one", "tests/a.py::two", "tests/b.py::one")
    session = SimpleNamespace(items=[Item(n) for n in names])
    plugin.pytest_collection_finish(cast(Any, session))
    for when in ("setup", "call", "teardown"):
        plugin.pytest_runtest_logreport(_report("tests/a.py::one", when, 1.0))  # a.py::two never ran (-x)
        plugin.pytest_runtest_logreport(_report("tests/b.py::one", when, 0.5))
    plugin.pytest_sessionfinish()
    assert cache.values[CACHE_KEY] == {"tests/a.py": 7.0, "tests/b.py": 1.5}


def test_workers_order_by_the_record_the_controller_handed_out_and_nothing_else_reorders() -> None:
    items = [Item("tests/a.py::one"), Item("tests/b.py::one")]
    controller = FileDurations(cast(Any, SimpleNamespace(cache=Cache({CACHE_KEY: {"tests/b.py": 9.0}}))))
    node = SimpleNamespace(workerinput={})
    controller.pytest_configure_node(node)
    assert node.workerinput[WORKER_INPUT_KEY] == {"tests/b.py": 9.0}
    worker_config = SimpleNamespace(workerinput=node.workerinput, cache=Cache({CACHE_KEY: {}}))
    worker_items = list(items)
    FileDurations(cast(Any, worker_config)).pytest_collection_modifyitems(cast(Any, worker_items))
    # b.py has a record, a.py none: unrecorded files go first, whatever the worker's own cache says
    assert [i.nodeid for i in worker_items] == ["tests/a.py::one", "tests/b.py::one"]
    alone = list(reversed(items))
    FileDurations(cast(Any, SimpleNamespace(cache=Cache({})))).pytest_collection_modifyitems(cast(Any, alone))
    assert [i.nodeid for i in alone] == ["tests/b.py::one", "tests/a.py::one"]  # without xdist: as collected
