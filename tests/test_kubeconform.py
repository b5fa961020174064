"""The committed dist/ files, read as YAML text, validate strictly with kubeconform against the Kubernetes
schemas kubernetes-validate ships (the versions of ``test_schemas.py``: the oldest the default stack targets
and the newest), offline.

Beyond ``test_schemas.py`` (the same schemas, applied to parsed objects by Python's jsonschema), this reads
the files a user applies: a duplicated YAML key, which a YAML loader silently resolves, fails here.

kubernetes-validate's schemas point at their shared definitions with ``/api/_definitions.json`` and declare
the 2020-12 meta-schema, which kubeconform would download; a session copy makes the reference relative
and drops ``$schema``, so kubeconform reads them as draft 4, as it reads its own schema collection.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.stack import Stack
from tests.test_schemas import VERSIONS, _schema
from tests.tools import require_tool

DIST = Path(__file__).resolve().parents[1] / "dist"
SCHEMAS = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
#: kubeconform's path template for kubernetes-validate's layout (``v1.27.0-local-strict/service-v1.json``)
TEMPLATE = (
    "{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
)


def _full(version: str) -> str:
    return version if version.count(".") == 2 else f"{version}.0"


@pytest.fixture(scope="session")
def versions(stack: Stack) -> dict[str, str]:
    """``oldest``/``newest`` -> the Kubernetes version whose schemas apply to dist/ (the default stack)."""
    return {which: _full(_schema(stack, which)) for which in VERSIONS}


@pytest.fixture(scope="session")
def schema_root(tmp_path_factory: pytest.TempPathFactory, versions: dict[str, str]) -> Path:
    root = tmp_path_factory.mktemp("kubeconform-schemas")
    for version in sorted(set(versions.values())):
        name = f"v{version}-local-strict"
        (root / name).mkdir()
        for source in (SCHEMAS / name).glob("*.json"):
            schema = json.loads(source.read_text())
            schema.pop("$schema", None)
            text = json.dumps(schema).replace('"/api/_definitions.json#', '"_definitions.json#')
            assert '"$ref": "http' not in text, f"{source} refers to a remote schema"
            (root / name / source.name).write_text(text)
    return root


@cache
def _offline_prefix() -> tuple[str, ...]:
    """``unshare`` into an empty network namespace where allowed: the check must never reach the network."""
    unshare = shutil.which("unshare")
    if unshare:
        for flags in (("-n",), ("-rn",)):
            if subprocess.run([unshare, *flags, "true"], capture_output=True, check=False).returncode == 0:
                return (unshare, *flags)
    return ()


def _kubeconform(schema_root: Path, version: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    kubeconform = require_tool("kubeconform")
    command = [
        kubeconform,
        "-strict",
        "-summary",
        "-skip=Kustomization",
        f"-kubernetes-version={_full(version)}",
        f"-schema-location={schema_root}/{TEMPLATE}",
        *map(str, paths),
    ]
    return subprocess.run(
        [*_offline_prefix(), *command], capture_output=True, text=True, check=False, timeout=120
    )


@pytest.mark.parametrize("which", VERSIONS)
def test_dist_files_pass_kubeconform(schema_root: Path, versions: dict[str, str], which: str) -> None:
    files = sorted(DIST.rglob("*.yaml"))
    resources = [doc for path in files for doc in yaml.load_all(path.read_text(), yaml.CSafeLoader) if doc]
    kinds = [doc["kind"] for doc in resources]
    assert kinds.count("Kustomization") == 1 and len(kinds) > 50
    result = _kubeconform(schema_root, versions[which], DIST)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = f"Valid: {len(kinds) - 1}, Invalid: 0, Errors: 0, Skipped: 1"
    assert summary in result.stdout, result.stdout


def test_kubeconform_rejects_unknown_fields_and_duplicate_keys(
    schema_root: Path, versions: dict[str, str], tmp_path: Path
) -> None:
    service = tmp_path / "service.yaml"
    service.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n"
        "spec:\n  ports: [{port: 80}]\n  selektor: {a: b}\n"
    )
    duplicate = tmp_path / "duplicate.yaml"
    duplicate.write_text("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: x\n  name: y\n")
    result = _kubeconform(schema_root, versions["oldest"], service, duplicate)
    assert result.returncode != 0
    assert "additional properties 'selektor' not allowed" in result.stdout
    assert 'key "name" already set in map' in result.stdout
