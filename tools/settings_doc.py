"""Write the settings reference (``docs/SETTINGS.md``) and the JSON Schema (``vaultaio.schema.json``).

Both come from the props models (:func:`vaultaio_constructs.schema.settings_schema`): every key with its
type, default, allowed values and constraints, and the description from its ``Field(description=...)``, so
the reference, the schema an editor uses and ``help()`` say the same thing. ``make settings-doc`` runs
this; ``tests/test_settings_doc.py`` fails when a committed file differs from what it writes.

Usage: ``python tools/settings_doc.py [--check]`` (``--check``: write nothing, exit 1 if a file is stale).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from vaultaio_constructs.schema import DEFINITIONS

REPO = Path(__file__).resolve().parent.parent
SCHEMA_PATH = REPO / "vaultaio.schema.json"
DOC_PATH = REPO / "docs" / "SETTINGS.md"

Schema = dict[str, Any]


def schema_text(schema: Schema) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


class Reference:
    """Markdown for one schema: a section per settings block, tagged unions per type, shared types once."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.defs: dict[str, Schema] = schema.get(DEFINITIONS, {})
        self.uses = Counter(self._refs(schema.get("properties", {})))
        for definition in self.defs.values():
            self.uses.update(self._refs(definition.get("properties", {})))
        #: Object types used in more than one place: documented once, under "Shared types".
        self.shared = sorted(
            name for name, count in self.uses.items() if count > 1 and self._is_object(self.defs[name])
        )
        self.out: list[str] = []

    # -- schema helpers -----------------------------------------------------------------------------------
    def _refs(self, node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"].rsplit("/", 1)[-1]] if "$ref" in node else []
            return found + [r for k, v in node.items() if k != "discriminator" for r in self._refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in self._refs(v)]
        return []

    @staticmethod
    def _is_object(node: Schema) -> bool:
        return node.get("type") == "object" and "properties" in node

    def _deref(self, node: Schema) -> tuple[str | None, Schema]:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return name, self.defs[name]
        return None, node

    @staticmethod
    def _without_null(node: Schema) -> tuple[Schema, bool]:
        """The schema without its ``null`` alternative, and whether there was one."""
        options = node.get("anyOf")
        if options and any(o.get("type") == "null" for o in options):
            rest = [o for o in options if o.get("type") != "null"]
            return (rest[0] if len(rest) == 1 else {"anyOf": rest}), True
        return node, False

    # -- text -----------------------------------------------------------------------------------------------
    @staticmethod
    def _cell(text: str) -> str:
        return " ".join(text.split()).replace("|", "\\|")

    @staticmethod
    def _value(value: Any) -> str:
        text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
        text = text.removesuffix("\n...").removesuffix("...").strip()
        return f"`{text}`"

    @staticmethod
    def _pattern_words(pattern: str, max_length: int | None) -> str:
        known = {
            "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$": "DNS label",
            "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$": "DNS name",
            "^1\\.(2[7-9]|[3-9][0-9])$": "`1.NN`, from `1.27`",
        }
        if pattern in known:
            return known[pattern]
        words = f"matching `{pattern}`"
        return f"{words}, at most {max_length} characters" if max_length else words

    def type_text(self, node: Schema) -> str:
        """The type of a value in the settings file's terms, with its constraints."""
        node, nullable = self._without_null(node)
        text = self._type_text(node)
        return f"{text}, or `null`" if nullable else text

    def _type_text(self, node: Schema) -> str:
        name, target = self._deref(node)
        if "oneOf" in target and "discriminator" in target:
            tag = target["discriminator"]["propertyName"]
            members = [self._deref(o) for o in target["oneOf"]]
            choices = ", ".join(f"`{self._tag(t, tag)}`" for _, t in members)
            return f"one of, by `{tag}`: {choices}"
        if "enum" in target:
            return "one of " + ", ".join(f"`{v}`" for v in target["enum"])
        if "const" in target:
            return f"`{target['const']}`"
        if self._is_object(target):
            if name in self.shared:
                return f"[{name}](#{name.lower()})"
            return "mapping (below)"
        if "anyOf" in target:
            return " or ".join(self._type_text(o) for o in target["anyOf"])
        kind = target.get("type")
        limits = []
        if kind == "array":
            items = self._type_text(target.get("items", {}))
            text = f"list of {items}"
            if "minItems" in target:
                limits.append(f"at least {target['minItems']}")
            if "maxItems" in target:
                limits.append(f"at most {target['maxItems']}")
        elif kind == "object":
            values = target.get("additionalProperties")
            text = (
                f"mapping of string to {self._type_text(values)}" if isinstance(values, dict) else "mapping"
            )
        elif kind == "string":
            text = "string"
            if "pattern" in target:
                limits.append(self._pattern_words(target["pattern"], target.get("maxLength")))
            elif "maxLength" in target:
                limits.append(f"at most {target['maxLength']} characters")
            if target.get("minLength", 0) > 0 and "pattern" not in target:
                limits.append(f"at least {target['minLength']} character(s)")
        elif kind in ("integer", "number"):
            text = kind
            low, high = target.get("minimum"), target.get("maximum")
            if "exclusiveMinimum" in target:
                limits.append(f"> {target['exclusiveMinimum']}")
            if "exclusiveMaximum" in target:
                limits.append(f"< {target['exclusiveMaximum']}")
            if low is not None and high is not None:
                limits.append(f"{low} to {high}")
            elif low is not None:
                limits.append(f">= {low}")
            elif high is not None:
                limits.append(f"<= {high}")
        elif kind == "boolean":
            text = "boolean"
        else:
            text = str(kind or "any")
        return f"{text} ({'; '.join(limits)})" if limits else text

    @staticmethod
    def _tag(member: Schema, tag: str) -> str:
        return str(member["properties"][tag].get("const", member["properties"][tag].get("default")))

    # -- sections -------------------------------------------------------------------------------------------
    def _heading(self, level: int, text: str) -> None:
        self.out += ["", f"{'#' * min(level, 6)} {text}", ""]

    def _description(self, text: str) -> None:
        if text:
            self.out += [text.strip(), ""]

    def section(self, path: str, node: Schema, level: int, title: str | None = None) -> None:
        """A settings block: its description, a table of its keys, then its nested blocks."""
        self._heading(level, title or f"`{path}`")
        self._description(node.get("description", ""))
        properties: dict[str, Schema] = node.get("properties", {})
        required = set(node.get("required", ()))
        if not properties:
            self.out += ["No keys.", ""]
            return
        self.out += ["| Key | Type | Default | Description |", "|---|---|---|---|"]
        nested: list[tuple[str, Schema]] = []
        for key, prop in properties.items():
            if "default" in prop:
                default = self._value(prop["default"])
            elif key in required:
                default = "**required**"
            else:
                default = "(below)" if self._object_or_union(prop) else ""
            description = prop.get("description") or self._summary(prop)
            self.out.append(
                f"| `{key}` | {self._cell(self.type_text(prop))} | {self._cell(default)} | "
                f"{self._cell(description)} |"
            )
            nested.append((f"{path}.{key}" if path else key, prop))
        self.out.append("")
        for child_path, prop in nested:
            self.nested(child_path, prop, level + 1)

    def _summary(self, prop: Schema) -> str:
        """The first paragraph of the block's own description (pydantic leaves out a field's description
        when it repeats the block's)."""
        node, _ = self._without_null(prop)
        _, target = self._deref(node)
        return str(target.get("description", "")).split("\n\n", 1)[0]

    def _object_or_union(self, prop: Schema) -> bool:
        node, _ = self._without_null(prop)
        name, target = self._deref(node)
        return (self._is_object(target) and name not in self.shared) or "discriminator" in target

    def nested(self, path: str, prop: Schema, level: int) -> None:
        """The block(s) a key holds, if any: a mapping, each type of a tagged union, or a list's items."""
        node, _ = self._without_null(prop)
        name, target = self._deref(node)
        if target.get("type") == "array" and isinstance(target.get("items"), dict):
            self.nested(f"{path}[]", target["items"], level)
            return
        if "discriminator" in target:
            tag = target["discriminator"]["propertyName"]
            for member_name, member in (self._deref(o) for o in target["oneOf"]):
                value = self._tag(member, tag)
                if member_name in self.shared:
                    self._heading(level, f"`{path}` with `{tag}: {value}`")
                    self.out += [f"See [{member_name}](#{(member_name or '').lower()}).", ""]
                else:
                    self.section(path, member, level, f"`{path}` with `{tag}: {value}`")
            return
        if self._is_object(target) and name not in self.shared:
            self.section(path, target, level)

    def render(self) -> str:
        schema = self.schema
        self.out = [
            "# Settings reference",
            "",
            "<!-- Generated by `make settings-doc` (tools/settings_doc.py) from the props models: edit the",
            "     Field(description=...) in vaultaio_constructs/, not this file. -->",
            "",
            "Every key of the settings file (`vaultaio.yaml`, or the file `VAULTAIO_SETTINGS` names), nested",
            "by section. Every key is optional unless marked **required** (only inside a block that you add,",
            "such as an Ingress or a seal); a block shown as `null` is off until you give it. Lists are YAML",
            'lists, mappings YAML mappings; types are strict (`"3"` is not an integer, `"no"` not a',
            "boolean). The synth checks more than a type can say (values against each other, impossible",
            "combinations) and names the key of every problem.",
            "",
            "The same descriptions are in the JSON Schema [`vaultaio.schema.json`](../vaultaio.schema.json),",
            "which editors with the YAML language server (VS Code's YAML extension, Neovim, JetBrains) use",
            "to complete keys and flag mistakes as you type when the file starts with",
            "",
            "```yaml",
            "# yaml-language-server: $schema=<path to the clone>/vaultaio.schema.json",
            "```",
            "",
            "and in Python, `help(VaultProps)` and the other props classes.",
            "",
            "A *DNS label* is lowercase letters, digits and `-`, starting and ending with a letter or",
            "digit, at most 63 characters (Kubernetes object and namespace names); a *DNS name* is",
            "dot-separated DNS labels, at most 253 characters.",
        ]
        self.section("", schema, 2, "Top level")
        if self.shared:
            self._heading(2, "Shared types")
            self.out += ["Blocks that appear under several keys.", ""]
            for name in self.shared:
                self.section(name, self.defs[name], 3, name)
        text = "\n".join(self.out)
        while "\n\n\n" in text:
            text = text.replace("\n\n\n", "\n\n")
        return text.strip() + "\n"


def generate() -> dict[Path, str]:
    """The text of each generated file, by path."""
    from vaultaio_constructs.schema import settings_schema

    schema = settings_schema()
    return {SCHEMA_PATH: schema_text(schema), DOC_PATH: Reference(schema).render()}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, text in generate().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path.relative_to(REPO))
        if not check:
            path.write_text(text, encoding="utf-8")
    if check and stale:
        print(
            f"stale: {', '.join(map(str, stale))}: run `make settings-doc` and commit them", file=sys.stderr
        )
        return 1
    print(f"{'wrote' if stale else 'up to date:'} {', '.join(map(str, stale)) or 'nothing to write'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
