"""The output folder (dist/ or $CDK8S_OUTDIR) is replaced only if a previous output; its mode stays."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import cdk8s
import constructs
import jsii
import pytest
import yaml

from tests.stack import Stack
from vaultaio_constructs.component import StackChart
from vaultaio_constructs.output import (
    _str_presenter,
    check_outdir,
    foreign_entries,
    render,
    synth,
    to_yaml,
    write,
)

REPO = Path(__file__).resolve().parent.parent


def _gitops_folder(tmp_path: Path) -> Path:
    """A folder of someone's GitOps repository: a .git/ and an unrelated file."""
    repo = tmp_path / "gitops"
    (repo / ".git" / "objects").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (repo / "README.md").write_text("cluster apps\n")
    return repo


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_folder_with_a_git_repository_and_other_files_survives(stack: Stack, tmp_path: Path) -> None:
    repo = _gitops_folder(tmp_path)
    before = _snapshot(repo)
    with pytest.raises(
        ValueError, match=r"refusing to replace the output folder .*gitops: .*\.git, README\.md"
    ):
        write(stack.manifests, repo)
    assert _snapshot(repo) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gitops"], "no temporary folder is left behind"


def test_synth_refuses_too(tmp_path: Path) -> None:
    repo = _gitops_folder(tmp_path)
    with pytest.raises(ValueError, match="set CDK8S_OUTDIR to such a folder"):
        synth(None, repo)
    assert (repo / ".git" / "HEAD").is_file()


def test_app_exits_2_with_a_clear_error_for_a_foreign_cdk8s_outdir(tmp_path: Path) -> None:
    repo = _gitops_folder(tmp_path)
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK8S_OUTDIR": str(repo)}
    env.pop("VAULTAIO_SETTINGS", None)
    result = subprocess.run(
        [sys.executable, str(REPO / "app.py")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: refusing to replace the output folder {repo}: "), result.stderr
    assert "Traceback" not in result.stderr
    assert (repo / "README.md").read_text() == "cluster apps\n"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("notes.txt", ["notes.txt"]),
        ("vault/README.md", ["vault/README.md"]),
        ("charts/app.yaml", ["charts"]),
        # a namespace's folder inside an area holds its objects' yaml files, nothing else
        ("setup/nested/deeper/x.yaml", ["setup/nested/deeper"]),
        ("logging/vault-aio-node/notes.txt", ["logging/vault-aio-node/notes.txt"]),
        ("setup/Not_A_Namespace/x.yaml", ["setup/Not_A_Namespace"]),
    ],
)
def test_anything_a_synth_does_not_write_blocks_the_replacement(
    stack: Stack, tmp_path: Path, extra: str, expected: list[str]
) -> None:
    out = tmp_path / "dist"
    write(stack.manifests, out)
    (out / extra).parent.mkdir(parents=True, exist_ok=True)
    (out / extra).write_text("mine\n")
    assert foreign_entries(out) == expected
    with pytest.raises(ValueError, match="refusing to replace"):
        check_outdir(out)


def test_a_previous_output_is_replaced_and_keeps_its_mode(stack: Stack, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    write(stack.manifests, out)
    (out / "vault" / "configmap-stale.yaml").write_text("stale: true\n")  # an object that no longer exists
    out.chmod(0o750)
    write(stack.manifests, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o750
    assert not (out / "vault" / "configmap-stale.yaml").exists()
    assert (out / "kustomization.yaml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist"]


def test_a_new_folder_gets_the_mode_the_umask_gives(stack: Stack, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write(stack.manifests, tmp_path / "new")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o755


def test_an_empty_folder_is_used_and_a_file_is_refused(stack: Stack, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir(mode=0o770)
    empty.chmod(0o770)
    write(stack.manifests, empty)
    assert stat.S_IMODE(empty.stat().st_mode) == 0o770
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="exists and is not a folder"):
        write(stack.manifests, a_file)
    assert a_file.read_text() == "x"


def test_the_committed_dist_counts_as_a_previous_output() -> None:
    assert foreign_entries(REPO / "dist") == []


@jsii.implements(constructs.IValidation)
class _Refuse:
    """A construct validation that always fails (as a user's ``node.add_validation`` would)."""

    def __init__(self, message: str) -> None:
        self.message = message

    def validate(self) -> list[str]:
        return [self.message]


def test_a_failed_construct_validation_stops_the_render_naming_each_construct() -> None:
    app = cdk8s.App()
    chart = StackChart(app, "small")
    chart.finish()
    chart.component("namespace").node.add_validation(_Refuse("labels are wrong"))
    chart.node.add_validation(_Refuse("the chart is incomplete"))
    with pytest.raises(ValueError, match="stack validation failed:") as failed:
        render(chart)
    assert "[small] the chart is incomplete" in str(failed.value)
    assert "[small/Namespaces] labels are wrong" in str(failed.value)


def test_a_chart_without_failed_validations_renders_its_objects() -> None:
    app = cdk8s.App()
    chart = StackChart(app, "small")
    chart.finish()
    assert ("Namespace", "vault-aio") in [(m.kind, m.name) for m in render(chart)]


def _generic_yaml(body: object) -> str:
    """``to_yaml`` as PyYAML's generic representer and resolver write it (the reference for the fast path)."""

    class Generic(yaml.SafeDumper):
        pass

    Generic.add_representer(str, _str_presenter)
    return yaml.dump(
        body, Dumper=Generic, sort_keys=False, default_flow_style=False, width=120, allow_unicode=True
    )


def test_yaml_of_every_object_is_what_the_generic_representer_writes(stack: Stack) -> None:
    differing = [m.path for m in stack.manifests if to_yaml(m.body) != _generic_yaml(m.body)]
    assert not differing
    assert "|\n" in to_yaml(next(m.body for m in stack.manifests if m.kind == "ConfigMap"))


def test_yaml_fast_path_keeps_aliases_empty_containers_and_other_scalars() -> None:
    shared = {"a": [1, 2]}
    body = {
        "x": shared,
        "y": shared,  # the same object twice: an anchor and an alias, as PyYAML writes it
        "empty": {},
        "none": [],
        "scalars": [None, True, False, 0, -3, 1.5, "true", "1", "null", "", "a: b", "é", "two\nlines"],
        "trailing": "space \nthen",
    }
    text = to_yaml(body)
    assert text == _generic_yaml(body)
    assert "&id001" in text and "*id001" in text


def test_yaml_of_shared_non_json_values_round_trips() -> None:
    """A tuple or a date used twice goes the generic way (an anchor and an alias): the string written before
    it must not take the anchor, or the alias would load as that string."""
    import datetime

    pair, day = ("x", "y"), datetime.date(2026, 11, 30)
    body = {"a": pair, "b": "z", "c": pair, "d": day, "e": "w", "f": day}
    text = to_yaml(body)
    assert yaml.safe_load(text) == {"a": ["x", "y"], "b": "z", "c": ["x", "y"], "d": day, "e": "w", "f": day}
    assert text == _generic_yaml(body)


def test_long_and_multi_line_scalars_are_not_kept_by_the_resolver_cache() -> None:
    from vaultaio_constructs import output

    config = "line one\nline two\n" + "x" * 300
    long_line = "y" * 300
    to_yaml({"config": config, "long": long_line, "short": "kept"})
    cached = {value for value, _ in output._RESOLVED}
    assert "kept" in cached and config not in cached and long_line not in cached
