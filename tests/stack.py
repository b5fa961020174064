"""Synthesize a stack in memory and look objects up by kind and name, for behaviour tests."""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from vaultaio_constructs.chart import VaultAioChart
from vaultaio_constructs.labels import NAME as NAME_LABEL
from vaultaio_constructs.output import Manifest, build, render, to_yaml
from vaultaio_constructs.settings import VaultAioProps, load_settings, parse_settings
from vaultaio_constructs.vault.config import SERVICE_REGISTRATION_LABELS

#: Labels a workload sets on its own pods while it runs (so never in the manifests), by workload: Vault's
#: Kubernetes service registration keeps ``vault-active``, ``vault-sealed``... current. Services may select
#: on them (``vault-active``, ``vault-standby``); tests/test_hardening.py proves the workload may patch them.
RUNTIME_POD_LABELS: dict[str, tuple[str, ...]] = {"vault": SERVICE_REGISTRATION_LABELS}


def selector_matches(selector: Mapping[str, str], workload: str, labels: Mapping[str, str]) -> bool:
    """Whether a Service ``selector`` can select pods of ``workload`` (template ``labels``): its static
    labels are on the template and every other key is one the workload sets at runtime."""
    runtime = RUNTIME_POD_LABELS.get(workload, ())
    static = {k: v for k, v in selector.items() if k not in runtime}
    return bool(selector) and static.items() <= labels.items()


def manifests_yaml(manifests: Sequence[Manifest]) -> str:
    """Objects as one YAML stream, each headed by its dist path: what snapshots record."""
    return "---\n".join(f"# {m.path}\n{to_yaml(m.body)}" for m in manifests)


class Manifests:
    """Look-ups over synthesized manifests (a whole stack, or a small stack around one component)."""

    manifests: list[Manifest]

    @property
    def objects(self) -> list[dict[str, Any]]:
        return [m.body for m in self.manifests]

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Every object of ``kind``."""
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        """The object of ``kind`` called ``name``; fails with the names that do exist."""
        found = [o for o in self.all(kind) if o["metadata"]["name"] == name]
        if len(found) != 1:
            names = sorted(o["metadata"]["name"] for o in self.all(kind))
            raise AssertionError(f"expected one {kind} named {name!r}, found {len(found)}; {kind}s: {names}")
        return found[0]

    def has(self, kind: str, name: str) -> bool:
        return any(o["metadata"]["name"] == name for o in self.all(kind))

    def of_component(self, name: str) -> list[Manifest]:
        """The manifests labelled ``app.kubernetes.io/name: <name>``."""
        return [m for m in self.manifests if m.body["metadata"]["labels"].get(NAME_LABEL) == name]

    def pod_templates(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """(workload, pod template) for every Deployment, StatefulSet, DaemonSet and Job/CronJob."""
        for o in self.objects:
            kind = o["kind"]
            if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
                yield o, o["spec"]["template"]
            elif kind == "CronJob":
                yield o, o["spec"]["jobTemplate"]["spec"]["template"]

    def config_data(self, name: str) -> Mapping[str, str]:
        """The ``data`` of ConfigMap ``name``."""
        data: Mapping[str, str] = self.get("ConfigMap", name).get("data", {})
        return data

    def yaml(self) -> str:
        """All objects as one YAML stream in dist order, for snapshots."""
        return manifests_yaml(self.manifests)


class Stack(Manifests):
    """A synthesized complete stack: the chart object (for wiring assertions) and its manifests."""

    def __init__(self, chart: VaultAioChart, manifests: list[Manifest]) -> None:
        self.chart = chart
        self.manifests = manifests


#: Stacks already synthesized in this test process, by the ``repr`` of their props (frozen dataclasses whose
#: ``repr`` names every field and value; props holding an object without such a ``repr`` never match).
_SYNTHESIZED: dict[str, tuple[VaultAioChart, list[Manifest]]] = {}


def synth_stack(props: VaultAioProps | Mapping[str, Any] | None = None) -> Stack:
    """Build and render a stack from props or a settings mapping, without writing files.

    The same props are synthesized once per test process (many tests check the same few stacks from
    different sides); each call gets its own copy of the manifests, so a test may edit what it got."""
    if isinstance(props, Mapping):
        props = parse_settings(props, "test settings")
    key = repr(props)
    done = _SYNTHESIZED.get(key)
    if done is None:
        _, chart = build(props)
        assert isinstance(chart, VaultAioChart)
        done = _SYNTHESIZED[key] = (chart, render(chart))
    chart, manifests = done
    return Stack(chart, copy.deepcopy(manifests))


#: Scenario settings files (``examples/settings/*.yaml``): supported deployment shapes, synthesized and
#: validated like the default stack.
SCENARIOS_DIR = Path(__file__).resolve().parent.parent / "examples" / "settings"


def scenario_settings(name: str) -> dict[str, Any]:
    """The settings of scenario ``name`` (``examples/settings/<name>.yaml``) as a mapping."""
    data: dict[str, Any] = yaml.safe_load((SCENARIOS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    return data


#: Scenarios that spell out the defaults (tests/test_scenarios.py proves they synthesize byte for byte what
#: the default does): every gate that checks the default covers them, none runs them a second time.
SAME_AS_DEFAULT = frozenset({"full"})


def scenario_names() -> list[str]:
    """Every scenario file's name, sorted."""
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.yaml"))


@functools.cache
def scenario_stack(name: str) -> Stack:
    """The stack of scenario ``name``, loaded through the real settings loader, synthesized once per
    session (the hardening, schema, address and connectivity tests all read it)."""
    return synth_stack(load_settings(SCENARIOS_DIR / f"{name}.yaml"))
