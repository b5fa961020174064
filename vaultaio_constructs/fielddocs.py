"""``help()`` for props classes: their fields, types, defaults and descriptions under the class docstring.

Each field is documented once, in ``Field(description=...)``; :func:`document_fields` makes the class
docstring (what ``help(VaultProps)``, ``pydoc`` and IDEs show) end with a generated list of those fields.
The list is built on first access of ``__doc__``, not at import: decorating a class only swaps its
docstring for a small descriptor (under a microsecond per class), so importing the package costs nothing
more; rendering the lists of all 60 props classes takes about 50 ms, once, when someone reads them (a
synth never does). :func:`own_doc` gives the docstring as written, which is what the JSON Schema and the
settings reference use.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any, TypeVar

T = TypeVar("T", bound=type)

#: Heading of the generated part of a props class's docstring.
FIELDS_HEADING = "Fields (keyword-only; the same keys in the settings file):"


class _FieldsDoc:
    """A class docstring that appends the field list the first time it is read (``type.__doc__`` calls
    ``__get__`` of a descriptor found in the class's own ``__dict__``)."""

    __slots__ = ("own", "rendered")

    def __init__(self, own: str | None) -> None:
        self.own = own
        self.rendered: str | None = None

    def __get__(self, obj: object, owner: type | None = None) -> str:
        if self.rendered is None:
            cls = owner if owner is not None else type(obj)
            own = inspect.cleandoc(self.own) if self.own else ""
            self.rendered = f"{own}\n\n{render_fields(cls)}" if own else render_fields(cls)
        return self.rendered


def document_fields(cls: T) -> T:
    """Class decorator (outermost, above ``@dataclass(..., config=PROPS_CONFIG)``): ``help(cls)`` lists the
    fields with their descriptions and defaults after the class's own docstring."""
    own = cls.__dict__.get("__doc__")
    if isinstance(own, _FieldsDoc):
        return cls
    cls.__doc__ = _FieldsDoc(own)  # type: ignore[assignment]
    return cls


def own_doc(cls: type) -> str:
    """The class docstring as written (without the generated field list), cleaned; ``""`` if none."""
    doc = cls.__dict__.get("__doc__")
    if isinstance(doc, _FieldsDoc):
        doc = doc.own
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


def _plain_annotation(text: str) -> str:
    """An annotation as written, with ``Annotated[T, ...]`` shown as ``T`` (the validators are noise here)."""

    class Strip(ast.NodeTransformer):
        def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
            self.generic_visit(node)
            if isinstance(node.value, ast.Name) and node.value.id == "Annotated":
                inner = node.slice
                return inner.elts[0] if isinstance(inner, ast.Tuple) else inner
            return node

    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return text
    return ast.unparse(Strip().visit(tree))


def _annotation(cls: type, name: str) -> str:
    for klass in cls.__mro__:
        raw = inspect.get_annotations(klass).get(name)
        if raw is not None:
            return _plain_annotation(raw if isinstance(raw, str) else inspect.formatannotation(raw))
    return "?"


def default_text(field: Any) -> str | None:
    """The default of a pydantic field as Python source (``None`` when the field is required)."""
    from pydantic_core import PydanticUndefined

    factory = field.default_factory
    if factory is not None:
        if hasattr(factory, "__pydantic_fields__"):  # a section: its own defaults
            return f"{factory.__name__}()"
        return repr(factory())
    if field.default is PydanticUndefined:
        return None
    default = field.default
    if hasattr(default, "value") and type(default).__module__.startswith("vaultaio_constructs"):
        return f"{type(default).__name__}.{default.name}"  # an enum member
    return repr(default)


def render_fields(cls: type) -> str:
    """The field list of a pydantic dataclass, as ``help()`` shows it."""
    import textwrap

    fields: dict[str, Any] = getattr(cls, "__pydantic_fields__", {})
    lines = [FIELDS_HEADING, ""]
    for name, field in fields.items():
        default = default_text(field)
        head = f"{name}: {_annotation(cls, name)}"
        lines.append(f"{head} = {default}" if default is not None else f"{head}  (required)")
        for line in textwrap.wrap(field.description or "", width=96):
            lines.append(f"    {line}")
    return "\n".join(lines)
