"""Validate custom resources against the CRDs of the pinned upstream versions, and every object by its kind.

The CRDs (prometheus-operator v0.93.0, cert-manager v1.21.1) are unmodified upstream files in
``../shared/crds/`` beside the repository (see its README); they are read from there, never copied in. A
clone without that folder reads the same files from the two projects' Go modules at those versions in Go's
module cache, which ``make crds`` fills through the Go module proxy (``go mod download``).
Validation is strict like ``kubectl apply`` (server-side field validation ``Strict``): an object schema that
lists ``properties`` and neither allows additional properties nor preserves unknown fields refuses unknown
keys. ``metadata`` (only ``type: object`` in a CRD) is checked against ObjectMeta by kubernetes-validate,
and the CRD's scope decides whether ``metadata.namespace`` must be set. CEL rules
(``x-kubernetes-validations``) are not evaluated: the kinds the stack emits have none on the fields it sets.

``validate_object`` is what the schema tests call for every synthesized object: built-in kinds go to
kubernetes-validate, custom kinds to their CRD (kubernetes-validate has no schema for them and would raise
``SchemaNotFoundError``).
"""

from __future__ import annotations

import copy
import functools
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
#: ``../shared/crds`` relative to the repository root.
CRDS_DIR = REPO.parent / "shared" / "crds"
#: The same files in the upstream Go modules (group -> module, version, folder): where ``make crds`` puts
#: them when ``../shared/crds`` is absent. Keep in step with the Makefile's ``crds`` target.
CRD_MODULES: dict[str, tuple[str, str, str]] = {
    "monitoring.coreos.com": (
        "github.com/prometheus-operator/prometheus-operator",
        "v0.93.0",
        "example/prometheus-operator-crd",
    ),
    "cert-manager.io": ("github.com/cert-manager/cert-manager", "v1.21.1", "deploy/crds"),
}

#: API groups whose kinds are custom resources here (file names are ``<group>_<plural>.yaml``).
CUSTOM_GROUPS = tuple(CRD_MODULES)

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _module_crd_dirs() -> dict[str, Path] | None:
    """Each group's CRD folder in Go's module cache, or ``None`` unless every one is there."""
    try:
        result = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    cache = Path(result.stdout.strip())
    dirs = {
        group: cache / f"{module}@{version}" / folder
        for group, (module, version, folder) in CRD_MODULES.items()
    }
    return dirs if all(d.is_dir() for d in dirs.values()) else None


def crd_dir(group: str) -> Path:
    """The folder holding ``group``'s CRDs: ``../shared/crds``, else the Go module cache; or skip (fail
    under ``VAULTAIO_REQUIRE_TOOLS=1``) when neither has them."""
    if (CRDS_DIR / "README.md").is_file():
        return CRDS_DIR
    dirs = _module_crd_dirs()
    if dirs is not None:
        return dirs[group]
    reason = (
        f"CRD schemas not found at {CRDS_DIR} (the shared/ folder beside the repository) nor in Go's module "
        "cache: run `make crds`"
    )
    if os.environ.get("VAULTAIO_REQUIRE_TOOLS") == "1":
        pytest.fail(f"VAULTAIO_REQUIRE_TOOLS=1 but {reason}")
    pytest.skip(reason)


def is_custom(body: dict[str, Any]) -> bool:
    """Whether ``body`` is of a custom API group (validated against a CRD, not kubernetes-validate)."""
    group = str(body.get("apiVersion", "")).partition("/")[0]
    return group in CUSTOM_GROUPS


def _strict(schema: Any) -> Any:
    """A copy of ``schema`` where every object with ``properties`` refuses unknown keys."""
    if isinstance(schema, dict):
        out = {key: _strict(value) for key, value in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


@functools.cache
def crd(group: str, kind: str) -> dict[str, Any]:
    """The CustomResourceDefinition of ``kind`` in ``group`` (parsed once per session)."""
    plural = kind.lower() + ("es" if kind.lower().endswith("s") else "s")
    path = crd_dir(group) / f"{group}_{plural}.yaml"
    if not path.is_file():
        raise AssertionError(f"no CRD for {group}/{kind} in {path.parent} (looked for {path.name})")
    document: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    assert document["spec"]["names"]["kind"] == kind, path
    return document


@functools.cache
def _validator(api_version: str, kind: str) -> Any:
    import jsonschema

    group, _, version = api_version.partition("/")
    definition = crd(group, kind)
    versions = {v["name"]: v for v in definition["spec"]["versions"]}
    if version not in versions or not versions[version].get("served"):
        raise AssertionError(f"{kind} {api_version}: version {version!r} is not served by the CRD")
    schema = _strict(copy.deepcopy(versions[version]["schema"]["openAPIV3Schema"]))
    return jsonschema.Draft7Validator(schema)


def validate_custom_resource(body: dict[str, Any], k8s_version: str = "1.27") -> list[str]:
    """Problems of a custom resource against its CRD (empty when it is valid)."""
    import kubernetes_validate

    api_version, kind = body["apiVersion"], body["kind"]
    name = body.get("metadata", {}).get("name", "?")
    problems = [
        f"{kind} {name}: {'/'.join(map(str, err.absolute_path)) or '(root)'}: {err.message}"
        for err in sorted(_validator(api_version, kind).iter_errors(body), key=lambda e: list(e.path))
    ]
    namespaced = crd(api_version.partition("/")[0], kind)["spec"]["scope"] == "Namespaced"
    if namespaced != bool(body.get("metadata", {}).get("namespace")):
        problems.append(f"{kind} {name}: metadata.namespace must {'' if namespaced else 'not '}be set")
    meta_only = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": body.get("metadata", {})}
    try:
        kubernetes_validate.validate(meta_only, k8s_version, strict=True)
    except kubernetes_validate.ValidationError as err:
        problems.append(f"{kind} {name}: metadata: {err.message}")
    return problems


def validate_object(body: dict[str, Any], k8s_version: str) -> list[str]:
    """Problems of any synthesized object: built-in kinds strictly against Kubernetes ``k8s_version``,
    custom kinds against their CRD."""
    if is_custom(body):
        return validate_custom_resource(body, k8s_version)
    import kubernetes_validate

    try:
        kubernetes_validate.validate(body, k8s_version, strict=True)
    except kubernetes_validate.ValidationError as err:
        return [f"{body['kind']} {body['metadata']['name']}: {err.message} at {'/'.join(map(str, err.path))}"]
    return []
