"""dist/ is exactly what a fresh synth gives, builds with kustomize, and a failed synth never touches it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.snapshots import tree_report
from tests.stack import Stack
from tests.tools import require_tool
from vaultaio_constructs.output import synth
from vaultaio_constructs.settings import VaultAioProps

REPO = Path(__file__).resolve().parent.parent
DIST = REPO / "dist"


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.yaml"))}


def test_committed_dist_matches_a_fresh_synth(tmp_path: Path) -> None:
    """dist/ is the whole-stack snapshot reviewers read; a stale one is reported object by object."""
    synth(VaultAioProps(), tmp_path / "dist")
    report = tree_report(_tree(DIST), _tree(tmp_path / "dist"), folder="dist/")
    if report:
        pytest.fail(report, pytrace=False)


def test_kustomization_lists_every_file_namespace_first(stack: Stack) -> None:
    kustomization = yaml.safe_load((DIST / "kustomization.yaml").read_text())
    files = {str(p.relative_to(DIST)) for p in DIST.rglob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(files)
    # both Namespaces first, so every other object has its namespace when it is applied
    assert sorted(kustomization["resources"][:2]) == [
        "setup/namespace-vault-aio-node.yaml",
        "setup/namespace-vault-aio.yaml",
    ]


def test_kubectl_kustomize_builds_every_object(stack: Stack) -> None:
    kubectl = require_tool("kubectl")
    out = subprocess.run([kubectl, "kustomize", str(DIST)], check=True, capture_output=True, text=True).stdout
    docs = [d for d in yaml.load_all(out, getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if d]  # libyaml
    assert len(docs) == len(stack.manifests)
    assert [d["kind"] for d in docs[:2]] == ["Namespace", "Namespace"]
    built = sorted((d["kind"], d["metadata"]["name"], d["metadata"].get("namespace", "")) for d in docs)
    assert built == sorted((m.kind, m.name, m.namespace or "") for m in stack.manifests)


@pytest.fixture
def defaults_file(tmp_path: Path) -> Path:
    """A settings file that asks for the defaults: tests never read an operator's ``vaultaio.yaml``."""
    f = tmp_path / "defaults.yaml"
    f.write_text("{}\n")
    return f


Run = subprocess.CompletedProcess[str]


def _run_app(env_extra: dict[str, str], app: Path = REPO / "app.py") -> Run:
    env = {**os.environ, **env_extra}
    env.pop("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", None)  # app.py silences the banner itself
    return subprocess.run([sys.executable, str(app)], capture_output=True, text=True, env=env, cwd=REPO)


def test_failed_synth_writes_nothing_and_names_the_setting(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "marker.yaml").write_text("kept: true\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("prometheus:\n  retention_dayz: 3\n")
    result = _run_app({"VAULTAIO_SETTINGS": str(bad), "CDK8S_OUTDIR": str(out)})
    assert result.returncode == 2
    assert "prometheus.retention_dayz: unknown setting" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["marker.yaml"]


@pytest.fixture(scope="module")
def beside_an_operators_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Run]:
    """One run of a copy of app.py with an operator's vaultaio.yaml beside it and VAULTAIO_SETTINGS naming
    a defaults file, into CDK8S_OUTDIR: (settings file, outdir, result)."""
    folder = tmp_path_factory.mktemp("app")
    app = folder / "app.py"
    app.write_text((REPO / "app.py").read_text())
    (folder / "vaultaio.yaml").write_text("namespace: operators-own\n")
    defaults = folder / "defaults.yaml"
    defaults.write_text("{}\n")
    out = folder / "out"
    return defaults, out, _run_app({"CDK8S_OUTDIR": str(out), "VAULTAIO_SETTINGS": str(defaults)}, app=app)


def test_app_writes_to_cdk8s_outdir_quietly_and_names_its_settings(
    beside_an_operators_file: tuple[Path, Path, Run],
) -> None:
    defaults_file, out, result = beside_an_operators_file
    assert result.returncode == 0, result.stderr
    assert (out / "kustomization.yaml").is_file()
    assert (out / "setup" / "namespace-vault-aio.yaml").is_file()
    assert f"settings: {defaults_file} (from VAULTAIO_SETTINGS)" in result.stdout
    # no banner or trace on a default synth; only the one warning the default network.kube_api earns
    # (any address, IPv4 and IPv6: issue 14)
    assert result.stderr.splitlines() == [
        line for line in result.stderr.splitlines() if line.startswith("warning: network.kube_api.cidrs")
    ]
    assert "warning: network.kube_api.cidrs allows any address (0.0.0.0/0, ::/0)" in result.stderr


@pytest.fixture(scope="module")
def without_settings(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run]:
    """One run of a copy of app.py (no operator's vaultaio.yaml can sit beside it) without VAULTAIO_SETTINGS
    and with a near-miss vaultaio.yml beside it: (folder, result)."""
    folder = tmp_path_factory.mktemp("app")
    app = folder / "app.py"
    app.write_text((REPO / "app.py").read_text())
    (folder / "vaultaio.yml").write_text("namespace: typo\n")
    return folder, _run_app({"CDK8S_OUTDIR": str(folder / "out"), "VAULTAIO_SETTINGS": ""}, app=app)


def test_app_without_settings_file_says_defaults(without_settings: tuple[Path, Run]) -> None:
    folder, result = without_settings
    assert result.returncode == 0, result.stderr
    assert "settings: defaults (no settings file)" in result.stdout
    assert (folder / "out" / "setup" / "namespace-vault-aio.yaml").is_file()  # not the .yml's namespace


def test_app_warns_about_a_near_miss_settings_file_name(without_settings: tuple[Path, Run]) -> None:
    folder, result = without_settings
    assert result.returncode == 0, result.stderr
    assert f"warning: {folder / 'vaultaio.yml'} is not read" in result.stderr
    assert "rename it to vaultaio.yaml" in result.stderr


def test_tests_ignore_an_operators_settings_file(beside_an_operators_file: tuple[Path, Path, Run]) -> None:
    """The helpers above pin the defaults, so a vaultaio.yaml beside app.py cannot change what they see."""
    _, out, result = beside_an_operators_file
    assert result.returncode == 0, result.stderr
    assert (out / "setup" / "namespace-vault-aio.yaml").is_file()
    assert not (out / "setup" / "namespace-operators-own.yaml").exists()


def test_a_jsii_runtime_that_cannot_start_fails_the_synth_once(tmp_path: Path, defaults_file: Path) -> None:
    # app.py starts the jsii runtime in a thread while it imports the settings: a failure there must not
    # be reported twice (once by the thread) or be lost; the main thread's import reports it.
    out = tmp_path / "out"
    result = _run_app(
        {
            "JSII_NODE": str(tmp_path / "no-node"),
            "CDK8S_OUTDIR": str(out),
            "VAULTAIO_SETTINGS": str(defaults_file),
        }
    )
    assert result.returncode != 0
    assert "Exception in thread" not in result.stderr
    assert result.stderr.count(f"No such file or directory: '{tmp_path / 'no-node'}'") == 1
    assert not out.exists()


def test_a_settings_error_is_reported_before_the_constructs_are_needed(tmp_path: Path) -> None:
    # the settings are read while Node starts: their error does not wait for Node, or need it at all
    settings = tmp_path / "bad.yaml"
    settings.write_text("vault:\n  replicas: 2\n")
    out = tmp_path / "out"
    result = _run_app(
        {"JSII_NODE": str(tmp_path / "no-node"), "CDK8S_OUTDIR": str(out), "VAULTAIO_SETTINGS": str(settings)}
    )
    assert result.returncode == 2, result.stderr
    assert "vault.replicas: 'replicas' (2) must be odd" in result.stderr
    assert "No such file or directory" not in result.stderr  # Node's failure to start is not the error
    assert not out.exists()


def test_importing_app_has_no_side_effects() -> None:
    before = {p: p.stat().st_mtime_ns for p in DIST.rglob("*.yaml")}
    code = "import app; print(hasattr(app, 'main'))"
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env)
    assert result.stdout.strip() == "True"
    assert before == {p: p.stat().st_mtime_ns for p in DIST.rglob("*.yaml")}


def test_npx_cdk8s_synth_gives_the_committed_dist_quietly(tmp_path: Path, defaults_file: Path) -> None:
    """cdk8s users run `npx cdk8s synth`; cdk8s.yaml must point it at app.py and give the same dist/."""
    cli = REPO / "node_modules" / ".bin" / "cdk8s"
    if not cli.exists():
        reason = "the pinned cdk8s CLI is not installed (run `make synth`, which runs `npm ci`)"
        if os.environ.get("VAULTAIO_REQUIRE_TOOLS") == "1":
            pytest.fail(f"VAULTAIO_REQUIRE_TOOLS=1 but {reason}")
        pytest.skip(reason)
    if not (REPO / ".venv" / "bin" / "python").exists():
        pytest.skip("cdk8s.yaml runs .venv/bin/python: create it with `make synth`")
    out = tmp_path / "out"
    env = {**os.environ, "VAULTAIO_SETTINGS": str(defaults_file)}
    for noisy in ("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "CDK8S_CHECK_UPGRADE", "NODE_OPTIONS"):
        env.pop(noisy, None)  # the project's own entry points must be quiet without them
    npx = shutil.which("npx")
    if npx is None:
        pytest.skip("npx is not installed (it ships with Node)")
    result = subprocess.run(
        [npx, "cdk8s", "synth", "-o", str(out)], capture_output=True, text=True, env=env, cwd=REPO
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert _tree(out) == _tree(DIST)
    noise = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if any(w in line for w in ("end-of-life", "new version", "Error", "    at "))
    ]
    assert not noise, "npx cdk8s synth printed a banner or a stack trace:\n" + "\n".join(noise)
