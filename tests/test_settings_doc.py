"""docs/SETTINGS.md and vaultaio.schema.json are current; the schema refuses what the synth refuses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tools import settings_doc
from vaultaio_constructs.settings import SettingsError, parse_settings

REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads(settings_doc.SCHEMA_PATH.read_text())
VALIDATOR = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
EXAMPLES = sorted((REPO / "examples" / "settings").glob("*.yaml"))
SCHEMA_LINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def _errors(data: Any) -> list[str]:
    return sorted(f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(data))


def test_committed_reference_and_schema_are_what_the_models_give() -> None:
    stale = [
        str(path.relative_to(REPO))
        for path, text in settings_doc.generate().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"{stale} are stale: run `make settings-doc` and commit them"


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == jsonschema.Draft7Validator.META_SCHEMA["$id"]


#: Draft-07 keywords (what the YAML language server validates), and OpenAPI's ``discriminator`` that pydantic
#: adds to tagged unions (an annotation every validator ignores; ``oneOf`` beside it does the work).
DRAFT7_KEYWORDS = frozenset(
    [
        "$schema",
        "$ref",
        "title",
        "description",
        "default",
        "type",
        "enum",
        "const",
        "properties",
        "additionalProperties",
        "required",
        "items",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "pattern",
        "anyOf",
        "oneOf",
        "allOf",
        "minProperties",
        "maxProperties",
        "definitions",
        "discriminator",
    ]
)


def _keywords(node: Any) -> set[str]:
    if isinstance(node, list):
        return {k for item in node for k in _keywords(item)}
    if not isinstance(node, dict):
        return set()
    found = set(node)
    for key, value in node.items():
        if key in ("properties", "definitions"):
            found |= {k for child in value.values() for k in _keywords(child)}
        elif key not in ("default", "const", "enum", "discriminator"):
            found |= _keywords(value)
    return found


def test_schema_uses_only_what_editors_support() -> None:
    """A keyword of a later draft (``prefixItems``, ``$defs``...) would be ignored or flagged by the YAML
    language server, so a pydantic upgrade that emits one must be noticed."""
    assert _keywords(SCHEMA) - DRAFT7_KEYWORDS == set()


def test_the_reference_documents_every_key_of_the_schema() -> None:
    """Every property of every settings block appears as a row of the reference, with its description."""
    doc = settings_doc.DOC_PATH.read_text()
    blocks = [SCHEMA, *SCHEMA["definitions"].values()]
    missing = [
        key
        for block in blocks
        for key, prop in block.get("properties", {}).items()
        if f"| `{key}` |" not in doc or (prop.get("description") and prop["description"] not in doc)
    ]
    assert not missing, f"keys missing from docs/SETTINGS.md: {missing}"
    for heading in (
        "`vault.seal` with `type: transit`",
        "`loki.storage` with `type: s3`",
        "`chrony.servers[]`",
    ):
        assert f" {heading}\n" in doc, f"no section {heading}"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_names_the_schema_and_is_valid_by_it(example: Path) -> None:
    first = example.read_text().splitlines()[0]
    match = SCHEMA_LINE.fullmatch(first)
    assert match, f"{example.name} does not start with '# yaml-language-server: $schema=...'"
    assert (example.parent / match.group(1)).resolve() == settings_doc.SCHEMA_PATH
    assert _errors(yaml.safe_load(example.read_text())) == []


def test_readme_settings_examples_are_valid_by_the_schema() -> None:
    readme = (REPO / "README.md").read_text()
    blocks = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", readme, re.S)]
    settings = [b for b in blocks if isinstance(b, dict)]
    assert len(settings) >= 3, "README's settings examples were not found"
    for data in settings:
        assert _errors(data) == [], data
    assert "# yaml-language-server: $schema=" in readme


def test_defaults_are_valid_and_schema_defaults_match_the_models() -> None:
    assert _errors({}) == []
    defaults = parse_settings({})
    props = SCHEMA["properties"]
    assert props["namespace"]["default"] == defaults.namespace
    assert props["kubernetes_version"]["default"] == defaults.kubernetes_version
    dns = SCHEMA["definitions"]["DnsProps"]["properties"]["pod_labels"]  # a default factory
    assert dns["default"] == defaults.network.dns.pod_labels


# A file the synth refuses for a reason a schema can express, and the key the schema must name.
BAD: dict[str, tuple[dict[str, Any], str]] = {
    "unknown key": ({"vault": {"replicaz": 3}}, "vault"),
    "quoted number": ({"vault": {"replicas": "3"}}, "vault.replicas"),
    "quoted boolean": ({"vault": {"ui": "no"}}, "vault.ui"),
    "unknown enum value": ({"profile": "huge"}, "profile"),
    "name with capitals": ({"namespace": "Vault-AIO"}, "namespace"),
    "old kubernetes": ({"kubernetes_version": "1.26"}, "kubernetes_version"),
    "port out of range": ({"network": {"dns": {"port": 70000}}}, "network.dns.port"),
    "unknown seal type": ({"vault": {"seal": {"type": "hsm"}}}, "vault.seal"),
    "seal without type": ({"vault": {"seal": {"region": "eu-west-1"}}}, "vault.seal"),
    "transit seal without key": (
        {
            "vault": {
                "seal": {
                    "type": "transit",
                    "address": "https://v.example.com",
                    "token": {"name": "t", "key": "k"},
                }
            }
        },
        "vault.seal",
    ),
    "list for a mapping": ({"network": {"dns": {"pod_labels": ["k8s-app"]}}}, "network.dns.pod_labels"),
    "mapping for a list": (
        {"network": {"kube_api": {"cidrs": {"a": "10.0.0.0/8"}}}},
        "network.kube_api.cidrs",
    ),
}


@pytest.mark.parametrize("name", BAD)
def test_schema_refuses_what_the_synth_refuses(name: str) -> None:
    data, key = BAD[name]
    with pytest.raises(SettingsError):
        parse_settings(data)  # the synth refuses it: the schema must not be looser here
    errors = _errors(data)
    assert errors, f"the schema accepts {data}"
    assert any(e.startswith(f"{key}:") or e.startswith(f"{key}.") for e in errors), errors
