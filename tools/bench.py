#!/usr/bin/env python3
"""Benchmark: synth of the whole stack vs. the floor (an empty cdk8s-plus-27 app), as process launches.

Both commands start a fresh Python process with the jsii runtime, so the floor is the fixed cost every
cdk8s Python app pays. Both run with ``python -O``, as ``make synth`` and ``cdk8s.yaml`` run the app:
``-O`` skips the jsii runtime's per-call typeguard checks of argument types (``if __debug__:`` in the
generated bindings), which ``mypy --strict`` already proves statically; the tests run without ``-O``.
Runs alternate (floor, stack, floor, stack...) to spread machine noise evenly.
Prints medians and the ratio; never fails on timing (it is a measurement, not a test).

    python tools/bench.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

FLOOR = """
import cdk8s, cdk8s_plus_27
app = cdk8s.App()
cdk8s.Chart(app, "empty")
app.synth()
"""


def _time(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=REPO, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7, help="runs of each command (default 7)")
    args = parser.parse_args()
    floor_t: list[float] = []
    stack_t: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        # the defaults, whatever vaultaio.yaml an operator keeps beside app.py
        defaults = Path(tmp) / "defaults.yaml"
        defaults.write_text("{}\n")
        env = {
            **os.environ,
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "VAULTAIO_SETTINGS": str(defaults),
        }
        # Measure as a user's machine runs: bytecode caches written by the warm-up and reused afterwards
        # (some CI images set PYTHONDONTWRITEBYTECODE, which makes every run recompile every module).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        floor_env = {**env, "CDK8S_OUTDIR": str(Path(tmp) / "floor")}
        stack_env = {**env, "CDK8S_OUTDIR": str(Path(tmp) / "stack")}
        # one warm-up of each (file system caches, .pyc files)
        _time([sys.executable, "-O", "-c", FLOOR], floor_env)
        _time([sys.executable, "-O", "app.py"], stack_env)
        for _ in range(args.runs):
            floor_t.append(_time([sys.executable, "-O", "-c", FLOOR], floor_env))
            stack_t.append(_time([sys.executable, "-O", "app.py"], stack_env))
    floor_m, stack_m = statistics.median(floor_t), statistics.median(stack_t)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}")
    print(f"runs each: {args.runs} (alternating, after one warm-up)")
    print(
        f"floor (empty cdk8s-plus-27 app) median: {floor_m:.3f} s"
        f"  (min {min(floor_t):.3f}, max {max(floor_t):.3f})"
    )
    print(
        f"vault-aio app.py synth          median: {stack_m:.3f} s"
        f"  (min {min(stack_t):.3f}, max {max(stack_t):.3f})"
    )
    print(f"ratio stack/floor: {stack_m / floor_m:.2f}x (goal <= 1.25x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
