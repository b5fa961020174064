"""Read queries back out of generated dashboard JSON and take PromQL / LogQL apart for the checks.

The helpers work on the serialised JSON (what Grafana loads), not on the builders, so they test the output.
The PromQL reader is a small tokenizer: it drops strings, label matchers, ranges and the label lists of
``by``/``without``/``on``/``ignoring``/``group_*`` and treats every remaining identifier that is not a
function, keyword or literal as a metric name, paired with the matchers of the selector that follows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: Grafana's built-in interval variables, replaced by concrete durations for promtool.
BUILTIN_VALUES = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1h",
    "__auto": "1m",
    "__range_s": "3600",
    "__interval_ms": "60000",
}

_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")

_PROMQL_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless"}
)
_LABEL_LIST_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
_PROMQL_LITERALS = frozenset({"inf", "nan", "Inf", "NaN"})

_TOKEN = re.compile(
    r"""
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<number>\d[\w.]*)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<open_brace>\{)
  | (?P<close_brace>\})
  | (?P<open_bracket>\[)
  | (?P<close_bracket>\])
  | (?P<open_paren>\()
  | (?P<close_paren>\))
  | (?P<space>\s+)
  | (?P<other>.)
    """,
    re.VERBOSE,
)
_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Query:
    """One query found in a dashboard."""

    dashboard: str
    panel: str
    datasource: str
    expr: str


@dataclass(frozen=True)
class Selector:
    """A metric name and its label matchers as (name, operator, value)."""

    metric: str
    matchers: tuple[tuple[str, str, str], ...]

    def equal(self, label: str) -> str | None:
        return next((v for n, op, v in self.matchers if n == label and op == "="), None)


def iter_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including rows and the panels inside collapsed rows, in order."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def source_uid(source: dict[str, Any]) -> str:
    """The provisioned data source a reference means: its UID, or for a ``${variable}`` reference the type
    (the dashboards pick the data source of a type through a variable; the type equals the UID here)."""
    uid = str(source.get("uid", ""))
    return str(source.get("type", "")) if uid.startswith("${") else uid


def panel_datasource(panel: dict[str, Any], target: dict[str, Any]) -> str:
    return source_uid(target.get("datasource") or panel.get("datasource") or {})


def dashboard_queries(dashboard: dict[str, Any]) -> list[Query]:
    """Queries of every panel target, plus the query of every data-source variable."""
    uid = dashboard["uid"]
    found: list[Query] = []
    for panel in iter_panels(dashboard):
        for target in panel.get("targets", []):
            expr = target.get("expr") or target.get("query")
            if expr:
                found.append(Query(uid, panel.get("title", ""), panel_datasource(panel, target), expr))
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        if variable.get("type") == "query" and isinstance(query, str):
            source = source_uid(variable["datasource"])
            found.append(Query(uid, f"variable {variable['name']}", source, query))
    return found


def variable_defaults(dashboard: dict[str, Any]) -> dict[str, str]:
    """A concrete value per variable for substitution: the first custom option, else a label value."""
    values: dict[str, str] = {}
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable["type"] == "custom":
            values[variable["name"]] = str(variable["query"]).split(",")[0]
        else:
            values[variable["name"]] = "example"
    return values


def referenced_variables(expr: str) -> set[str]:
    return {next(g for g in match.groups() if g) for match in _VARIABLE.finditer(expr)}


def substitute(expr: str, values: dict[str, str]) -> str:
    """Replace Grafana variables with concrete values; unknown variables raise KeyError."""

    def replace(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g)
        if name in BUILTIN_VALUES:
            return BUILTIN_VALUES[name]
        return values[name]

    return _VARIABLE.sub(replace, expr)


def label_values_selector(query: str) -> str | None:
    """The series selector of a ``label_values(<selector>, <label>)`` variable query."""
    match = re.fullmatch(r"\s*label_values\((.+),\s*[a-zA-Z_][a-zA-Z0-9_]*\)\s*", query, re.DOTALL)
    return match.group(1) if match else None


def promql_selectors(expr: str) -> list[Selector]:
    """Metric names used by a PromQL expression with the matchers written on each."""
    tokens = [(m.lastgroup or "", m.group()) for m in _TOKEN.finditer(expr)]
    tokens = [t for t in tokens if t[0] != "space"]
    selectors: list[Selector] = []
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        if (
            kind == "ident"
            and text in _LABEL_LIST_KEYWORDS
            and i + 1 < len(tokens)
            and tokens[i + 1][0] == "open_paren"
        ):
            depth = 0
            i += 1
            while i < len(tokens):
                if tokens[i][0] == "open_paren":
                    depth += 1
                elif tokens[i][0] == "close_paren":
                    depth -= 1
                    if depth == 0:
                        break
                i += 1
        elif kind == "ident" and text not in _PROMQL_KEYWORDS and text not in _PROMQL_LITERALS:
            following = tokens[i + 1] if i + 1 < len(tokens) else ("", "")
            # a function call, or an aggregation written ``sum by (...) (...)``
            is_call = following[0] == "open_paren" or following[1] in ("by", "without")
            if not is_call:
                matchers: tuple[tuple[str, str, str], ...] = ()
                if i + 1 < len(tokens) and tokens[i + 1][0] == "open_brace":
                    j = i + 1
                    while tokens[j][0] != "close_brace":
                        j += 1
                    body = "".join(t[1] for t in tokens[i + 2 : j])
                    matchers = tuple(_MATCHER.findall(body))
                    i = j
                selectors.append(Selector(text, matchers))
        elif kind == "open_brace":
            raise AssertionError(f"selector without a metric name in {expr!r}")
        elif kind == "open_bracket":
            while tokens[i][0] != "close_bracket":
                i += 1
        i += 1
    return selectors


def logql_stream_selectors(expr: str) -> list[list[tuple[str, str, str]]]:
    """Every ``{...}`` stream selector of a LogQL expression as (label, operator, value) matchers."""
    selectors: list[list[tuple[str, str, str]]] = []
    i = 0
    while i < len(expr):
        char = expr[i]
        if char in '"`':
            end = i + 1
            while expr[end] != char:
                end += 2 if char == '"' and expr[end] == "\\" else 1
            i = end + 1
            continue
        if char == "{":
            end = expr.index("}", i)
            body = expr[i + 1 : end]
            matchers = _MATCHER.findall(body)
            if not matchers or _MATCHER.sub("", body).strip(" ,"):
                raise AssertionError(f"cannot read stream selector {{{body}}} in {expr!r}")
            selectors.append(matchers)
            i = end + 1
            continue
        i += 1
    return selectors


def logql_json_labels(expr: str) -> list[str]:
    """Names of the labels a ``| json a="x", b="y"`` stage extracts."""
    names: list[str] = []
    for stage in re.findall(r'\|\s*json\s+((?:[a-zA-Z_]\w*\s*=\s*"[^"]*"\s*,?\s*)+)', expr):
        names.extend(re.findall(r'([a-zA-Z_]\w*)\s*=\s*"', stage))
    return names
