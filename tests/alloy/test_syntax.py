"""The Alloy syntax renderer: escaping, identifiers, layout, determinism, round trip through a reader."""

from __future__ import annotations

import pytest

from tests.alloy.alloy_parser import block_to_parsed, parse, unquote
from vaultaio_constructs.alloy.syntax import (
    Attr,
    Block,
    Ref,
    attrs,
    block,
    concat,
    env,
    quote,
    references,
    render,
    render_value,
)

TRICKY = [
    "plain",
    'say "hi"',
    "back\\slash",
    "C:\\path\\n",
    "line1\nline2\r\n",
    "tab\tbell\a\bform\fvert\v",
    "nul\x00esc\x1bdel\x7f",
    "unicode é ü 日本 🚀",
    "{{ .Value }} $1 ${2}",
    "`backtick` 'single'",
    "",
]


@pytest.mark.parametrize("text", TRICKY)
def test_strings_round_trip_through_the_alloy_escape_rules(text: str) -> None:
    literal = quote(text)
    assert literal.startswith('"') and literal.endswith('"')
    assert "\n" not in literal  # a string literal may not span lines
    assert unquote(literal) == text


def test_escapes_are_the_ones_alloy_knows() -> None:
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    assert quote("\n\t\r") == '"\\n\\t\\r"'
    assert quote("\x01") == '"\\u0001"'
    assert quote("é") == '"é"'
    # Alloy has no \' escape: a single quote is written as is.
    assert quote("'") == '"\'"'


def test_fails_lone_surrogate() -> None:
    with pytest.raises(ValueError, match=r"lone surrogate \(U\+D800\)"):
        quote("\ud800")


@pytest.mark.parametrize("name", ["1abc", "a-b", "a b", "", "ünï"])
def test_fails_invalid_label(name: str) -> None:
    with pytest.raises(ValueError, match=r"block label .* is not a valid alloy identifier"):
        Block(name="loki.write", label=name)


@pytest.mark.parametrize("name", ["loki..write", ".x", "loki.write-x", ""])
def test_fails_invalid_block_name(name: str) -> None:
    with pytest.raises(ValueError, match=r"block name .* must be dot-separated alloy identifiers"):
        Block(name=name)


def test_fails_invalid_attribute_name() -> None:
    with pytest.raises(ValueError, match=r"attribute name 'forward-to' is not a valid alloy identifier"):
        Attr("forward-to", [])


def test_fails_attribute_set_twice() -> None:
    with pytest.raises(ValueError, match=r"block 'x' sets attribute 'a' twice"):
        block("x", None, Attr("a", 1), Attr("a", 2))


def test_fails_duplicate_component() -> None:
    with pytest.raises(ValueError, match=r"component loki.write 'default' is defined twice"):
        render([block("loki.write", "default"), block("loki.write", "default")])


def test_fails_unrepresentable_values() -> None:
    with pytest.raises(ValueError, match=r"number inf is not finite"):
        render_value(float("inf"))
    with pytest.raises(ValueError, match=r"cannot be written as alloy syntax"):
        render_value(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"environment variable name 'NODE-NAME'"):
        env("NODE-NAME")
    with pytest.raises(ValueError, match=r"has no label, so its exports cannot be referenced"):
        block("logging").ref("x")


def test_scalars_and_references() -> None:
    assert render_value(True) == "true"
    assert render_value(None) == "null"
    assert render_value(3) == "3"
    assert render_value(0.5) == "0.5"
    assert render_value(Ref("loki.write", "default", "receiver")) == "loki.write.default.receiver"
    assert render_value(env("NODE_NAME")) == 'sys.env("NODE_NAME")'
    assert render_value(concat("spec.nodeName=", env("N"))) == '"spec.nodeName=" + sys.env("N")'


def test_objects_sort_keys_and_quote_non_identifiers() -> None:
    assert render_value({"b": 1, "a": "x", "__path__": "/p", "with-dash": 2}) == (
        '{ __path__ = "/p", a = "x", b = 1, "with-dash" = 2 }'
    )


def test_long_lists_break_one_item_per_line() -> None:
    items = [f"item-number-{i:02d}" for i in range(10)]
    text = render_value(items, indent=1)
    lines = text.splitlines()
    assert lines[0] == "[" and lines[-1] == "  ]"
    assert lines[1:-1] == [f'    "{item}",' for item in items]


def test_block_layout_aligns_attributes_and_separates_blocks() -> None:
    text = render(
        [
            block(
                "loki.source.file",
                "pods",
                *attrs(targets=Ref("local.file_match", "pods", "targets"), forward_to=[]),
                block("file_watch", None, Attr("min_poll_frequency", "1s")),
                comment=("a comment",),
            )
        ],
        header=("header line",),
    )
    assert text == (
        "// header line\n"
        "\n"
        "// a comment\n"
        'loki.source.file "pods" {\n'
        "  targets    = local.file_match.pods.targets\n"
        "  forward_to = []\n"
        "\n"
        "  file_watch {\n"
        '    min_poll_frequency = "1s"\n'
        "  }\n"
        "}\n"
    )


def test_empty_block() -> None:
    assert render([block("stage.cri")]) == "stage.cri {}\n"


def sample_blocks() -> list[Block]:
    write = block("loki.write", "default", block("endpoint", None, Attr("url", 'http://l:3100/"x"')))
    return [
        block("logging", None, *attrs(level="info", format="logfmt")),
        block(
            "local.file_match",
            "files",
            Attr(
                "path_targets",
                [{"__path__": f"/var/log/{n}.log", "job": "j", "node": env("NODE_NAME")} for n in "abc"],
            ),
        ),
        block(
            "loki.process",
            "p",
            Attr("forward_to", [write.ref("receiver")]),
            block("stage.cri"),
            block(
                "stage.match",
                None,
                Attr("selector", '{app="vault"} |~ `"type":"(request|response)"`'),
                block("stage.json", None, Attr("expressions", {"t": "type", "o": "request.operation"})),
            ),
        ),
        write,
        block("x.numbers", "n", *attrs(i=42, f=1.5, b=False, n=None, empty=[], obj={})),
    ]


def test_round_trip_through_an_independent_reader() -> None:
    blocks = sample_blocks()
    parsed = parse(render(blocks))
    assert parsed["attrs"] == {}
    assert parsed["blocks"] == [block_to_parsed(b) for b in blocks]


def test_rendering_is_deterministic() -> None:
    assert render(sample_blocks()) == render(sample_blocks())


def test_references_are_collected_recursively() -> None:
    blocks = sample_blocks()
    found = set().union(*(references(b) for b in blocks))
    assert found == {Ref("loki.write", "default", "receiver")}


@pytest.mark.parametrize(
    "text",
    [
        'a = "bad \\q escape"\n',
        'a = "unterminated\n',
        "x {\n  a = 1 b = 2\n}\n",
        'x "label" {\n',
        "a = [1, 2\n",
        'a = "\\ud800"\n',
    ],
)
def test_reader_rejects_what_alloy_rejects(text: str) -> None:
    with pytest.raises(SyntaxError):
        parse(text)
