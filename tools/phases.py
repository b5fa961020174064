#!/usr/bin/env python3
"""Where a synth's time goes: the default stack's synth split into phases, and jsii round trips per kind.

Each run is a fresh ``python -O`` process (as ``make synth`` runs the app) that times, in order:

* ``import jsii``, ``settings import``, ``wait for Node``, ``cdk8s imports``: the start, in ``app.py``'s
  order: jsii, then a thread starts the jsii runtime (a Node process, the constructs assembly) while the
  main thread imports the settings classes (pure Python), then waits for that thread, then imports cdk8s
  and cdk8s-plus-27 (their assemblies): the floor of ``make bench`` pays the same imports one after the
  other;
* ``import``: importing the rest of vault-aio (``output``, the components);
* ``settings``: reading and validating the settings (here the defaults);
* ``build``: ``VaultAioChart`` (every construct and Kubernetes object, the configs, the dashboards);
* ``resolve``: ``render()`` (validation and the one ``Chart.to_json()``);
* ``write``: YAML emission and the folder swap.

Per phase it prints the Python process's CPU time, the CPU time of the jsii runtime's Node processes
(from ``/proc``, Linux only) and wall time, as medians over the runs; then the round trips to Node of the
last run by request and kind. Compare numbers from one run of this tool only (the machine's load moves
them all).

    python tools/phases.py [--runs N] [--settings FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: Runs inside the measured process (``python -O -c``); prints one JSON line.
_PROBE = r"""
import collections, json, os, sys, time
from pathlib import Path

tick = os.sysconf("SC_CLK_TCK")
marks = []


started = []  # the jsii runtime's Node process, once started (asking the kernel for it would start it)


def node_cpu():
    try:
        pid = started[0]._process.pid
        pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        total = 0
        for p in pids:
            for task in os.listdir(f"/proc/{p}/task"):
                fields = Path(f"/proc/{p}/task/{task}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / tick
    except (AttributeError, IndexError, OSError, ValueError):
        return 0.0


def mark(name):
    marks.append((name, time.process_time(), time.perf_counter(), node_cpu()))


import jsii._kernel.providers.process as process

calls = collections.Counter()
send = process._NodeProcess.send


def counting_send(self, request, response_type):
    what = type(request).__name__.removesuffix("Request").lstrip("_")
    target = getattr(request, "fqn", None) or ""
    member = getattr(request, "method", None) or getattr(request, "property", None) or ""
    calls[" ".join(x for x in (what, target, member) if x)] += 1
    return send(self, request, response_type)


process._NodeProcess.send = counting_send
start = process._NodeProcess.start


def recording_start(self):
    start(self)
    started.append(self)


process._NodeProcess.start = recording_start
mark("start")
import gc, importlib, threading

import jsii

mark("import jsii")
# app.py's order: the jsii runtime starts in a thread while this one imports the settings classes
runtime = threading.Thread(target=importlib.import_module, args=("constructs",))
runtime.start()
from vaultaio_constructs.settings import locate_settings, read_settings

mark("settings import")
runtime.join()
mark("wait for Node")
import cdk8s, cdk8s_plus_27

mark("cdk8s imports")
gc.freeze()  # as app.py does
from vaultaio_constructs.output import build, render, write

gc.freeze()
mark("import")
props, _ = read_settings(locate_settings(base_dir=Path.cwd()))
mark("settings")
_, chart = build(props)
mark("build")
manifests = render(chart)
mark("resolve")
write(manifests, Path(sys.argv[1]))
mark("write")
phases = [
    {"phase": b[0], "python": b[1] - a[1], "wall": b[2] - a[2], "node": b[3] - a[3]}
    for a, b in zip(marks, marks[1:])
]
print(json.dumps({"phases": phases, "calls": calls, "objects": len(manifests)}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="runs (default 5)")
    parser.add_argument("--settings", type=Path, help="settings file (default: the defaults)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = args.settings
        if settings is None:
            settings = Path(tmp) / "defaults.yaml"
            settings.write_text("{}\n")
        env = {
            **os.environ,
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "VAULTAIO_SETTINGS": str(settings.resolve()),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as bench.py: measure with bytecode caches
        for i in range(args.runs + 1):  # the first run warms caches and is not counted
            out = subprocess.run(
                [sys.executable, "-O", "-c", _PROBE, str(Path(tmp) / f"out{i}")],
                check=True,
                env=env,
                cwd=REPO,
                capture_output=True,
                text=True,
            ).stdout
            if i:
                results.append(json.loads(out.splitlines()[-1]))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}")
    print(f"load average after the runs (1, 5, 15 min): {load}")
    print(f"runs: {args.runs} (medians; each a fresh python -O process), {results[-1]['objects']} objects")
    print(f"{'phase':16s} {'python cpu':>10s} {'node cpu':>9s} {'wall':>7s}")
    names = [p["phase"] for p in results[0]["phases"]]
    for index, name in enumerate(names):
        row = [statistics.median(r["phases"][index][k] for r in results) for k in ("python", "node", "wall")]
        print(f"{name:16s} {row[0]:10.3f} {row[1]:9.3f} {row[2]:7.3f}")
    total = [
        statistics.median(sum(p[k] for p in r["phases"]) for r in results) for k in ("python", "node", "wall")
    ]
    print(f"{'total':16s} {total[0]:10.3f} {total[1]:9.3f} {total[2]:7.3f}")
    calls = results[-1]["calls"]
    print(f"\nround trips to Node (last run): {sum(calls.values())}")
    for what, count in sorted(calls.items(), key=lambda item: (-item[1], item[0])):
        print(f"{count:5d}  {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
