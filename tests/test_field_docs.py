"""Every props field is documented once, in ``Field(description=...)``, and ``help()`` shows it."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import pydoc
import subprocess
import sys
from pathlib import Path

import pytest

import vaultaio_constructs
from vaultaio_constructs.fielddocs import FIELDS_HEADING, _FieldsDoc, own_doc

PACKAGE = Path(vaultaio_constructs.__file__).parent


def props_classes() -> list[type]:
    """Every pydantic dataclass of the package (the props classes and their parts)."""
    found: dict[str, type] = {}
    for module in pkgutil.walk_packages(vaultaio_constructs.__path__, "vaultaio_constructs."):
        if ".verify" in module.name:
            continue  # the vault-aio command: no props
        for _, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if dataclasses.is_dataclass(cls) and hasattr(cls, "__pydantic_fields__"):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[k] for k in sorted(found)]


PROPS = props_classes()


def test_the_package_has_the_props_classes_we_expect() -> None:
    names = {c.__name__ for c in PROPS}
    assert {
        "VaultAioProps",
        "VaultProps",
        "TransitSeal",
        "S3Storage",
        "RemoteWrite",
        "AlertThresholds",
    } <= names
    assert len(PROPS) >= 50


@pytest.mark.parametrize("cls", PROPS, ids=lambda c: c.__name__)
def test_every_field_has_a_description_and_the_class_lists_it_in_help(cls: type) -> None:
    fields = cls.__pydantic_fields__  # type: ignore[attr-defined]
    assert fields, f"{cls.__name__} has no fields"
    undocumented = [name for name, f in fields.items() if not (f.description or "").strip()]
    assert not undocumented, (
        f"{cls.__name__}: fields without Field(description=...): {undocumented} "
        "(run tools/convert_field_docs.py on #: comments)"
    )
    assert isinstance(cls.__dict__.get("__doc__"), _FieldsDoc), (
        f"{cls.__name__} lacks @document_fields (tools/convert_field_docs.py adds it)"
    )
    doc = inspect.getdoc(cls) or ""
    assert doc.startswith(own_doc(cls)) and FIELDS_HEADING in doc
    for name in fields:
        assert f"\n{name}: " in doc, f"help({cls.__name__}) does not list {name}"


def test_no_props_field_keeps_a_comment_as_its_documentation() -> None:
    """``#:`` comments reach neither help() nor the schema: descriptions belong in Field(description=...)."""
    left = []
    for file in sorted(PACKAGE.rglob("*.py")):
        lines = file.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(d, ast.Call) and any(k.arg == "config" for k in d.keywords)
                for d in node.decorator_list
            ):
                left += [
                    f"{file.relative_to(PACKAGE)}:{stmt.lineno}"
                    for stmt in node.body
                    if isinstance(stmt, ast.AnnAssign) and lines[stmt.lineno - 2].lstrip().startswith("#:")
                ]
    assert not left, f"#: comments on props fields (run tools/convert_field_docs.py): {left}"


def test_help_shows_fields_types_defaults_and_descriptions() -> None:
    from vaultaio_constructs import VaultProps

    text = pydoc.render_doc(VaultProps, renderer=pydoc.plaintext)
    assert "Settings of the Vault component." in text
    replicas = VaultProps.__pydantic_fields__["replicas"].description  # type: ignore[attr-defined]
    assert replicas and replicas.split()[0] in text
    for line in (
        "replicas: int = 1",
        "tls: VaultTlsProps = VaultTlsProps()",
        "seal: Seal = ShamirSeal()",
        "anti_affinity: AntiAffinity = AntiAffinity.REQUIRED",
        "ingress: VaultIngressProps | None = None",
        "image_tag: ImageTag | None = None",  # inherited from WorkloadProps
    ):
        assert line in text, f"help(VaultProps) lacks {line!r}"
    from vaultaio_constructs.vault.seals import TransitSeal

    assert "key_name: _NonEmpty  (required)" in inspect.getdoc(TransitSeal)  # type: ignore[operator]


def test_field_lists_are_rendered_on_first_read_not_at_import() -> None:
    code = (
        "import vaultaio_constructs.vault.props as p;"
        "print(p.VaultProps.__dict__['__doc__'].rendered is None);"
        "p.VaultProps.__doc__;"
        "print(p.VaultProps.__dict__['__doc__'].rendered is not None)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "True"]
