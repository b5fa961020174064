"""Snapshots a reviewer can read: one per Kubernetes object, and failures that say which object changed.

Reviewers read the whole default stack in ``dist/`` (one file per object; ``tests/test_dist.py`` fails when
it is stale, listing the changed objects with a diff). Syrupy snapshots cover what ``dist/`` does not show:
each component alone in a small stack (:func:`assert_objects_match`) and variants, stored as what they
change against their base (:func:`assert_variant_matches`), so a change to the default output appears once
in ``dist/`` and in a variant's snapshot only when it changes what the variant does differently.

Every object is its own snapshot, named ``Kind/name`` (``Kind/namespace/name`` outside the stack's main
namespace), and a mismatch does not stop at the first object: the test fails once, naming every object
that is new or changed and showing a unified YAML diff at the default verbosity. Objects that are gone
leave unused snapshots, which syrupy reports. Update with ``pytest --snapshot-update`` and review the diff.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from vaultaio_constructs.labels import NAME as NAME_LABEL

if TYPE_CHECKING:  # the helpers that compare texts need no jsii (tests/test_snapshots.py runs them alone)
    from syrupy.assertion import SnapshotAssertion

    from vaultaio_constructs.output import Manifest


def to_yaml(body: Any) -> str:
    """An object as ``dist/`` writes it."""
    from vaultaio_constructs.output import to_yaml as dist_yaml

    return dist_yaml(body)


#: Lines of diff shown per object before the rest is summarised.
MAX_DIFF_LINES = 80
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@")


def object_key(manifest: Manifest) -> str:
    """``Kind/name``, or ``Kind/namespace/name`` for an object outside the stack's main namespace."""
    namespace = manifest.namespace
    if namespace and manifest.main_namespace and namespace != manifest.main_namespace:
        return f"{manifest.kind}/{namespace}/{manifest.name}"
    return f"{manifest.kind}/{manifest.name}"


def _serialized_lines(serialized: Any) -> list[str]:
    """The text of a snapshot from syrupy's serialized form of a multi-line string (between ``'''`` lines)."""
    lines = str(serialized).split("\n")
    if len(lines) >= 2 and lines[0].strip() == "'''" and lines[-1].strip() == "'''":
        lines = lines[1:-1]
    while lines and not lines[-1].strip():
        lines.pop()  # the text's final newline
    return lines


def diff_lines(old: Sequence[str], new: Sequence[str], *, old_label: str, new_label: str) -> list[str]:
    """A unified diff, cut to :data:`MAX_DIFF_LINES`."""
    lines = list(difflib.unified_diff(old, new, fromfile=old_label, tofile=new_label, lineterm="", n=3))
    if len(lines) > MAX_DIFF_LINES:
        hidden = len(lines) - MAX_DIFF_LINES
        lines = [
            *lines[:MAX_DIFF_LINES],
            f"... {hidden} more diff lines (pytest --snapshot-update, then git diff)",
        ]
    return lines


def changes_report(changes: Sequence[tuple[str, list[str] | None, list[str]]], *, what: str) -> str:
    """The failure message: every new or changed object by name, then each one's diff."""
    new = [key for key, old, _ in changes if old is None]
    changed = [key for key, old, _ in changes if old is not None]
    lines = [f"{len(changes)} object(s) of {what} differ from their snapshots:"]
    lines += [f"  changed: {key}" for key in changed]
    lines += [f"  new (no snapshot yet): {key}" for key in new]
    lines.append(
        "If the change is intended: pytest --snapshot-update <this test>, and review the snapshot diff."
    )
    for key, old, now in changes:
        lines += ["", *diff_lines(old or [], now, old_label=f"{key} (snapshot)", new_label=f"{key} (now)")]
    return "\n".join(lines)


def assert_texts_match(snapshot: SnapshotAssertion, items: Iterable[tuple[str, str]], *, what: str) -> None:
    """One snapshot per ``(name, text)``; fails once, naming every mismatch with its diff."""
    changes: list[tuple[str, list[str] | None, list[str]]] = []
    seen: set[str] = set()
    for key, text in items:
        assert key not in seen, f"two snapshots named {key!r}"
        seen.add(key)
        if snapshot(name=key) == text:
            continue
        result = snapshot.executions[snapshot.num_executions - 1]
        old = None if result.recalled_data is None else _serialized_lines(result.recalled_data)
        changes.append((key, old, _serialized_lines(result.asserted_data)))  # both in syrupy's form
    if changes:
        pytest.fail(changes_report(changes, what=what), pytrace=False)


def own_objects(manifests: Sequence[Manifest], component: str) -> list[Manifest]:
    """The objects of ``component`` (labelled with its name) and its NetworkPolicies (``allow-<name>-...``):
    what a snapshot of it alone shows, without the other components of its small stack."""
    return [
        m
        for m in manifests
        if m.body["metadata"].get("labels", {}).get(NAME_LABEL) == component
        or (m.kind == "NetworkPolicy" and m.name.startswith(f"allow-{component}-"))
    ]


def assert_objects_match(
    snapshot: SnapshotAssertion,
    manifests: Sequence[Manifest],
    *,
    what: str,
    transform: Mapping[str, Any] | None = None,
) -> None:
    """Each object as its own YAML snapshot (``transform``: replacement bodies by key, e.g. digests)."""
    transform = transform or {}
    items = [(object_key(m), to_yaml(transform.get(object_key(m), m.body))) for m in manifests]
    assert_texts_match(snapshot, items, what=what)


def _without_line_numbers(lines: Iterable[str]) -> list[str]:
    """Hunk headers without line numbers: a change above a variant's difference must not move it."""
    return [_HUNK.sub("@@", line) for line in lines]


def variant_changes(base: Sequence[Manifest], variant: Sequence[Manifest]) -> list[tuple[str, str]]:
    """``(key, text)`` for each object the variant adds, removes or changes against ``base``: the unified
    diff of the object's YAML (an added object is all ``+`` lines), in the variant's order."""
    before = {object_key(m): to_yaml(m.body).splitlines() for m in base}
    after = {object_key(m): to_yaml(m.body).splitlines() for m in variant}
    items = []
    for key, lines in after.items():
        old = before.get(key, [])
        if old == lines:
            continue
        diff = list(difflib.unified_diff(old, lines, lineterm="", n=2))[2:]
        items.append((key, "\n".join(_without_line_numbers(diff))))
    items += [(key, "(removed)") for key in before if key not in after]
    return items


def assert_variant_matches(
    snapshot: SnapshotAssertion, base: Sequence[Manifest], variant: Sequence[Manifest], *, what: str
) -> None:
    """Snapshot what ``variant`` changes against ``base``, one snapshot per object it differs in."""
    items = variant_changes(base, variant)
    assert items, f"{what} is identical to its base: it tests nothing a snapshot could show"
    assert_texts_match(snapshot, items, what=f"{what} (stored as its diff against the base)")


def tree_report(committed: Mapping[str, str], fresh: Mapping[str, str], *, folder: str) -> str | None:
    """What differs between two synthesized folders (relative path -> text), by object, with diffs;
    ``None`` when they are equal."""

    def label(path: str, text: str) -> str:
        try:
            body = yaml.safe_load(text)
            return f"{body['kind']}/{body['metadata']['name']} ({path})"
        except Exception:  # not an object (kustomization.yaml) or not YAML: the path says enough
            return path

    folder = folder.rstrip("/")
    changed = sorted(p for p in fresh if p in committed and fresh[p] != committed[p])
    new = sorted(p for p in fresh if p not in committed)
    gone = sorted(p for p in committed if p not in fresh)
    if not (changed or new or gone):
        return None
    lines = [f"{folder}/ is stale: run `make synth` and commit {folder}/. Objects that differ:"]
    lines += [f"  changed: {label(p, fresh[p])}" for p in changed]
    lines += [f"  new: {label(p, fresh[p])}" for p in new]
    lines += [f"  no longer written: {label(p, committed[p])}" for p in gone]
    for path in [*changed, *new, *gone]:
        old, now = committed.get(path, ""), fresh.get(path, "")
        diff = diff_lines(
            old.splitlines(), now.splitlines(), old_label=f"{folder}/{path}", new_label="fresh synth"
        )
        lines += ["", *diff]
    return "\n".join(lines)
