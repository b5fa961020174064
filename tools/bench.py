#!/usr/bin/env python3
"""Benchmark: synth of the whole stack vs. the floor (an empty cdk8s-plus-27 app), as process launches.

Both commands start a fresh Python process with the jsii runtime, so the floor is the fixed cost every
cdk8s Python app pays. Both run with ``python -O``, as ``make synth`` and ``cdk8s.yaml`` run the app:
``-O`` skips the jsii runtime's per-call typeguard checks of argument types (``if __debug__:`` in the
generated bindings), which ``mypy --strict`` already proves statically; the tests run without ``-O``.
Runs alternate (floor, stack, floor, stack...) to spread machine noise evenly.
Prints medians and the ratio of wall time (what a user waits for) and of CPU time (user + system of the
Python process and its Node child: steadier than wall time on a shared, loaded machine, where waiting for
a CPU inflates every round trip between the two processes); never fails on timing (it is a measurement,
not a test).

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


def _time(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, the process and the children it waited for: Node)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as stderr:  # the app's warnings: shown only if it fails
        proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            stderr.seek(0)
            sys.stderr.buffer.write(stderr.read())
            raise subprocess.CalledProcessError(proc.returncode, cmd)
    return wall, usage.ru_utime + usage.ru_stime


def _line(label: str, values: list[float]) -> str:
    return (
        f"{label} median: {statistics.median(values):.3f} s  (min {min(values):.3f}, max {max(values):.3f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7, help="runs of each command (default 7)")
    args = parser.parse_args()
    floor_t: list[tuple[float, float]] = []
    stack_t: list[tuple[float, float]] = []
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
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}")
    print(f"load average after the runs (1, 5, 15 min): {load}")
    print(f"runs each: {args.runs} (alternating, after one warm-up)")
    for what, index in (("wall", 0), ("cpu", 1)):
        floor = [t[index] for t in floor_t]
        stack = [t[index] for t in stack_t]
        print(_line(f"{what}: floor (empty cdk8s-plus-27 app)", floor))
        print(_line(f"{what}: vault-aio app.py synth         ", stack))
        ratio = statistics.median(stack) / statistics.median(floor)
        print(f"{what}: ratio stack/floor: {ratio:.2f}x (goal <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
