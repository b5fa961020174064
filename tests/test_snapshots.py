"""The review aids fail the way a reviewer needs: naming each changed object, with a readable YAML diff,
at pytest's default verbosity."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.snapshots import tree_report, variant_changes
from vaultaio_constructs.output import Manifest, to_yaml
from vaultaio_constructs.placement import Area

REPO = Path(__file__).resolve().parent.parent

DEMO_TEST = textwrap.dedent(
    """
    import os

    from syrupy.assertion import SnapshotAssertion

    from tests.snapshots import assert_texts_match


    def _object(kind, name, ns, data):
        head = ["apiVersion: v1", f"kind: {kind}", "metadata:", f"  name: {name}", f"  namespace: {ns}"]
        return "\\n".join([*head, "data:", *(f"  {k}: {v}" for k, v in data.items())]) + "\\n"


    def test_objects(snapshot: SnapshotAssertion) -> None:
        items = [
            ("ConfigMap/settings", _object("ConfigMap", "settings", "main", {"mode": os.environ["MODE"]})),
            ("Service/vault", _object("Service", "vault", "main", {"port": 8200})),
            ("ConfigMap/node/agent", _object("ConfigMap", "agent", "node", {"level": os.environ["LEVEL"]})),
        ]
        if os.environ.get("DEMO_EXTRA"):
            items.append(("ServiceAccount/extra", _object("ServiceAccount", "extra", "main", {})))
        assert_texts_match(snapshot, items, what="the demo stack")
    """
)


def _run_demo(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **env}
    environment.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "--rootdir", str(folder),
         str(folder / "test_demo.py"), *args],
        capture_output=True, text=True, env=environment, cwd=folder, check=False,
    )  # fmt: skip


def test_a_snapshot_failure_names_each_changed_object_and_shows_its_diff(tmp_path: Path) -> None:
    (tmp_path / "test_demo.py").write_text(DEMO_TEST)
    created = _run_demo(tmp_path, "--snapshot-update", MODE="ha", LEVEL="info")
    assert created.returncode == 0, created.stdout + created.stderr
    stored = (tmp_path / "__snapshots__" / "test_demo.ambr").read_text()
    assert "# name: test_objects[ConfigMap/settings]" in stored
    assert "# name: test_objects[ConfigMap/node/agent]" in stored  # outside the main namespace

    changed = _run_demo(tmp_path, MODE="standalone", LEVEL="debug", DEMO_EXTRA="1")
    out = changed.stdout
    assert changed.returncode == 1, out
    assert "3 object(s) of the demo stack differ from their snapshots:" in out
    assert "  changed: ConfigMap/settings" in out
    assert "  changed: ConfigMap/node/agent" in out
    assert "  new (no snapshot yet): ServiceAccount/extra" in out
    assert "Service/vault" not in out  # unchanged objects are not reported
    # a unified diff of the YAML, at the default verbosity (no -vv)
    assert "--- ConfigMap/settings (snapshot)\n+++ ConfigMap/settings (now)" in out
    assert "-  mode: ha\n+  mode: standalone" in out
    assert "-  level: info\n+  level: debug" in out
    assert "+kind: ServiceAccount" in out
    assert "pytest --snapshot-update" in out


def _manifest(kind: str, name: str, **data: str) -> Manifest:
    body = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "main"}, "data": data}
    return Manifest(Area.VAULT, body, "main")


def test_a_variant_is_stored_as_what_it_changes_and_ignores_unrelated_moves() -> None:
    base = [_manifest("ConfigMap", "a", x="1", y="2"), _manifest("ConfigMap", "b", z="3")]
    variant = [_manifest("ConfigMap", "a", x="1", y="20"), _manifest("ConfigMap", "c", w="4")]
    changes = dict(variant_changes(base, variant))
    assert sorted(changes) == ["ConfigMap/a", "ConfigMap/b", "ConfigMap/c"]
    assert "-  y: '2'\n+  y: '20'" in changes["ConfigMap/a"]
    assert changes["ConfigMap/b"] == "(removed)"
    assert changes["ConfigMap/c"].startswith("@@\n+apiVersion: v1")
    # a line added above the variant's difference changes the base and the variant alike: same delta
    moved_base = [_manifest("ConfigMap", "a", a0="0", x="1", y="2")]
    moved_variant = [_manifest("ConfigMap", "a", a0="0", x="1", y="20")]
    far = dict(variant_changes(moved_base, moved_variant))["ConfigMap/a"]
    assert far.splitlines()[0] == "@@" and "+  y: '20'" in far


def test_stale_dist_is_reported_by_object_with_a_diff() -> None:
    committed = {
        "vault/configmap-vault-config.yaml": to_yaml(_manifest("ConfigMap", "vault-config", ui="true").body),
        "vault/service-vault.yaml": to_yaml(_manifest("Service", "vault").body),
        "monitoring/configmap-old.yaml": to_yaml(_manifest("ConfigMap", "old").body),
    }
    fresh = {
        **committed,
        "vault/configmap-vault-config.yaml": to_yaml(_manifest("ConfigMap", "vault-config", ui="false").body),
        "vault/serviceaccount-vault.yaml": to_yaml(_manifest("ServiceAccount", "vault").body),
    }
    del fresh["monitoring/configmap-old.yaml"]
    report = tree_report(committed, fresh, folder="dist/")
    assert report is not None
    assert report.startswith("dist/ is stale: run `make synth` and commit dist/.")
    assert "  changed: ConfigMap/vault-config (vault/configmap-vault-config.yaml)" in report
    assert "  new: ServiceAccount/vault (vault/serviceaccount-vault.yaml)" in report
    assert "  no longer written: ConfigMap/old (monitoring/configmap-old.yaml)" in report
    assert "Service/vault (" not in report
    assert "-  ui: 'true'\n+  ui: 'false'" in report
    assert tree_report(committed, dict(committed), folder="dist/") is None
