"""An independent reader of the Alloy syntax subset the renderer writes, for round-trip tests.

It follows the Alloy scanner's rules (``grafana/alloy:syntax/scanner/scanner.go``): ``//`` comments,
identifiers ``[A-Za-z_][A-Za-z0-9_]*``, double-quoted strings with the escapes ``\\a \\b \\f \\n \\r \\t \\v
\\\\ \\"``, 3-digit octal, ``\\x``hh, ``\\u``hhhh and ``\\U``hhhhhhhh, newline-terminated attributes.
Anything else raises ``SyntaxError``, so a rendering the real parser would reject fails the tests too.

Parsed values: literals become Python values; ``a.b.c`` becomes ``("ref", "a.b.c")``; ``f(x)`` becomes
``("call", "f", [x])``; ``x + y`` becomes ``("concat", [x, y])``. Blocks become
``{"name": ..., "label": ..., "attrs": {...}, "blocks": [...]}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from vaultaio_constructs.alloy.syntax import Attr, Block, Expr, Ref, Value

_TOKEN = re.compile(
    r"""
    (?P<comment>//[^\n]*)
  | (?P<newline>\n)
  | (?P<space>[ \t\r]+)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[{}\[\](),=.+])
    """,
    re.VERBOSE,
)
_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", '"': '"'}


@dataclass
class Tok:
    kind: str
    text: str
    pos: int


def unquote(literal: str) -> str:
    body = literal[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        esc = body[i + 1]
        if esc in _SIMPLE:
            out.append(_SIMPLE[esc])
            i += 2
        elif esc in "01234567":
            out.append(chr(int(body[i + 1 : i + 4], 8)))
            i += 4
        elif esc in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[esc]
            digits = body[i + 2 : i + 2 + width]
            if len(digits) != width or not re.fullmatch(r"[0-9A-Fa-f]+", digits):
                raise SyntaxError(f"bad \\{esc} escape in {literal!r}")
            code = int(digits, 16)
            if 0xD800 <= code < 0xE000 or code > 0x10FFFF:
                raise SyntaxError(f"escape is not a valid code point in {literal!r}")
            out.append(chr(code))
            i += 2 + width
        else:
            raise SyntaxError(f"unknown escape sequence \\{esc} in {literal!r}")
    return "".join(out)


def tokenize(text: str) -> list[Tok]:
    toks: list[Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise SyntaxError(f"illegal character {text[pos]!r} at offset {pos}")
        kind = m.lastgroup
        assert kind is not None
        if kind not in ("space", "comment"):
            toks.append(Tok(kind, m.group(), pos))
        pos = m.end()
    toks.append(Tok("eof", "", pos))
    return toks


class Parser:
    def __init__(self, text: str) -> None:
        self.toks = tokenize(text)
        self.i = 0

    def peek(self, offset: int = 0) -> Tok:
        return self.toks[self.i + offset]

    def take(self, kind: str, text: str | None = None) -> Tok:
        tok = self.peek()
        if tok.kind != kind or (text is not None and tok.text != text):
            raise SyntaxError(f"expected {text or kind} at offset {tok.pos}, got {tok.text!r}")
        self.i += 1
        return tok

    def skip_newlines(self) -> None:
        while self.peek().kind == "newline":
            self.i += 1

    def body(self, until: str) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        blocks: list[dict[str, Any]] = []
        self.skip_newlines()
        while not (self.peek().kind == until or (until == "}" and self.peek().text == "}")):
            name = self.take("ident").text
            if self.peek().text == "=":
                self.take("punct", "=")
                if name in attrs:
                    raise SyntaxError(f"attribute {name!r} set twice")
                attrs[name] = self.expr()
                if self.peek().kind != "newline" and self.peek().text != "}":
                    raise SyntaxError(
                        f"expected newline after attribute {name!r} at offset {self.peek().pos}"
                    )
            else:
                while self.peek().text == ".":
                    self.take("punct", ".")
                    name += "." + self.take("ident").text
                label = unquote(self.take("string").text) if self.peek().kind == "string" else None
                self.take("punct", "{")
                inner = self.body("}")
                self.take("punct", "}")
                blocks.append({"name": name, "label": label, **inner})
            self.skip_newlines()
        return {"attrs": attrs, "blocks": blocks}

    def expr(self) -> Any:
        parts = [self.term()]
        while self.peek().text == "+":
            self.take("punct", "+")
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else ("concat", parts)

    def term(self) -> Any:
        tok = self.peek()
        if tok.kind == "string":
            self.i += 1
            return unquote(tok.text)
        if tok.kind == "number":
            self.i += 1
            return float(tok.text) if any(c in tok.text for c in ".eE") else int(tok.text)
        if tok.text == "[":
            return self.seq("[", "]")
        if tok.text == "{":
            return self.obj()
        if tok.kind == "ident":
            if tok.text in ("true", "false", "null"):
                self.i += 1
                return {"true": True, "false": False, "null": None}[tok.text]
            name = self.take("ident").text
            while self.peek().text == ".":
                self.take("punct", ".")
                name += "." + self.take("ident").text
            if self.peek().text == "(":
                return ("call", name, self.seq("(", ")"))
            return ("ref", name)
        raise SyntaxError(f"unexpected {tok.text!r} at offset {tok.pos}")

    def seq(self, open_: str, close: str) -> list[Any]:
        self.take("punct", open_)
        items: list[Any] = []
        self.skip_newlines()
        while self.peek().text != close:
            items.append(self.expr())
            self.skip_newlines()
            if self.peek().text == ",":
                self.take("punct", ",")
                self.skip_newlines()
            elif self.peek().text != close:
                raise SyntaxError(f"expected ',' or {close!r} at offset {self.peek().pos}")
        self.take("punct", close)
        return items

    def obj(self) -> dict[str, Any]:
        self.take("punct", "{")
        out: dict[str, Any] = {}
        self.skip_newlines()
        while self.peek().text != "}":
            tok = self.peek()
            key = unquote(self.take("string").text) if tok.kind == "string" else self.take("ident").text
            self.take("punct", "=")
            if key in out:
                raise SyntaxError(f"object key {key!r} twice")
            out[key] = self.expr()
            self.skip_newlines()
            if self.peek().text == ",":
                self.take("punct", ",")
                self.skip_newlines()
            elif self.peek().text != "}":
                raise SyntaxError(f"expected ',' or '}}' at offset {self.peek().pos}")
        self.take("punct", "}")
        return out


def parse(text: str) -> dict[str, Any]:
    """The file's top-level body: ``{"attrs": {...}, "blocks": [...]}``."""
    parser = Parser(text)
    return parser.body("eof")


def to_parsed(value: Value) -> Any:
    """What the reader returns for ``value``."""
    if isinstance(value, Ref):
        return ("ref", value.text)
    if isinstance(value, Expr):
        return Parser(value.text).expr()
    if isinstance(value, dict):
        return {k: to_parsed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_parsed(v) for v in value]
    return value


def block_to_parsed(blk: Block) -> dict[str, Any]:
    return {
        "name": blk.name,
        "label": blk.label,
        "attrs": {item.name: to_parsed(item.value) for item in blk.body if isinstance(item, Attr)},
        "blocks": [block_to_parsed(item) for item in blk.body if isinstance(item, Block)],
    }
