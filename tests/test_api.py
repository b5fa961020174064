"""The public API is discoverable: every name resolves, dir() and help() show it, examples use only it."""

from __future__ import annotations

import ast
import dataclasses
import enum
import importlib
import inspect
import pydoc
import re
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest

import vaultaio_constructs
from vaultaio_constructs.fielddocs import own_doc

REPO = Path(__file__).resolve().parent.parent
PUBLIC = list(vaultaio_constructs.__all__)


def test_all_is_exactly_the_lazy_exports() -> None:
    lazy = set(vaultaio_constructs._EXPORTS) | set(vaultaio_constructs._MODULES)
    assert sorted(PUBLIC) == sorted(lazy)
    assert len(PUBLIC) == len(set(PUBLIC))


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_resolves_to_where_it_is_defined(name: str) -> None:
    value = getattr(vaultaio_constructs, name)
    if name in vaultaio_constructs._MODULES:
        assert isinstance(value, types.ModuleType) and value.__name__ == vaultaio_constructs._MODULES[name]
        return
    module = importlib.import_module(vaultaio_constructs._EXPORTS[name])
    assert getattr(module, name) is value
    if inspect.isclass(value) or inspect.isfunction(value):
        assert value.__module__ == module.__name__, (
            f"{name} is re-exported by {module.__name__}: name its home"
        )


def test_dir_lists_the_public_names_without_importing_them() -> None:
    code = (
        "import sys, vaultaio_constructs as v; names = dir(v);"
        "print(all(n in names for n in v.__all__), 'jsii' in sys.modules, 'cdk8s' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False", "False"]


def test_unknown_names_fail_like_any_module() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Vaultt'"):
        vaultaio_constructs.Vaultt  # type: ignore[attr-defined]  # noqa: B018


@pytest.mark.parametrize("name", [n for n in PUBLIC if inspect.isclass(getattr(vaultaio_constructs, n))])
def test_every_public_class_documents_itself_and_its_constructor(name: str) -> None:
    cls = getattr(vaultaio_constructs, name)
    assert own_doc(cls), f"{name} has no docstring of its own"
    init = cls.__dict__.get("__init__")
    protocol = getattr(cls, "_is_protocol", False)
    if inspect.isfunction(init) and not dataclasses.is_dataclass(cls) and not protocol:  # written by hand
        assert init.__doc__, f"{name}.__init__ has no docstring (help() would show the base class's)"


COMPONENTS = ["Vault", "Prometheus", "Alertmanager", "Grafana", "Loki", "Tempo", "Alloy", "Chrony"]


@pytest.mark.parametrize("name", [*COMPONENTS, "VaultAioChart", "StackChart"])
def test_help_shows_the_constructs_own_signature_and_constructor_doc(name: str) -> None:
    cls = getattr(vaultaio_constructs, name)
    text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    signature = str(inspect.signature(cls))
    assert signature.startswith("(scope: 'Construct', id: 'str'"), signature  # not jsii's (*args, **kwargs)
    assert f"{name}{signature}" in text
    own = inspect.getdoc(cls.__init__)
    assert own and own == inspect.cleandoc(cls.__dict__["__init__"].__doc__)
    assert own.split("\n")[0] in text
    component_init = inspect.cleandoc(vaultaio_constructs.Component.__init__.__doc__ or "")
    if name in COMPONENTS:
        assert component_init.split("\n")[0] not in text.split("Methods inherited from")[0]


def _props_tree() -> set[type]:
    """Every props class and enum a settings file can reach."""
    found: set[type] = set()

    def walk(tp: typing.Any) -> None:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            walk(typing.get_args(tp)[0])
        elif origin in (typing.Union, types.UnionType, tuple, list, dict):
            for arg in typing.get_args(tp):
                if arg is not Ellipsis:
                    walk(arg)
        elif isinstance(tp, type) and tp not in found:
            if dataclasses.is_dataclass(tp):
                found.add(tp)
                hints = typing.get_type_hints(tp, include_extras=True)
                for f in dataclasses.fields(tp):
                    walk(hints[f.name])
            elif issubclass(tp, enum.Enum):
                found.add(tp)

    walk(vaultaio_constructs.VaultAioProps)
    return found


def test_every_settings_block_can_be_built_from_the_top_level() -> None:
    """Settings in code need every nested props class (seals, storages, receivers...) and enum."""
    missing = sorted(
        c.__name__ for c in _props_tree() if getattr(vaultaio_constructs, c.__name__, None) is not c
    )
    assert not missing, f"export these from vaultaio_constructs: {missing}"
    assert len(_props_tree()) > 50


def _python_sources() -> dict[str, str]:
    """Examples and every ```python block of README.md and docs/*.md, by where they come from."""
    sources = {str(p.relative_to(REPO)): p.read_text() for p in sorted((REPO / "examples").glob("*.py"))}
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for i, block in enumerate(re.findall(r"```python\n(.*?)```", doc.read_text(), re.S)):
            sources[f"{doc.relative_to(REPO)} block {i + 1}"] = block
    return sources


def test_examples_and_docs_import_only_public_names_from_the_top_level() -> None:
    sources = _python_sources()
    assert "examples/extended_stack.py" in sources and any(k.startswith("README.md") for k in sources)
    deep = []
    for where, source in sources.items():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("vaultaio_constructs"):
                if node.module != "vaultaio_constructs":
                    deep.append(f"{where}: from {node.module} import ...")
                deep += [f"{where}: {a.name} is not public" for a in node.names if a.name not in PUBLIC]
            elif isinstance(node, ast.Import):
                deep += [
                    f"{where}: import {a.name}"
                    for a in node.names
                    if a.name.startswith("vaultaio_constructs.")
                ]
    assert not deep, "examples and docs must use the top-level API:\n" + "\n".join(deep)
