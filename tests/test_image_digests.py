"""Image digests: the settings render ``repo:tag@sha256:...``, and tools/image_digests.py fills them from the
registry (here a fake ``crane`` or ``skopeo`` on PATH that answers like the real ones)."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from tests.stack import synth_stack
from tools.image_digests import main
from vaultaio_constructs import versions
from vaultaio_constructs.settings import load_settings

DIGEST = "sha256:" + "a" * 64


def _fake(tmp_path: Path, name: str, body: str) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    tool = bin_dir / name
    tool.write_text("#!/bin/sh\n" + body)
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def _crane_digest(reference: str) -> str:
    return "sha256:" + hashlib.sha256(reference.encode()).hexdigest()


#: ``crane digest <ref>``: a digest derived from the reference, so each image gets its own.
FAKE_CRANE = (
    '[ "$1" = digest ] || exit 64\nprintf "sha256:%s\\n" "$(printf %s "$2" | sha256sum | cut -d" " -f1)"\n'
)
#: ``skopeo inspect --raw docker://<ref>``: the manifest bytes (the digest is their SHA-256).
FAKE_SKOPEO = '[ "$1 $2" = "inspect --raw" ] || exit 64\nprintf \'{"schemaVersion":2,"ref":"%s"}\' "$3"\n'


def test_digest_renders_after_the_tag_and_keeps_the_version_label() -> None:
    stack = synth_stack(
        {"vault": {"image_digest": DIGEST}, "chrony": {"image_repository": "registry.example.com/chrony"}}
    )
    (vault,) = stack.get("StatefulSet", "vault")["spec"]["template"]["spec"]["containers"]
    assert vault["image"] == f"docker.io/hashicorp/vault:2.0.4@{DIGEST}"
    assert stack.get("StatefulSet", "vault")["metadata"]["labels"]["app.kubernetes.io/version"] == "2.0.4"
    (chrony,) = stack.get("DaemonSet", "chrony")["spec"]["template"]["spec"]["containers"]
    assert chrony["image"] == f"registry.example.com/chrony:{versions.IMAGES['chrony'][1]}"


def test_tool_prints_settings_that_pin_every_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", f"{_fake(tmp_path, 'crane', FAKE_CRANE)}{os.pathsep}{os.environ['PATH']}")
    settings = tmp_path / "vaultaio.yaml"
    settings.write_text("loki:\n  image_tag: 3.7.7\n")
    assert main(["--settings", str(settings), "--tool", "crane"]) == 0
    out = capsys.readouterr().out
    merged = tmp_path / "merged.yaml"
    merged.write_text(out.replace("loki:\n", "loki:\n  image_tag: 3.7.7\n"))
    stack = synth_stack(load_settings(merged))
    images = {c["image"] for _, t in stack.pod_templates() for c in t["spec"]["containers"]}
    expected = {
        f"{ref}@{_crane_digest(ref)}"
        for ref in (versions.image(c, "3.7.7" if c == "loki" else None) for c in versions.IMAGES)
    }
    assert images == expected


def test_tool_with_skopeo_hashes_the_raw_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", f"{_fake(tmp_path, 'skopeo', FAKE_SKOPEO)}{os.pathsep}{os.environ['PATH']}")
    assert (
        main(["--settings", str(tmp_path / "none.yaml"), "--tool", "skopeo"]) == 2
    )  # a named file must exist
    (tmp_path / "empty.yaml").write_text("{}\n")
    assert main(["--settings", str(tmp_path / "empty.yaml"), "--tool", "skopeo"]) == 0
    ref = versions.image("vault")
    raw = f'{{"schemaVersion":2,"ref":"docker://{ref}"}}'.encode()
    assert (
        f"vault:\n  image_digest: sha256:{hashlib.sha256(raw).hexdigest()}  # {ref}\n"
        in capsys.readouterr().out
    )


def test_tool_names_the_image_the_registry_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    refusing = 'echo "UNAUTHORIZED: authentication required" >&2\nexit 1\n'
    monkeypatch.setenv("PATH", f"{_fake(tmp_path, 'crane', refusing)}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "empty.yaml").write_text("{}\n")
    assert main(["--settings", str(tmp_path / "empty.yaml"), "--tool", "crane"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"error: vault ({versions.image('vault')}): crane digest" in captured.err
    assert "UNAUTHORIZED: authentication required" in captured.err


def test_tool_refuses_an_answer_that_is_not_a_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = _fake(tmp_path, "crane", "echo latest\n")
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "empty.yaml").write_text("{}\n")
    assert main(["--settings", str(tmp_path / "empty.yaml"), "--tool", "crane"]) == 1
    assert "printed 'latest', not a sha256 digest" in capsys.readouterr().err


def test_tool_without_a_registry_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    (tmp_path / "empty.yaml").write_text("{}\n")
    assert main(["--settings", str(tmp_path / "empty.yaml")]) == 2
