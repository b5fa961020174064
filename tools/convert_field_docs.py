"""Turn ``#:`` field comments of props dataclasses into pydantic ``Field(description=...)``.

Props fields are documented once, in ``Field(description=...)``, so that ``help()``, the JSON Schema
(``vaultaio.schema.json``) and the settings reference (``docs/SETTINGS.md``) say the same thing
(``tests/test_settings_doc.py`` fails on a props field without a description or with a ``#:`` comment).
A branch that still documents new fields with ``#:`` comments is converted by running this tool on the
merged result instead of hand-editing field lines::

    .venv/bin/python tools/convert_field_docs.py vaultaio_constructs
    .venv/bin/ruff format vaultaio_constructs && .venv/bin/ruff check vaultaio_constructs

Every form of field is handled: ``name: T`` (required), ``name: T = value``, ``name: T = Field(...)`` (the
description is added to the call), multi-line annotations and values. A field without a comment whose type
is another props class (a nested section such as ``vault: VaultProps = Field(default_factory=VaultProps)``)
takes the first paragraph of that class's docstring. A props class without ``@document_fields`` gets it
(``help()`` then lists the fields under the class docstring). Long descriptions are wrapped to the line
limit as implicitly concatenated strings. Files are rewritten in place; run ``ruff format`` afterwards.
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Iterable
from pathlib import Path

LINE_LIMIT = 110
#: The decorator that puts the field list into ``help()`` (added to every props class that lacks it).
DECORATOR = "document_fields"
DECORATOR_MODULE = "vaultaio_constructs.fielddocs"


def _is_props_class(node: ast.ClassDef) -> bool:
    """A pydantic dataclass with a ``config=`` (every props class uses ``config=PROPS_CONFIG``)."""
    for decorator in node.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and getattr(decorator.func, "id", None) == "dataclass"
            and any(keyword.arg == "config" for keyword in decorator.keywords)
        ):
            return True
    return False


def _is_field_call(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Field"


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _chunks(text: str, width: int) -> list[str]:
    """``text`` cut at spaces into pieces whose literals fit ``width`` (each but the last keeps its space)."""
    pieces: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and len(_literal(candidate + " ")) > width:
            pieces.append(current + " ")
            current = word
        else:
            current = candidate
    pieces.append(current)
    return pieces


def _description_lines(text: str, indent: str) -> list[str]:
    """``description=...,`` as lines at ``indent``: one literal, or parenthesised literals when too long."""
    single = f"{indent}description={_literal(text)},"
    if len(single) <= LINE_LIMIT:
        return [single]
    inner = indent + "    "
    return [
        f"{indent}description=(",
        *(f"{inner}{_literal(piece)}" for piece in _chunks(text, LINE_LIMIT - len(inner))),
        f"{indent}),",
    ]


def _docstring_summary(node: ast.ClassDef) -> str | None:
    doc = ast.get_docstring(node)
    if not doc:
        return None
    first = inspect.cleandoc(doc).split("\n\n", 1)[0]
    return " ".join(first.split())


def _class_summaries(trees: Iterable[ast.Module]) -> dict[str, str]:
    """First docstring paragraph of every props class, by class name."""
    summaries: dict[str, str] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and _is_props_class(node):
                summary = _docstring_summary(node)
                if summary:
                    summaries[node.name] = summary
    return summaries


def _comment_above(lines: list[str], lineno: int) -> tuple[int, str]:
    """(index of the first ``#:`` line, joined text) of the comment block right above line ``lineno``."""
    i = lineno - 2
    parts: list[str] = []
    while i >= 0 and lines[i].lstrip().startswith("#:"):
        parts.insert(0, lines[i].strip()[2:].strip())
        i -= 1
    return i + 1, " ".join(p for p in parts if p)


def _convert_source(src: str, summaries: dict[str, str]) -> tuple[str, int]:
    lines = src.splitlines(keepends=True)
    tree = ast.parse(src)
    edits: list[tuple[int, int, list[str]]] = []  # (first line index, end index exclusive, new lines)
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef) or not _is_props_class(node):
            continue
        for stmt in node.body:
            if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
                continue
            value = stmt.value
            if isinstance(value, ast.Call) and any(k.arg == "description" for k in value.keywords):
                continue  # already converted (a Field call with a description)
            start, text = _comment_above(lines, stmt.lineno)
            if not text and isinstance(stmt.annotation, ast.Name):
                text = summaries.get(stmt.annotation.id, "")
            if not text:
                continue
            assert stmt.end_lineno is not None
            first = lines[stmt.lineno - 1]
            indent = first[: len(first) - len(first.lstrip())]
            annotation = ast.get_source_segment(src, stmt.annotation)
            assert annotation is not None
            args: list[str] = []
            if _is_field_call(stmt.value):
                call = ast.get_source_segment(src, stmt.value)
                assert call is not None and call.startswith("Field(") and call.endswith(")")
                inner = call[len("Field(") : -1].strip().rstrip(",").strip()
                if inner:
                    args.append(inner)
            elif stmt.value is not None:
                value = ast.get_source_segment(src, stmt.value)
                assert value is not None
                args.append(f"default={value}")
            head = f"{indent}{stmt.target.id}: {annotation} = Field("
            one_line = head + ", ".join([*args, f"description={_literal(text)}"]) + ")"
            if "\n" not in one_line and len(one_line) <= LINE_LIMIT:
                new = [one_line]
            else:
                arg_indent = indent + "    "
                new = [head]
                new += [f"{arg_indent}{arg}," for arg in args]
                new += _description_lines(text, arg_indent)
                new.append(f"{indent})")
            edits.append((start, stmt.end_lineno, [line + "\n" for line in new]))
        if not any(getattr(d, "id", None) == DECORATOR for d in node.decorator_list):
            first = node.decorator_list[0].lineno - 1
            indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
            edits.append((first, first, [f"{indent}@{DECORATOR}\n"]))
    for start, end, new in sorted(edits, reverse=True):
        lines[start:end] = new
    out = "".join(lines)
    if edits:
        out = _import_field(out)
        if f"@{DECORATOR}" in out and DECORATOR_MODULE not in out:
            marker = "from pydantic.dataclasses import dataclass\n"
            out = out.replace(marker, f"{marker}\nfrom {DECORATOR_MODULE} import {DECORATOR}\n", 1)
    return out, len(edits)


def _import_field(src: str) -> str:
    """Add ``Field`` to the module's ``from pydantic import ...`` (or add that import)."""
    tree = ast.parse(src)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "pydantic":
            if any(alias.name == "Field" for alias in node.names):
                return src
            lines = src.splitlines(keepends=True)
            names = sorted([*(a.name for a in node.names), "Field"])
            assert node.end_lineno is not None
            lines[node.lineno - 1 : node.end_lineno] = [f"from pydantic import {', '.join(names)}\n"]
            return "".join(lines)
    marker = "from pydantic.dataclasses import dataclass"
    assert marker in src
    return src.replace(marker, f"from pydantic import Field\n{marker}", 1)


def convert(paths: Iterable[Path]) -> dict[Path, int]:
    """Rewrite each file in place; the number of fields converted per file."""
    files = sorted({p for path in paths for p in (path.rglob("*.py") if path.is_dir() else [path])})
    sources = {f: f.read_text(encoding="utf-8") for f in files}
    summaries = _class_summaries(ast.parse(s) for s in sources.values())
    counts: dict[Path, int] = {}
    for file, src in sources.items():
        out, count = _convert_source(src, summaries)
        if count:
            file.write_text(out, encoding="utf-8")
            counts[file] = count
    return counts


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    counts = convert(Path(a) for a in argv)
    for file, count in counts.items():
        print(f"{file}: {count} field(s)")
    print(f"converted {sum(counts.values())} field(s); now run ruff format and ruff check")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
