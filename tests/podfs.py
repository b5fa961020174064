"""The files a container sees, laid out under a temporary root, so a validator checks a config with every file
it names present at the path the pod mounts it (``promtool check config`` without ``--syntax-only``).

ConfigMap volumes get their real content from the objects. Secret volumes get a placeholder line: the
manifests only reference Secrets, their values never appear in them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

Objects = Sequence[dict[str, Any]]


def _config_map(objects: Objects, name: str) -> dict[str, str]:
    (found,) = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == name]
    data: dict[str, str] = found.get("data", {})
    return data


def _volume_files(objects: Objects, volume: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(relative path, content)`` of every file a ConfigMap or Secret volume holds."""
    if "configMap" in volume:
        source = volume["configMap"]
        data = _config_map(objects, source["name"])
        items = source.get("items") or [{"key": key, "path": key} for key in data]
        for item in items:
            yield item["path"], data[item["key"]]
    elif "secret" in volume:
        source = volume["secret"]
        for item in source.get("items", []):
            yield item["path"], f"placeholder for key {item['key']} of Secret {source['secretName']}\n"


def container(pod_spec: dict[str, Any], name: str) -> dict[str, Any]:
    (spec,) = [c for c in pod_spec["containers"] if c["name"] == name]
    return spec


def materialize(objects: Objects, pod_spec: dict[str, Any], name: str, root: Path) -> list[str]:
    """Write the ConfigMap and Secret files container ``name`` mounts under ``root``; return their in-pod
    paths. Volume claims (data volumes) stay empty."""
    volumes = {volume["name"]: volume for volume in pod_spec.get("volumes", [])}
    written = []
    for mount in container(pod_spec, name).get("volumeMounts", []):
        if mount["name"] not in volumes:  # a volumeClaimTemplate: an empty data volume
            continue
        files = dict(_volume_files(objects, volumes[mount["name"]]))
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


def mount_paths(pod_spec: dict[str, Any], name: str) -> list[str]:
    """Every mount path of container ``name``."""
    return [mount["mountPath"] for mount in container(pod_spec, name).get("volumeMounts", [])]


def environment(workload: dict[str, Any], name: str) -> dict[str, str]:
    """The plain and pod-name variables of container ``name`` as its first pod sees them (Secret values
    become placeholders)."""
    pod_name = f"{workload['metadata']['name']}-0"
    env = {}
    for variable in container(workload["spec"]["template"]["spec"], name).get("env", []):
        if "value" in variable:
            env[variable["name"]] = variable["value"]
        elif variable.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name":
            env[variable["name"]] = pod_name
        else:
            env[variable["name"]] = "placeholder"
    return env


def files_named(document: Any) -> list[str]:
    """Every value of a ``*_file`` key anywhere in ``document``, and every path in a ``files`` list
    (Prometheus' ``http_headers``)."""
    if isinstance(document, dict):
        own = [v for k, v in document.items() if k.endswith("_file") and isinstance(v, str)]
        listed = document.get("files")
        if isinstance(listed, list):
            own += [v for v in listed if isinstance(v, str)]
        return own + [f for v in document.values() for f in files_named(v)]
    if isinstance(document, list):
        return [f for v in document for f in files_named(v)]
    return []
