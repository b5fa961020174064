"""What should exist: the synthesized ``dist/`` read back as plain objects.

Everything ``vault-aio verify`` expects comes from here, never from constants: namespaces are each object's
own ``metadata.namespace``, components are the workloads' ``app.kubernetes.io/name`` labels, ports are the
containers' and Services' ports, thresholds and the RUNBOOK base URL come from the rendered alert rules.
A component that is not in ``dist/`` (disabled, external, or replaced by an operator) is simply absent, and
the checks that need it are skipped with a reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: The label that names a component (``vault``, ``prometheus``, ...); the contract of ``labels.py``.
NAME_LABEL = "app.kubernetes.io/name"
WORKLOAD_KINDS = ("StatefulSet", "DaemonSet", "Deployment")
#: Where the RUNBOOK is when no alert rule in dist/ names it (the repository's copy; no ``alerts`` import: it
#: pulls in pydantic and costs 200 ms).
FALLBACK_RUNBOOK = "docs/RUNBOOK.md"


#: libyaml's loader when PyYAML was built with it (dist/ parses ~20 times faster).
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ManifestError(Exception):
    """``dist/`` is missing or not what ``make synth`` writes."""


@dataclass(frozen=True)
class ContainerPort:
    name: str | None
    number: int
    protocol: str


@dataclass(frozen=True)
class Workload:
    """A StatefulSet, DaemonSet or Deployment of the stack."""

    obj: Mapping[str, Any]

    @property
    def kind(self) -> str:
        return str(self.obj["kind"])

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.obj["metadata"]["namespace"])

    @property
    def component(self) -> str:
        return str(self.template["metadata"].get("labels", {}).get(NAME_LABEL, self.name))

    @property
    def ref(self) -> str:
        """``namespace/kind/name`` as the report prints it."""
        return f"{self.namespace}/{self.kind.lower()}/{self.name}"

    @property
    def template(self) -> Mapping[str, Any]:
        template: Mapping[str, Any] = self.obj["spec"]["template"]
        return template

    @property
    def replicas(self) -> int | None:
        """Desired pods; ``None`` for a DaemonSet (one per eligible node)."""
        if self.kind == "DaemonSet":
            return None
        return int(self.obj["spec"].get("replicas", 1))

    @property
    def selector(self) -> str:
        """The label selector of its pods, for ``kubectl get pods -l``."""
        labels = self.obj["spec"]["selector"]["matchLabels"]
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    def containers(self) -> list[Mapping[str, Any]]:
        containers: list[Mapping[str, Any]] = self.template["spec"]["containers"]
        return containers

    def container(self, name: str | None = None) -> Mapping[str, Any]:
        """The container called ``name`` (default: the one named after the component, else the first)."""
        wanted = name or self.component
        for c in self.containers():
            if c["name"] == wanted:
                return c
        if name is not None:
            raise KeyError(f"{self.ref} has no container {name!r}")
        return self.containers()[0]

    def image(self, container: str | None = None) -> str:
        return str(self.container(container)["image"])

    def ports(self) -> list[ContainerPort]:
        return [
            ContainerPort(p.get("name"), int(p["containerPort"]), p.get("protocol", "TCP"))
            for c in self.containers()
            for p in c.get("ports", [])
        ]

    def port(self, name: str) -> int | None:
        for p in self.ports():
            if p.name == name:
                return p.number
        return None

    def claim_names(self) -> list[str]:
        """The PVCs a StatefulSet's claim templates create: ``<template>-<statefulset>-<ordinal>``."""
        if self.kind != "StatefulSet":
            return []
        templates = self.obj["spec"].get("volumeClaimTemplates") or []
        return [
            f"{t['metadata']['name']}-{self.name}-{i}" for t in templates for i in range(self.replicas or 0)
        ]

    def volume_config_maps(self) -> list[str]:
        """Names of the ConfigMaps its pods mount (plain and projected volumes)."""
        names = []
        for v in self.template["spec"].get("volumes") or []:
            if "configMap" in v:
                names.append(v["configMap"]["name"])
            for src in (v.get("projected") or {}).get("sources") or []:
                if "configMap" in src:
                    names.append(src["configMap"]["name"])
        return names


@dataclass(frozen=True)
class ServicePort:
    """A Service port: how a client in the cluster addresses a workload's container port."""

    service: str
    namespace: str
    port: int
    target: int
    name: str | None
    #: A headless Service (``clusterIP: None``) resolves to the pods themselves.
    headless: bool = False

    @property
    def host(self) -> str:
        return f"{self.service}.{self.namespace}.svc"


class Manifests:
    """The objects of one ``dist/`` (or of a synthesized settings file)."""

    def __init__(self, objects: Iterable[Mapping[str, Any]], source: str = "dist/") -> None:
        self.objects: list[Mapping[str, Any]] = [o for o in objects if o]
        self.source = source

    @classmethod
    def load(cls, dist: Path) -> Manifests:
        """Read ``dist/`` in the order of its ``kustomization.yaml``."""
        kustomization = dist / "kustomization.yaml"
        if not kustomization.is_file():
            raise ManifestError(f"{dist} has no kustomization.yaml: run 'make synth' or pass --dist DIR")
        resources = (yaml.load(kustomization.read_text(), Loader=LOADER) or {}).get("resources") or []
        objects: list[Mapping[str, Any]] = []
        for rel in resources:
            path = dist / rel
            if not path.is_file():
                raise ManifestError(f"{kustomization} lists {rel}, which does not exist: run 'make synth'")
            objects.extend(d for d in yaml.load_all(path.read_text(), Loader=LOADER) if d)
        if not objects:
            raise ManifestError(f"{dist} holds no objects")
        return cls(objects, source=str(dist))

    # ---- lookups ---------------------------------------------------------------------------------------

    def of_kind(self, kind: str) -> Iterator[Mapping[str, Any]]:
        return (o for o in self.objects if o["kind"] == kind)

    def get(self, kind: str, namespace: str | None, name: str) -> Mapping[str, Any] | None:
        for o in self.of_kind(kind):
            if o["metadata"]["name"] == name and o["metadata"].get("namespace") == namespace:
                return o
        return None

    @property
    def namespaces(self) -> list[str]:
        """Every namespace the stack's objects live in (its Namespace objects' and the objects' own)."""
        found = {o["metadata"]["name"] for o in self.of_kind("Namespace")}
        found |= {o["metadata"]["namespace"] for o in self.objects if o["metadata"].get("namespace")}
        return sorted(found)

    def workloads(self) -> list[Workload]:
        return [Workload(o) for o in self.objects if o["kind"] in WORKLOAD_KINDS]

    def component(self, name: str) -> Workload | None:
        """The workload of component ``name`` (its pods' ``app.kubernetes.io/name``), if it is deployed."""
        for w in self.workloads():
            if w.component == name:
                return w
        return None

    def config_map(self, namespace: str, name: str) -> Mapping[str, str]:
        cm = self.get("ConfigMap", namespace, name)
        data: Mapping[str, str] = (cm or {}).get("data") or {}
        return data

    def config_maps_of(self, workload: Workload) -> dict[str, str]:
        """Every file of every ConfigMap the workload mounts, by key."""
        files: dict[str, str] = {}
        for name in workload.volume_config_maps():
            files.update(self.config_map(workload.namespace, name))
        return files

    def service_ports(self, workload: Workload) -> list[ServicePort]:
        """The Service ports that select the workload's pods, ClusterIP Services before headless ones."""
        labels = workload.template["metadata"].get("labels", {})
        by_name = {p.name: p.number for p in workload.ports()}
        found = []
        services = sorted(self.of_kind("Service"), key=lambda s: s["spec"].get("clusterIP") == "None")
        for svc in services:
            if svc["metadata"].get("namespace") != workload.namespace:
                continue
            selector = svc["spec"].get("selector") or {}
            if not selector or any(labels.get(k) != v for k, v in selector.items()):
                continue
            for p in svc["spec"].get("ports") or []:
                target = p.get("targetPort", p["port"])
                number = by_name.get(target) if isinstance(target, str) else int(target)
                if number is None:
                    continue
                found.append(
                    ServicePort(
                        svc["metadata"]["name"],
                        workload.namespace,
                        int(p["port"]),
                        number,
                        p.get("name"),
                        headless=svc["spec"].get("clusterIP") == "None",
                    )
                )
        return found

    def service_port(self, workload: Workload, container_port: int) -> ServicePort | None:
        for sp in self.service_ports(workload):
            if sp.target == container_port:
                return sp
        return None

    # ---- values rendered into configs --------------------------------------------------------------------

    def rule_documents(self) -> Iterator[Mapping[str, Any]]:
        """Every alert rule group document: rule files in ConfigMaps and PrometheusRule objects."""
        for cm in self.of_kind("ConfigMap"):
            for text in (cm.get("data") or {}).values():
                if "groups:" not in text or "alert:" not in text:
                    continue
                try:
                    doc = yaml.load(text, Loader=LOADER)
                except yaml.YAMLError:
                    continue
                if isinstance(doc, dict) and isinstance(doc.get("groups"), list):
                    yield doc
        for pr in self.of_kind("PrometheusRule"):
            yield pr.get("spec") or {}

    def alert_rules(self) -> dict[str, Mapping[str, Any]]:
        rules: dict[str, Mapping[str, Any]] = {}
        for doc in self.rule_documents():
            for group in doc.get("groups") or []:
                for rule in group.get("rules") or []:
                    if "alert" in rule:
                        rules.setdefault(rule["alert"], rule)
        return rules

    def alert_threshold(self, alert: str, default: float) -> tuple[float, str]:
        """The number an alert compares with (``... > 0.05``), and where it came from."""
        rule = self.alert_rules().get(alert)
        if rule:
            match = re.search(r"[<>]=?\s*(-?[0-9.]+(?:e-?[0-9]+)?)\s*$", str(rule["expr"]).strip())
            if match:
                return float(match.group(1)), f"alert {alert}"
        return default, "default"

    def runbook_base(self) -> str:
        """The RUNBOOK URL the alert rules link to (settings ``alerts.runbook_base_url``)."""
        for rule in self.alert_rules().values():
            url = str((rule.get("annotations") or {}).get("runbook_url", ""))
            if "#" in url:
                return url.split("#", 1)[0]
        return FALLBACK_RUNBOOK

    def vault_config(self, vault: Workload) -> Mapping[str, Any]:
        """Vault's server configuration (the JSON file its ``-config=`` names)."""
        for key, text in self.config_maps_of(vault).items():
            if key.endswith(".json"):
                try:
                    config: Mapping[str, Any] = json.loads(text)
                except ValueError:
                    continue
                if "listener" in config:
                    return config
        return {}
