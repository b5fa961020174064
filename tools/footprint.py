#!/usr/bin/env python3
"""Print the stack's footprint from dist/: requests, limits and PVC sizes per component, and totals; then
the same table for every scenario in examples/settings/ (synthesized in memory from its settings file).

DaemonSets count once (one node). Reads the synthesized objects, so it shows exactly what is deployed.

    python tools/footprint.py [DIST_DIR]
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9}


def cpu_m(q: str | None) -> int:
    if not q:
        return 0
    return int(q[:-1]) if q.endswith("m") else int(float(q) * 1000)


def mem_mib(q: str | None) -> int:
    if not q:
        return 0
    for suffix, factor in UNITS.items():
        if q.endswith(suffix):
            return int(float(q[: -len(suffix)]) * factor / 2**20)
    return int(int(q) / 2**20)


def footprint(objects: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for o in objects:
        kind = o.get("kind")
        if kind not in ("Deployment", "StatefulSet", "DaemonSet", "CronJob"):
            continue
        name = o["metadata"]["name"]
        if kind == "CronJob":
            spec, replicas = o["spec"]["jobTemplate"]["spec"]["template"]["spec"], 0  # not always running
            name = f"{name} (cronjob, transient)"
        else:
            spec, replicas = o["spec"]["template"]["spec"], o["spec"].get("replicas", 1)
        row = rows[name]
        row["replicas"] = replicas if kind != "DaemonSet" else 1
        for c in spec["containers"]:
            r = c.get("resources", {})
            n = max(row["replicas"], 1) if kind != "CronJob" else 1
            row["cpu_req_m"] += cpu_m(r.get("requests", {}).get("cpu")) * n
            row["mem_req_mib"] += mem_mib(r.get("requests", {}).get("memory")) * n
            row["cpu_lim_m"] += cpu_m(r.get("limits", {}).get("cpu")) * n
            row["mem_lim_mib"] += mem_mib(r.get("limits", {}).get("memory")) * n
        for t in o["spec"].get("volumeClaimTemplates", []) if kind == "StatefulSet" else []:
            row["pvc_gib"] += (
                mem_mib(t["spec"]["resources"]["requests"]["storage"]) // 1024 * max(replicas, 1)
            )
    for o in objects:
        if o.get("kind") == "PersistentVolumeClaim":
            owner = o["metadata"]["labels"].get("app.kubernetes.io/name", o["metadata"]["name"])
            rows[owner]["pvc_gib"] += mem_mib(o["spec"]["resources"]["requests"]["storage"]) // 1024
    return rows


def print_table(title: str, objects: list[dict[str, Any]]) -> None:
    """One footprint table under ``title``."""
    rows = footprint(objects)
    header = (
        f"{'component':<34}{'replicas':>9}{'cpu req':>9}{'mem req':>9}{'cpu lim':>9}{'mem lim':>9}{'PVC':>7}"
    )
    print(title)
    print(header)
    print("-" * len(header))
    totals: dict[str, int] = defaultdict(int)
    for name in sorted(rows):
        r = rows[name]
        cpu_lim = f"{r['cpu_lim_m']}m" if r["cpu_lim_m"] else "-"
        print(
            f"{name:<34}{r['replicas']:>9}{r['cpu_req_m']:>8}m{r['mem_req_mib']:>6}Mi"
            f"{cpu_lim:>9}{r['mem_lim_mib']:>7}Mi{r['pvc_gib']:>5}Gi"
        )
        if "transient" not in name:
            for k, v in r.items():
                totals[k] += v
    print("-" * len(header))
    print(
        f"{'total (running pods)':<34}{'':>9}{totals['cpu_req_m']:>8}m{totals['mem_req_mib']:>6}Mi"
        f"{'':>9}{totals['mem_lim_mib']:>7}Mi{totals['pvc_gib']:>5}Gi"
    )


def scenario_objects(settings_file: Path) -> list[dict[str, Any]]:
    """The objects a scenario's settings file synthesizes (in memory; dist/ is not touched)."""
    from vaultaio_constructs.output import build, render
    from vaultaio_constructs.settings import load_settings

    _, chart = build(load_settings(settings_file))
    return [m.body for m in render(chart)]


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    dist = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "dist"
    objects = [d for f in sorted(dist.rglob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]
    print_table(f"default ({dist})", objects)
    for settings_file in sorted((root / "examples" / "settings").glob("*.yaml")):
        print()
        title = f"scenario {settings_file.stem} ({settings_file.relative_to(root)})"
        print_table(title, scenario_objects(settings_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
