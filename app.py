#!/usr/bin/env python3
"""Synthesize the vault-aio stack into ``dist/`` (or ``$CDK8S_OUTDIR``).

Settings come from ``$VAULTAIO_SETTINGS`` or ``vaultaio.yaml`` beside this file; without either, the
defaults. Importing this module has no side effects: the app runs only as a script (``python app.py``,
``make synth`` or ``npx cdk8s synth``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    from vaultaio_constructs.output import synth
    from vaultaio_constructs.settings import load_settings

    try:
        props = load_settings(base_dir=HERE)
        outdir = Path(os.environ.get("CDK8S_OUTDIR") or HERE / "dist")
        files = synth(props, outdir)
    except ValueError as err:  # settings and validation errors: nothing was written
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"synthesized {len(files)} files into {outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
