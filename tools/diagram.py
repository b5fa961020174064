#!/usr/bin/env python3
"""Write docs/network.dot from the synthesized NetworkPolicies (and docs/network.svg with graphviz).

python tools/diagram.py            # both files
python tools/diagram.py --dot-only # just the .dot (no graphviz needed)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vaultaio_constructs.analysis import connectivity, to_dot  # noqa: E402
from vaultaio_constructs.output import build, render  # noqa: E402


def network_dot() -> str:
    """The diagram of the default stack."""
    _, chart = build()
    return to_dot(connectivity([m.body for m in render(chart)]))


def main() -> int:
    dot_file = REPO / "docs" / "network.dot"
    dot_file.write_text(network_dot(), encoding="utf-8")
    print(f"wrote {dot_file.relative_to(REPO)}")
    if "--dot-only" in sys.argv:
        return 0
    dot = shutil.which("dot")
    if dot is None:
        print("graphviz `dot` is not installed: apt-get install graphviz", file=sys.stderr)
        return 1
    svg = dot_file.with_suffix(".svg")
    subprocess.run([dot, "-Tsvg", str(dot_file), "-o", str(svg)], check=True)
    print(f"wrote {svg.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
