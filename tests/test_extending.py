"""Every Python snippet of docs/EXTENDING.md runs as written (each in a fresh namespace, in a temporary
folder), and the document covers what it promises."""

from __future__ import annotations

import linecache
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "EXTENDING.md"
TEXT = DOC.read_text()
SNIPPETS = re.findall(r"```python\n(.*?)```", TEXT, re.S)


def _heading(snippet: str) -> str:
    before = TEXT[: TEXT.index(snippet)]
    return re.findall(r"^## (.+)$", before, re.M)[-1]


def test_the_document_has_a_snippet_for_each_topic() -> None:
    headings = [_heading(s) for s in SNIPPETS]
    for topic in (
        "scraped by Prometheus",
        "dashboard",
        "Vault policy",
        "Loki alert rule",
        "other namespaces",
        "One component alone",
    ):
        assert any(topic in h for h in headings), f"no snippet under a heading about {topic!r}"
    for call in (
        "connect(",
        "expose_to_namespaces(",
        "ExternalService",
        "add_scrape_target(",
        "add_dashboard(",
        "add_policy(",
        "add_rules(",
        "StackChart(",
    ):
        assert any(call in s for s in SNIPPETS), f"no snippet shows {call}"


@pytest.mark.parametrize("index", range(len(SNIPPETS)), ids=lambda i: f"snippet-{i + 1}")
def test_snippet_runs(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # snippets that write, write here
    snippet = SNIPPETS[index]
    where = f"docs/EXTENDING.md snippet {index + 1} ({_heading(snippet)})"
    linecache.cache[where] = (len(snippet), None, snippet.splitlines(keepends=True), where)  # for tracebacks
    code = compile(snippet, where, "exec")
    exec(code, {"__name__": f"extending_snippet_{index + 1}"})
