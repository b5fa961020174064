#!/usr/bin/env python3
"""Print the content digest of every image the stack runs, as a settings snippet to paste.

For each component's image (the pinned tag, or the ``image_tag``/``image_repository`` of the settings) it
asks the registry for the digest of what the tag names now, with ``crane digest`` or, without crane,
``skopeo inspect --raw`` (the digest is the SHA-256 of the manifest bytes). For a multi-platform image
both give the digest of the index, which pins every platform at once. Review the output, then merge it
into ``vaultaio.yaml`` (each ``image_digest`` sits beside ``image_tag``) and run ``make synth``.

    python tools/image_digests.py [--settings FILE] [--tool crane|skopeo]

Exit status: 0 with the snippet on stdout; 1 when a registry look-up failed (the image is named); 2 when
neither tool is installed or the settings are invalid.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from vaultaio_constructs import versions
from vaultaio_constructs.common import WorkloadProps
from vaultaio_constructs.settings import VaultAioProps, load_settings

TOOLS = ("crane", "skopeo")


class LookupError_(RuntimeError):
    """The registry did not answer with a digest."""


def image_references(props: VaultAioProps) -> dict[str, str]:
    """component -> ``repository:tag`` it runs (without any digest already set)."""
    refs = {}
    for component in versions.IMAGES:
        settings = getattr(props, component)
        assert isinstance(settings, WorkloadProps)
        refs[component] = versions.image(component, settings.image_tag, repository=settings.image_repository)
    return refs


def digest_of(reference: str, tool: str) -> str:
    """The registry's digest of ``reference`` (``sha256:...``), via ``tool``."""
    command = (
        ["crane", "digest", reference]
        if tool == "crane"
        else ["skopeo", "inspect", "--raw", f"docker://{reference}"]
    )
    result = subprocess.run(command, capture_output=True, timeout=120, check=False)
    if result.returncode != 0:
        reason = result.stderr.decode(errors="replace").strip().splitlines()
        raise LookupError_(
            f"{' '.join(command)} failed: {reason[-1] if reason else f'exit {result.returncode}'}"
        )
    if tool == "crane":
        digest = result.stdout.decode().strip()
    else:
        digest = "sha256:" + hashlib.sha256(result.stdout).hexdigest()
    if not versions.IMAGE_DIGEST_PATTERN.fullmatch(digest):
        raise LookupError_(f"{' '.join(command)} printed {digest!r}, not a sha256 digest")
    return digest


def snippet(digests: dict[str, tuple[str, str]]) -> str:
    """The settings to merge into ``vaultaio.yaml``: one ``image_digest`` per component."""
    lines = ["# image digests looked up by tools/image_digests.py; merge into vaultaio.yaml"]
    for component, (reference, digest) in digests.items():
        lines += [f"{component}:", f"  image_digest: {digest}  # {reference}"]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--settings", type=Path, help="settings file (default: vaultaio.yaml, as app.py)")
    parser.add_argument("--tool", choices=TOOLS, help="registry client (default: crane, else skopeo)")
    args = parser.parse_args(argv)
    try:
        props = load_settings(args.settings, base_dir=Path(__file__).resolve().parent.parent)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    tool = args.tool or next((t for t in TOOLS if shutil.which(t)), None)
    if tool is None or shutil.which(tool) is None:
        print(
            f"error: {args.tool or ' or '.join(TOOLS)} is not installed: install crane "
            "(go-containerregistry) or skopeo",
            file=sys.stderr,
        )
        return 2
    digests = {}
    for component, reference in image_references(props).items():
        try:
            digests[component] = (reference, digest_of(reference, tool))
        except (LookupError_, subprocess.TimeoutExpired) as err:
            print(f"error: {component} ({reference}): {err}", file=sys.stderr)
            return 1
    sys.stdout.write(snippet(digests))
    return 0


if __name__ == "__main__":
    sys.exit(main())
