"""Field-level differences between the cluster and ``dist/``: the ``KUBECTL_EXTERNAL_DIFF`` program of the
``objects`` check.

``kubectl diff -k dist/`` asks the API server for a dry-run apply of every object and writes, per object, the
live version into one directory and the would-be version (``dist/`` merged into live, defaults filled in by
the server) into another, files named ``<group>.<version>.<Kind>.<namespace>.<name>``; then it runs the diff
program on the two directories. This program compares the two documents of each object as data and prints
one JSON line per object that differs::

    {"object": "apps/v1 StatefulSet vault-aio/vault", "missing": false,
     "fields": [{"path": "spec.replicas", "live": "3", "dist": "1"}]}

Exit status 0: no difference; 1: differences (kubectl passes both on). Secrets are masked by kubectl before
they get here, and values are shortened: a field's value is evidence, not a copy of the object.

Run as ``python -m vaultaio_constructs.verify.drift LIVE_DIR MERGED_DIR``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

#: Fields that change on every apply or that the cluster owns: never drift.
IGNORED = (
    ("metadata", "generation"),
    ("metadata", "resourceVersion"),
    ("metadata", "managedFields"),
    ("metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"),
    ("metadata", "annotations", "deployment.kubernetes.io/revision"),
    ("status",),
)
_MISSING = object()


def _load(path: Path) -> Any:
    if not path.is_file():
        return None
    text = path.read_text()
    if not text.strip():
        return None
    if text.lstrip().startswith("{"):
        return json.loads(text)
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _ignored(path: tuple[str, ...]) -> bool:
    return any(path[: len(p)] == p for p in IGNORED)


def _show(value: Any) -> str:
    if value is _MISSING:
        return "(absent)"
    if isinstance(value, str):
        if "\n" in value.strip():
            return f"({value.count(chr(10)) + 1} lines)"
        text = value
    else:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= 80 else text[:77] + "..."


def _key(item: Any) -> str | None:
    if isinstance(item, Mapping):
        for k in ("name", "mountPath", "containerPort", "key", "type"):
            if k in item:
                return f"{k}={item[k]}" if k != "name" else str(item[k])
    return None


def differences(live: Any, desired: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any, Any]]:
    """(dotted path, live value, desired value) of every leaf where the two documents differ."""
    if _ignored(path):
        return
    if isinstance(live, Mapping) and isinstance(desired, Mapping):
        for k in sorted(set(live) | set(desired), key=str):
            yield from differences(live.get(k, _MISSING), desired.get(k, _MISSING), (*path, str(k)))
        return
    if isinstance(live, list) and isinstance(desired, list) and live != desired:
        live_keys = [_key(i) for i in live]
        desired_keys = [_key(i) for i in desired]
        if None not in live_keys and None not in desired_keys and len(set(desired_keys)) == len(desired_keys):
            by_key = dict(zip(live_keys, live, strict=True))
            for k, item in zip(desired_keys, desired, strict=True):
                yield from differences(by_key.pop(k, _MISSING), item, (*path, f"[{k}]"))
            for k, item in by_key.items():
                yield from differences(item, _MISSING, (*path, f"[{k}]"))
            return
        if len(live) == len(desired):
            for i, (a, b) in enumerate(zip(live, desired, strict=True)):
                yield from differences(a, b, (*path, f"[{i}]"))
            return
    if live != desired:
        yield _dotted(path), live, desired


def _dotted(path: tuple[str, ...]) -> str:
    out = ""
    for part in path:
        out += part if part.startswith("[") or not out else "." + part
    return out


def describe(doc: Mapping[str, Any], file_name: str) -> str:
    if not doc:
        return file_name
    meta = doc.get("metadata") or {}
    where = f"{meta['namespace']}/{meta.get('name')}" if meta.get("namespace") else str(meta.get("name"))
    return f"{doc.get('apiVersion')} {doc.get('kind')} {where}"


def compare(live_dir: Path, merged_dir: Path) -> list[dict[str, Any]]:
    drifted = []
    names = sorted({p.name for p in live_dir.iterdir()} | {p.name for p in merged_dir.iterdir()})
    for name in names:
        live, merged = _load(live_dir / name), _load(merged_dir / name)
        if live == merged:
            continue
        entry: dict[str, Any] = {"object": describe(merged or live or {}, name), "missing": live is None}
        if live is not None and merged is not None:
            fields = [
                {"path": p, "live": _show(a), "dist": _show(b)} for p, a, b in differences(live, merged)
            ]
            if not fields:
                continue
            entry["fields"] = fields
        else:
            entry["fields"] = []
        drifted.append(entry)
    return drifted


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: drift LIVE_DIR MERGED_DIR", file=sys.stderr)
        return 2
    drifted = compare(Path(argv[-2]), Path(argv[-1]))
    for entry in drifted:
        print(json.dumps(entry, sort_keys=True))
    return 1 if drifted else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
