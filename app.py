#!/usr/bin/env python3
"""Synthesize the vault-aio stack into ``dist/`` (or ``$CDK8S_OUTDIR``).

Settings come from ``$VAULTAIO_SETTINGS`` or ``vaultaio.yaml`` beside this file; without either, the
defaults. Every run says which settings it used. Importing this module has no side effects: the app runs
only as a script (``python app.py``, ``make synth`` or ``npx cdk8s synth``).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import ipaddress
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vaultaio_constructs.settings import VaultAioProps

HERE = Path(__file__).resolve().parent

#: Node majors whose end-of-life banner the jsii runtime prints on every start (11 lines on stderr). The
#: README names the supported Node versions; the banner adds nothing to a synth. Set the variable
#: yourself to see it (or to silence it in your own app, see README "Importing the constructs").
QUIET_NODE_MAJORS = "18,20"


def synth_warnings(props: VaultAioProps) -> list[str]:
    """Settings that synthesize but that a production cluster should not keep (printed on stderr)."""
    kube_api = props.network.kube_api
    wide = [c for c in kube_api.cidrs if ipaddress.ip_network(c, strict=False).prefixlen == 0]
    if not wide:
        return []
    return [
        f"network.kube_api.cidrs allows any address ({', '.join(wide)}) on ports "
        f"{', '.join(str(p) for p in kube_api.ports)}: Vault and Alloy may connect to any host there, not "
        "only the Kubernetes API server. Run `make kube-api-cidrs` (scripts/kube-api-cidrs.sh) and put the "
        "network.kube_api it prints into your settings file"
    ]


def _start_jsii_runtime() -> None:
    """Import ``constructs``: starts the jsii runtime's Node process and loads the first assembly. Whatever
    fails here fails again, once and in the main thread, when the main thread imports cdk8s."""
    with contextlib.suppress(Exception):
        importlib.import_module("constructs")


def main() -> int:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", QUIET_NODE_MAJORS)
    # Starting the jsii runtime (a Node process, then the constructs assembly) is about 0.2 s of waiting for
    # Node. A thread waits for it while this thread imports the settings classes, which are pure Python
    # (pydantic: about as long; none of them imports jsii, tests/test_synth_imports.py holds that). jsii
    # itself is imported first, here, so the thread only waits: two threads importing at once would take
    # turns on the GIL and gain nothing.
    import jsii  # noqa: F401

    # a daemon: if this thread stops early (Ctrl-C while it holds the import lock the starter waits for), the
    # process still exits instead of waiting for the starter forever
    runtime = threading.Thread(target=_start_jsii_runtime, name="jsii-start", daemon=True)
    runtime.start()
    from vaultaio_constructs.settings import locate_settings, read_settings

    # The settings are read while Node still starts: a settings error is reported without waiting for
    # the constructs (about half a second sooner).
    try:
        source = locate_settings(base_dir=HERE)
        props, source = read_settings(source)
    except ValueError as err:
        runtime.join()
        return _error(err)
    for warning in source.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"settings: {source}")
    runtime.join()
    # Modules live until the process exits (the jsii bindings of cdk8s and cdk8s-plus-27 alone are ~55,000
    # objects): gc.freeze() moves everything allocated so far out of the cyclic collector's sight, so its
    # collections walk only what is allocated afterwards, and at exit the interpreter does not tear those
    # objects down one by one (about a fifth of a synth's CPU time; see docs/PERFORMANCE.md).
    import cdk8s_plus_27  # noqa: F401  (the output module needs it: imported here to freeze it first)

    gc.freeze()
    from vaultaio_constructs.output import synth

    gc.freeze()

    outdir = Path(os.environ.get("CDK8S_OUTDIR") or HERE / "dist")
    try:
        files = synth(props, outdir)
    except ValueError as err:  # validation errors of the constructs: nothing was written
        return _error(err)
    for warning in synth_warnings(props):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"synthesized {len(files)} files into {outdir}")
    return 0


def _error(err: ValueError) -> int:
    """Report a settings or validation error (exit status 2), never a URL's credentials."""
    from vaultaio_constructs.common import redact_urls

    print(f"error: {redact_urls(str(err))}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
