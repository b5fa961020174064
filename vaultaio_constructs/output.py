"""Turn a synthesized stack into ``dist/``: one folder per area, one file per object, a kustomization.

The layout mirrors the specification's ``manifests/`` tree: ``<area>/<kind>-<name>.yaml``. Objects of a
namespace other than the stack's main one go one level down, ``<area>/<namespace>/<kind>-<name>.yaml``
(the node agents and their policies), so a folder shows which namespace an object belongs to and names
that repeat per namespace (``default-deny-all``) never collide. The Namespaces live in ``setup/`` and are
listed first. Output is deterministic (objects in creation order, files sorted, no timestamps). Writing
goes to a temporary sibling folder that replaces ``dist/`` only when everything rendered, so a failed
synth never leaves a half-written ``dist/``; the new folder keeps the old one's mode.

The output folder (``dist/`` or ``$CDK8S_OUTDIR``) is replaced whole, so it must be empty, new, or hold only
what a synth writes (``kustomization.yaml`` and ``*.yaml`` files in the area folders): anything else, such as
a ``.git/`` or a README of a GitOps repository, stops the synth before it deletes a thing.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cdk8s
import yaml

from vaultaio_constructs.component import StackChart
from vaultaio_constructs.placement import Area
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


_STR = "tag:yaml.org,2002:str"

#: Tags of the plain scalars the emitter has asked about: ``(value, implicit) -> tag`` (the same questions
#: come back for every ``name``, ``app.kubernetes.io/...`` and port, in every object).
_RESOLVED: dict[tuple[str, tuple[bool, bool]], str] = {}
#: Longer scalars (and multi-line ones, the config texts) are resolved every time instead of kept alive here.
_RESOLVE_CACHE_MAX_CHARS = 256


class _Dumper(_BaseDumper):  # type: ignore[valid-type,misc]
    """Block style for multi-line strings, so configs in ConfigMaps stay readable in reviews.

    The objects are JSON data (``dict``, ``list``, ``str``, ``int``, ``bool``, ``None``): for these,
    :meth:`represent_data` builds the node PyYAML's ``SafeRepresenter`` builds (block style, keys in
    order, shared containers still as aliases) without its per-value dispatch, and :meth:`resolve`
    remembers its answers; any other value goes the generic way. Same text, a third of the time.
    """

    def represent_data(self, data: Any) -> yaml.Node:
        kind = type(data)
        if kind is str:
            self.alias_key = None  # as the generic path does: a string is never an anchor
            return _str_presenter(self, data)
        if (kind is dict or kind is list) and self.default_flow_style is False and not self.sort_keys:
            seen: yaml.Node | None = self.represented_objects.get(id(data))
            if seen is not None:
                return seen  # the same container twice: an alias, as the generic representer makes it
            node: yaml.MappingNode | yaml.SequenceNode
            if kind is dict:
                node = yaml.MappingNode("tag:yaml.org,2002:map", [], flow_style=False)
            else:
                node = yaml.SequenceNode("tag:yaml.org,2002:seq", [], flow_style=False)
            self.represented_objects[id(data)] = node
            self.object_keeper.append(data)
            if kind is dict:
                node.value.extend(
                    (self.represent_data(key), self.represent_data(value)) for key, value in data.items()
                )
            else:
                node.value.extend(self.represent_data(item) for item in data)
            return node
        generic: yaml.Node = super().represent_data(data)
        return generic

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]
        if len(value) > _RESOLVE_CACHE_MAX_CHARS or "\n" in value:  # config texts: asked once, not kept
            return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]
        key = (value, implicit)
        tag = _RESOLVED.get(key)
        if tag is None:
            tag = _RESOLVED[key] = super().resolve(kind, value, implicit)
        return tag


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data and not any(line != line.rstrip() for line in data.split("\n")):
        return dumper.represent_scalar(_STR, data, style="|")
    return dumper.represent_scalar(_STR, data)


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


def _expected_kind(obj: cdk8s.ApiObject) -> str:
    """The kind ``obj`` must render as, known without a jsii call.

    L1 classes carry it in their name (``KubeStatefulSet``); custom resources built on ``ApiObject``
    (:class:`~vaultaio_constructs.crd.CustomResource`) keep it in ``manifest_kind``.
    """
    kind = getattr(obj, "manifest_kind", None)
    if isinstance(kind, str):
        return kind
    return type(obj).__name__.removeprefix("Kube")


#: How cdk8s begins the error of failed construct validations (``App._synthChart``), one line each.
_CDK8S_VALIDATION_FAILED = "Validation failed with the following errors:"


def render(chart: StackChart) -> list[Manifest]:
    """Every object of the stack, validated, with its ``dist/`` folder.

    The chart is validated and resolved in one call (``Chart.to_json`` runs every construct's validations
    first, then resolves the objects in construct-tree order) and matched to the components' tracked
    objects, which are in the same order; each match is checked by kind. Fails when a construct
    validation fails (``ValueError`` naming each construct's path and message) or when an object was
    created without being tracked by a component (it would silently be missing from ``dist/``).
    """
    try:
        bodies = chart.to_json()
    except RuntimeError as err:  # what jsii raises for a JavaScript error
        message = str(err).removeprefix("Error: ")
        if not message.startswith(_CDK8S_VALIDATION_FAILED):
            raise
        raise ValueError(
            "stack validation failed:" + message.removeprefix(_CDK8S_VALIDATION_FAILED)
        ) from None
    # after to_json: its validations finish a chart not finished yet (the NetworkPolicies, the Namespaces)
    tracked = [(area, obj) for c in chart.components for area, obj in c.objects]
    if len(bodies) != len(tracked):
        raise RuntimeError(
            f"{len(bodies) - len(tracked)} object(s) were created without Component.track(): "
            "they would be missing from dist/"
        )
    manifests = []
    for (area, obj), body in zip(tracked, bodies, strict=True):
        expected_kind = _expected_kind(obj)
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


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")

#: The only file a synth writes at the top of the output folder.
KUSTOMIZATION_FILE = "kustomization.yaml"


def foreign_entries(outdir: Path) -> list[str]:
    """Paths in ``outdir`` (relative, sorted) that a synth does not write; empty when it may be replaced.

    A synth writes ``kustomization.yaml``, ``<area>/<kind>-<name>.yaml`` and, for objects of a namespace
    other than the main one, ``<area>/<namespace>/<kind>-<name>.yaml`` files, nothing else: a folder
    holding anything more (``.git/``, other files, deeper sub-folders, symlinks) is not a previous output.
    """
    if not outdir.exists() and not outdir.is_symlink():
        return []
    if not outdir.is_dir():
        return ["."]
    areas = {str(area) for area in Area}
    foreign: list[str] = []
    for entry in sorted(outdir.iterdir()):
        if entry.is_symlink():
            foreign.append(entry.name)
        elif entry.is_file():
            if entry.name != KUSTOMIZATION_FILE:
                foreign.append(entry.name)
        elif entry.is_dir() and entry.name in areas:
            for child in sorted(entry.iterdir()):
                if not child.is_symlink() and child.is_dir() and _DNS_LABEL.fullmatch(child.name):
                    # a namespace's objects (the node agents'): yaml files only, one level deep
                    foreign += [
                        f"{entry.name}/{child.name}/{leaf.name}"
                        for leaf in sorted(child.iterdir())
                        if leaf.is_symlink() or not leaf.is_file() or leaf.suffix != ".yaml"
                    ]
                elif child.is_symlink() or not child.is_file() or child.suffix != ".yaml":
                    foreign.append(f"{entry.name}/{child.name}")
        else:
            foreign.append(entry.name)
    return foreign


def check_outdir(outdir: Path) -> None:
    """Fail, naming what is in the way, unless ``outdir`` is new, empty or a previous synth's output."""
    foreign = foreign_entries(outdir)
    if not foreign:
        return
    if foreign == ["."]:
        raise ValueError(f"output folder {outdir} exists and is not a folder: set CDK8S_OUTDIR to a folder")
    shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
    raise ValueError(
        f"refusing to replace the output folder {outdir}: it holds what a synth does not write ({shown}). "
        f"A synth replaces the whole folder, so it writes only into a new or empty folder or a previous "
        f"output ({KUSTOMIZATION_FILE} and *.yaml files in {', '.join(sorted(str(a) for a in Area))}, or in "
        "a namespace's folder inside them): "
        "set CDK8S_OUTDIR to such a folder (e.g. a subfolder of your GitOps repository)"
    )


def _folder_mode(outdir: Path) -> int:
    """The mode the new output folder gets: the old folder's, else what the umask gives a new folder."""
    if outdir.is_dir():
        return outdir.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def write(manifests: Sequence[Manifest], outdir: str | os.PathLike[str]) -> list[Path]:
    """Replace ``outdir`` with the rendered files (via a temporary sibling folder); the files written.

    Refuses (``ValueError``, nothing changed) when ``outdir`` holds anything a synth does not write, see
    :func:`check_outdir`. The new folder keeps the mode of the folder it replaces.
    """
    outdir = Path(outdir).resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}-", dir=outdir.parent))
    try:
        written: list[Path] = []
        for m in manifests:
            file = tmp / m.path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(to_yaml(m.body), encoding="utf-8")
            written.append(outdir / m.path)
        (tmp / KUSTOMIZATION_FILE).write_text(to_yaml(kustomization(manifests)), encoding="utf-8")
        written.append(outdir / KUSTOMIZATION_FILE)
        check_outdir(outdir)  # right before the swap: settings errors and render errors come first
        tmp.chmod(_folder_mode(outdir))  # mkdtemp made it 0700
        if outdir.exists():
            # a fresh, unique name: nothing that happens to sit beside outdir is ever deleted
            old = Path(tempfile.mkdtemp(prefix=f".{outdir.name}-old-", dir=outdir.parent))
            outdir.rename(old)  # onto the empty folder mkdtemp made (POSIX rename replaces it)
            tmp.rename(outdir)
            shutil.rmtree(old)
        else:
            tmp.rename(outdir)
        return written
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def synth(props: VaultAioProps | None, outdir: str | os.PathLike[str]) -> list[Path]:
    """Build, validate and write the complete stack (``props``, default: the defaults) into ``outdir`` as
    ``make synth`` does: area folders, one file per object, a ``kustomization.yaml``. Nothing is written
    unless every step succeeds; returns the files written."""
    _, chart = build(props)
    return write(render(chart), outdir)
