"""Turn a synthesized stack into ``dist/``: one folder per area, one file per object, a kustomization.

The layout mirrors the specification's ``manifests/`` tree: ``<area>/<kind>-<name>.yaml``. Objects of a
namespace other than the stack's main one go one level down, ``<area>/<namespace>/<kind>-<name>.yaml``
(the node agents and their policies), so a folder shows which namespace an object belongs to and names
that repeat per namespace (``default-deny-all``) never collide. The Namespaces live in ``setup/`` and are
listed first. Output is deterministic (objects in creation order, files sorted, no timestamps). Writing
goes to a temporary sibling folder that replaces ``dist/`` only when everything rendered, so a failed
synth never leaves a half-written ``dist/``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cdk8s
import yaml

from vaultaio_constructs.component import Area, StackChart
from vaultaio_constructs.settings import VaultAioProps

#: Order of folders in the kustomization (Namespace first).
AREA_ORDER: tuple[Area, ...] = (
    Area.SETUP,
    Area.VAULT,
    Area.MONITORING,
    Area.LOGGING,
    Area.TRACING,
    Area.NTP,
    Area.DASHBOARDS,
    Area.NETWORK_POLICIES,
)


@dataclass(frozen=True)
class Manifest:
    """One synthesized object and where it goes in ``dist/``."""

    area: Area
    body: dict[str, Any]
    #: The stack's main namespace: objects of any other namespace go to a subfolder named after theirs.
    main_namespace: str = ""

    @property
    def kind(self) -> str:
        return str(self.body["kind"])

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def namespace(self) -> str | None:
        namespace = self.body["metadata"].get("namespace")
        return str(namespace) if namespace else None

    @property
    def path(self) -> str:
        folder = str(self.area)
        if self.namespace and self.main_namespace and self.namespace != self.main_namespace:
            folder = f"{folder}/{self.namespace}"
        return f"{folder}/{self.kind.lower()}-{self.name}.yaml"


_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when available


class _Dumper(_BaseDumper):  # type: ignore[valid-type,misc]
    """Block style for multi-line strings, so configs in ConfigMaps stay readable in reviews."""


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data and not any(line != line.rstrip() for line in data.split("\n")):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_presenter)


def to_yaml(body: Any) -> str:
    return yaml.dump(
        body, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120, allow_unicode=True
    )


def build(props: VaultAioProps | None = None) -> tuple[cdk8s.App, StackChart]:
    """Build the default stack (or ``props``) in a fresh App without writing anything."""
    from vaultaio_constructs.chart import VaultAioChart

    app = cdk8s.App()
    chart = VaultAioChart(app, "vault-aio", props)
    return app, chart


def render(chart: StackChart) -> list[Manifest]:
    """Every object of the stack, validated, with its ``dist/`` folder.

    The chart is resolved in one call (``Chart.to_json``, construct-tree order) and matched to the
    components' tracked objects, which are in the same order; each match is checked by kind. Fails
    when a construct validation fails or when an object was created without being tracked by a
    component (it would silently be missing from ``dist/``).
    """
    errors = chart.node.validate()
    if errors:
        raise ValueError("stack validation failed:\n" + "\n".join(f"  {e}" for e in errors))
    tracked = [(area, obj) for c in chart.components for area, obj in c.objects]
    bodies = chart.to_json()
    if len(bodies) != len(tracked):
        raise RuntimeError(
            f"{len(bodies) - len(tracked)} object(s) were created without Component.track(): "
            "they would be missing from dist/"
        )
    manifests = []
    for (area, obj), body in zip(tracked, bodies, strict=True):
        expected_kind = type(obj).__name__.removeprefix("Kube")
        if body["kind"] != expected_kind:
            raise RuntimeError(
                f"object order mismatch: expected a {expected_kind}, got {body['kind']} "
                f"{body['metadata'].get('name')}: create objects directly under their component"
            )
        manifests.append(Manifest(area, body, chart.stack_namespace))
    paths = [m.path for m in manifests]
    dupes = sorted({p for p in paths if paths.count(p) > 1})
    if dupes:
        raise ValueError(f"two objects would be written to the same file: {dupes}")
    return manifests


def kustomization(manifests: Sequence[Manifest]) -> dict[str, Any]:
    order = {a: i for i, a in enumerate(AREA_ORDER)}
    resources = sorted((m.path for m in manifests), key=lambda p: (order[Area(p.split("/")[0])], p))
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    }


def write(manifests: Sequence[Manifest], outdir: Path) -> list[Path]:
    """Replace ``outdir`` with the rendered files (via a temporary sibling folder)."""
    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}-", dir=outdir.parent))
    try:
        written: list[Path] = []
        for m in manifests:
            file = tmp / m.path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(to_yaml(m.body), encoding="utf-8")
            written.append(outdir / m.path)
        (tmp / "kustomization.yaml").write_text(to_yaml(kustomization(manifests)), encoding="utf-8")
        written.append(outdir / "kustomization.yaml")
        old = outdir.with_name(f".{outdir.name}-old")
        if old.exists():
            shutil.rmtree(old)
        if outdir.exists():
            outdir.rename(old)
        tmp.rename(outdir)
        if old.exists():
            shutil.rmtree(old)
        return written
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def synth(props: VaultAioProps | None, outdir: Path) -> list[Path]:
    """Build, validate and write the stack; nothing is written unless every step succeeds."""
    _, chart = build(props)
    return write(render(chart), outdir)
