"""The JSON Schema of the settings file, from the props models themselves.

:func:`settings_schema` is what ``vaultaio.schema.json`` at the repository root holds (``make settings-doc``
writes it, and ``docs/SETTINGS.md`` from it; a test fails when either is stale). It describes the file as
the synth reads it: pydantic's validation-mode schema of :class:`~vaultaio_constructs.settings.VaultAioProps`
(lists for tuples, strings for enums, ``additionalProperties: false`` everywhere), with every field's
``description`` from its ``Field(description=...)``, each section's from its class docstring, and defaults
from default factories too. Editors use it through a first line
``# yaml-language-server: $schema=<path or URL of vaultaio.schema.json>``.

The schema catches what a schema can (unknown keys, types, enum values, ranges, name patterns); checks
across fields (``replicas`` odd for raft, Grafana without a Prometheus) remain the synth's, whose errors
name the key. Descriptions are Python docstrings: Sphinx roles become plain code spans and ``None``,
``True`` and ``False`` in code spans become YAML's ``null``, ``true`` and ``false``.
"""

from __future__ import annotations

import re
from typing import Any, Final

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema, to_jsonable_python

from vaultaio_constructs.fielddocs import own_doc

#: The dialect the schema declares: draft-07, the newest that the YAML language server (VS Code's YAML
#: extension and the editors built on it) fully supports; the schema uses no keyword of a later draft, and
#: its blocks live under ``definitions`` (draft-07's name for ``$defs``).
DIALECT: Final = "http://json-schema.org/draft-07/schema#"
DEFINITIONS: Final = "definitions"
#: The committed schema's file name, at the root of the repository.
SCHEMA_FILE: Final = "vaultaio.schema.json"

_ROLE = re.compile(r":(?:mod|class|func|data|meth|attr|obj):`~?([^`]+)`")
_PYTHON_WORDS: Final = {"``None``": "``null``", "``True``": "``true``", "``False``": "``false``"}


def settings_text(text: str) -> str:
    """A docstring or description in the settings file's terms (see the module docstring)."""
    text = _ROLE.sub(r"``\1``", text)
    for python, yaml_word in _PYTHON_WORDS.items():
        text = text.replace(python, yaml_word)
    return text


class SettingsJsonSchema(GenerateJsonSchema):
    """pydantic's generator, with the docstrings as written, defaults of factories, and no field titles."""

    def dataclass_schema(self, schema: core_schema.DataclassSchema) -> JsonSchemaValue:
        json_schema = super().dataclass_schema(schema)
        doc = own_doc(schema["cls"])  # without the field list that help() shows
        if doc:
            json_schema["description"] = doc
        else:
            json_schema.pop("description", None)
        return json_schema

    def tagged_union_schema(self, schema: core_schema.TaggedUnionSchema) -> JsonSchemaValue:
        json_schema = super().tagged_union_schema(schema)
        tag = json_schema.get("discriminator", {}).get("propertyName")
        if tag:  # the synth refuses a member without its tag ("missing 'type'"), so the schema does too
            json_schema["required"] = [tag]
        return json_schema

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False  # "title": "Node Namespace" beside the key node_namespace says nothing new

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        factory = schema.get("default_factory")
        if (
            factory is not None
            and not hasattr(factory, "__pydantic_fields__")
            and not schema.get("default_factory_takes_data")
        ):
            # lists, label maps, Secret references; a whole section (a props class) is left out
            return factory()  # type: ignore[call-arg]  # takes no data (checked above)
        return super().get_default_value(schema)


def _settings_words(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: settings_text(v) if k == "description" and isinstance(v, str) else _settings_words(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_settings_words(v) for v in node]
    return node


def settings_schema() -> dict[str, Any]:
    """The JSON Schema of ``vaultaio.yaml`` (a JSON-serialisable dict, keys in model order)."""
    from vaultaio_constructs.settings import VaultAioProps

    generated = TypeAdapter(VaultAioProps).json_schema(
        mode="validation", schema_generator=SettingsJsonSchema, ref_template=f"#/{DEFINITIONS}/{{model}}"
    )
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "title": "vault-aio settings (vaultaio.yaml)",
        **{(DEFINITIONS if k == "$defs" else k): v for k, v in generated.items() if k != "title"},
    }
    return dict(_settings_words(to_jsonable_python(schema)))
