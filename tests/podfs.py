"""The files a container sees, laid out under a temporary root, so a validator checks a config with every file
it names present at the path the pod mounts it (``promtool check config`` without ``--syntax-only``).

ConfigMap volumes get their real content from the manifests. Secret volumes get a placeholder line: the
manifests only reference Secrets, their values never appear in them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.stack import Manifests


def _volume_files(manifests: Manifests, volume: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(relative path, content)`` of every file a ConfigMap or Secret volume holds."""
    if "configMap" in volume:
        source = volume["configMap"]
        data = manifests.config_data(source["name"])
        items = source.get("items") or [{"key": key, "path": key} for key in data]
        for item in items:
            yield item["path"], data[item["key"]]
    elif "secret" in volume:
        source = volume["secret"]
        for item in source.get("items", []):
            yield item["path"], f"placeholder for key {item['key']} of Secret {source['secretName']}\n"


def materialize(manifests: Manifests, pod_spec: dict[str, Any], container: str, root: Path) -> list[str]:
    """Write the ConfigMap and Secret files ``container`` mounts under ``root``; return their in-pod paths."""
    volumes = {volume["name"]: volume for volume in pod_spec.get("volumes", [])}
    (spec,) = [c for c in pod_spec["containers"] if c["name"] == container]
    written = []
    for mount in spec.get("volumeMounts", []):
        if mount["name"] not in volumes:  # a volumeClaimTemplate: an empty data volume
            continue
        files = dict(_volume_files(manifests, volumes[mount["name"]]))
        if "subPath" in mount:
            files = {"": files[mount["subPath"]]} if mount["subPath"] in files else {}
        for relative, content in files.items():
            in_pod = f"{mount['mountPath']}/{relative}" if relative else mount["mountPath"]
            target = root / in_pod.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
            written.append(in_pod)
    return sorted(written)


def rebase(document: Any, root: Path, prefixes: list[str]) -> Any:
    """``document`` with every in-pod path under one of ``prefixes`` moved under ``root``."""
    if isinstance(document, dict):
        return {key: rebase(value, root, prefixes) for key, value in document.items()}
    if isinstance(document, list):
        return [rebase(value, root, prefixes) for value in document]
    if isinstance(document, str) and any(document.startswith(f"{p.rstrip('/')}/") for p in prefixes):
        return f"{root}{document}"
    return document


def mount_paths(pod_spec: dict[str, Any], container: str) -> list[str]:
    """Every mount path of ``container``."""
    (spec,) = [c for c in pod_spec["containers"] if c["name"] == container]
    return [mount["mountPath"] for mount in spec.get("volumeMounts", [])]
