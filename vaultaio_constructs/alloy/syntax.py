"""A small typed model of the Alloy configuration syntax and a deterministic renderer for it.

Only what the generated configuration needs: blocks (optionally labelled), attributes, literal values
(strings, numbers, booleans, ``null``, lists, objects), references to other components' exports and raw
expressions for standard-library calls (``sys.env("NODE_NAME")``) and concatenation.

String escaping follows the Alloy scanner (``grafana/alloy:syntax/scanner/scanner.go``): inside double
quotes ``\\a \\b \\f \\n \\r \\t \\v \\\\ \\"`` are escapes; other control characters are written as
``\\uXXXX``; everything else is copied as UTF-8. Identifiers are ASCII ``[A-Za-z_][A-Za-z0-9_]*``.

Output is deterministic: body items keep the order they were given in, object keys are sorted, ``=`` signs
of consecutive attributes are aligned (as ``alloy fmt`` does), indentation is two spaces.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias, Union

_IDENT: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SIMPLE_ESCAPES: Final = {
    "\\": "\\\\",
    '"': '\\"',
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}
#: Lists and objects longer than this on one line are written one item per line.
_INLINE_WIDTH: Final = 100
_INDENT: Final = "  "


def is_identifier(name: str) -> bool:
    """Whether ``name`` is an Alloy identifier (ASCII letters, digits, ``_``; not starting with a digit)."""
    return bool(_IDENT.fullmatch(name))


def _check_identifier(what: str, name: str) -> str:
    if not is_identifier(name):
        raise ValueError(
            f"{what} {name!r} is not a valid alloy identifier: use ascii letters, digits and '_', "
            "not starting with a digit"
        )
    return name


def _check_dotted(what: str, name: str) -> str:
    if not name or not all(is_identifier(part) for part in name.split(".")):
        raise ValueError(f"{what} {name!r} must be dot-separated alloy identifiers (e.g. 'loki.write')")
    return name


def quote(text: str) -> str:
    """``text`` as an Alloy double-quoted string literal."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[ch])
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"string {text!r} contains a lone surrogate (U+{code:04X}): not valid unicode")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


@dataclass(frozen=True)
class Expr:
    """A raw Alloy expression written as-is (function calls, concatenations).

    Build these with :func:`env` and :func:`concat` rather than by hand.
    """

    text: str

    def __post_init__(self) -> None:
        if not self.text.strip() or "\n" in self.text:
            raise ValueError(f"expression {self.text!r} must be a non-empty single line")


@dataclass(frozen=True)
class Ref:
    """A reference to an export of another component: ``<component>.<label>.<export>``."""

    #: Component name, e.g. ``loki.write``.
    component: str
    #: The component's label, e.g. ``default``.
    label: str
    #: Dotted export path, e.g. ``receiver`` or ``rules``.
    export: str

    def __post_init__(self) -> None:
        _check_dotted("component name", self.component)
        _check_identifier("component label", self.label)
        _check_dotted("export", self.export)

    @property
    def text(self) -> str:
        return f"{self.component}.{self.label}.{self.export}"


Value: TypeAlias = Union[str, int, float, bool, Expr, Ref, Sequence["Value"], Mapping[str, "Value"], None]  # noqa: UP007


def env(name: str) -> Expr:
    """``sys.env("<name>")``: the value of an environment variable of the Alloy process."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"environment variable name {name!r} must match [A-Za-z_][A-Za-z0-9_]*")
    return Expr(f"sys.env({quote(name)})")


def concat(*parts: str | Expr | Ref) -> Expr:
    """String concatenation of literals and expressions: ``"a" + sys.env("B")``."""
    if len(parts) < 2:
        raise ValueError(f"concat needs at least 2 parts, got {len(parts)}")
    return Expr(" + ".join(render_value(part) for part in parts))


@dataclass(frozen=True)
class Attr:
    """``name = value`` inside a block."""

    name: str
    value: Value

    def __post_init__(self) -> None:
        _check_identifier("attribute name", self.name)


@dataclass(frozen=True)
class Block:
    """A block: ``name "label" { body }``; components are labelled blocks with a dotted name.

    ``comment`` lines are written above the block as ``//`` comments.
    """

    name: str
    label: str | None = None
    body: tuple[Attr | Block, ...] = ()
    comment: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_dotted("block name", self.name)
        if self.label is not None:
            _check_identifier("block label", self.label)
        seen: set[str] = set()
        for item in self.body:
            if isinstance(item, Attr):
                if item.name in seen:
                    raise ValueError(f"block {self.name!r} sets attribute {item.name!r} twice")
                seen.add(item.name)
        for line in self.comment:
            if "\n" in line:
                raise ValueError(f"comment line {line!r} must not contain a newline")

    def ref(self, export: str) -> Ref:
        """A reference to this component's ``export`` (the block must be labelled)."""
        if self.label is None:
            raise ValueError(f"block {self.name!r} has no label, so its exports cannot be referenced")
        return Ref(self.name, self.label, export)

    def attr(self, name: str) -> Value:
        """The value of attribute ``name`` (``KeyError`` if the block does not set it)."""
        for item in self.body:
            if isinstance(item, Attr) and item.name == name:
                return item.value
        raise KeyError(name)

    def blocks(self, name: str) -> tuple[Block, ...]:
        """The direct child blocks called ``name``, in order."""
        return tuple(item for item in self.body if isinstance(item, Block) and item.name == name)


def block(name: str, label: str | None = None, /, *body: Attr | Block, comment: Sequence[str] = ()) -> Block:
    """Shorthand for :class:`Block`: ``block("loki.write", "default", Attr(...), block("endpoint", ...))``."""
    return Block(name=name, label=label, body=tuple(body), comment=tuple(comment))


def attrs(**values: Value) -> tuple[Attr, ...]:
    """Attributes in keyword order: ``*attrs(url="...", name="x")``."""
    return tuple(Attr(key, value) for key, value in values.items())


def _render_key(key: str) -> str:
    return key if is_identifier(key) else quote(key)


def render_value(value: Value, indent: int = 0) -> str:
    """``value`` as Alloy syntax; multi-line lists and objects are indented from ``indent`` levels."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (Expr, Ref)):
        return value.text
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"number {value!r} is not finite: alloy has no inf or nan literal")
        return repr(value)
    if isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise ValueError(f"object key {key!r} must be a string")
        items = [(_render_key(k), value[k]) for k in sorted(value)]
        if not items:
            return "{}"
        inline = "{ " + ", ".join(f"{k} = {render_value(v)}" for k, v in items) + " }"
        if "\n" not in inline and len(inline) <= _INLINE_WIDTH:
            return inline
        pad = _INDENT * (indent + 1)
        width = max(len(k) for k, _ in items)
        lines = [f"{pad}{k.ljust(width)} = {render_value(v, indent + 1)}," for k, v in items]
        return "{\n" + "\n".join(lines) + "\n" + _INDENT * indent + "}"
    if isinstance(value, Sequence):
        if not value:
            return "[]"
        inline = "[" + ", ".join(render_value(v) for v in value) + "]"
        if "\n" not in inline and len(inline) <= _INLINE_WIDTH:
            return inline
        pad = _INDENT * (indent + 1)
        lines = [f"{pad}{render_value(v, indent + 1)}," for v in value]
        return "[\n" + "\n".join(lines) + "\n" + _INDENT * indent + "]"
    raise ValueError(f"value {value!r} of type {type(value).__name__} cannot be written as alloy syntax")


def _render_block(blk: Block, indent: int) -> list[str]:
    pad = _INDENT * indent
    lines = [f"{pad}// {line}".rstrip() for line in blk.comment]
    header = blk.name if blk.label is None else f"{blk.name} {quote(blk.label)}"
    if not blk.body:
        lines.append(f"{pad}{header} {{}}")
        return lines
    lines.append(f"{pad}{header} {{")
    inner = _INDENT * (indent + 1)
    body = list(blk.body)
    i = 0
    previous_was_block = False
    while i < len(body):
        item = body[i]
        if isinstance(item, Attr):
            run: list[Attr] = []
            while i < len(body) and isinstance(body[i], Attr):
                attr = body[i]
                assert isinstance(attr, Attr)
                run.append(attr)
                i += 1
            if previous_was_block:
                lines.append("")
            width = max(len(a.name) for a in run)
            for a in run:
                lines.append(f"{inner}{a.name.ljust(width)} = {render_value(a.value, indent + 1)}")
            previous_was_block = False
        else:
            assert isinstance(item, Block)
            if i > 0:
                lines.append("")
            lines.extend(_render_block(item, indent + 1))
            previous_was_block = True
            i += 1
    lines.append(f"{pad}}}")
    return lines


def render(blocks: Sequence[Block], *, header: Sequence[str] = ()) -> str:
    """A whole configuration file: ``header`` comment lines, then the blocks separated by blank lines.

    Refuses two components with the same name and label (Alloy rejects them too).
    """
    seen: set[tuple[str, str | None]] = set()
    for blk in blocks:
        key = (blk.name, blk.label)
        if key in seen:
            raise ValueError(f"component {blk.name} {blk.label!r} is defined twice")
        seen.add(key)
    parts: list[str] = []
    if header:
        parts.append("\n".join(f"// {line}".rstrip() for line in header))
    parts.extend("\n".join(_render_block(blk, 0)) for blk in blocks)
    return "\n\n".join(parts) + "\n"


def references(item: Block | Attr | Value) -> set[Ref]:
    """Every :class:`Ref` inside ``item`` (a block, recursively, an attribute or a value)."""
    found: set[Ref] = set()
    if isinstance(item, Ref):
        found.add(item)
    elif isinstance(item, Block):
        for child in item.body:
            found |= references(child)
    elif isinstance(item, Attr):
        found |= references(item.value)
    elif isinstance(item, Mapping):
        for value in item.values():
            found |= references(value)
    elif isinstance(item, Sequence) and not isinstance(item, str):
        for element in item:
            found |= references(element)
    return found
