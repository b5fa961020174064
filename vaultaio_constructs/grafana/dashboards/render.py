"""Render the built-in dashboards from their code (grafana-foundation-sdk) into ``rendered/<name>.json``.

A synth reads those files (:func:`~vaultaio_constructs.grafana.dashboards.builtin_dashboards`) instead of
importing the SDK and building five dashboards every time; ``make synth`` and ``make dashboards`` run this
first, and ``tests/grafana/test_dashboards.py`` fails while a committed file differs from what the code
renders, so the files never drift from the code.

    python -m vaultaio_constructs.grafana.dashboards.render [--check]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from vaultaio_constructs.grafana.dashboards import (
    BUILTIN_PRIMARY_DATASOURCE,
    RENDERED_FOLDER,
    GrafanaDashboard,
)
from vaultaio_constructs.grafana.dashboards.container_logs import container_logs
from vaultaio_constructs.grafana.dashboards.trace_explorer import trace_explorer
from vaultaio_constructs.grafana.dashboards.vault_audit import vault_audit
from vaultaio_constructs.grafana.dashboards.vault_overview import vault_overview
from vaultaio_constructs.grafana.dashboards.vm_system import vm_system

if TYPE_CHECKING:
    from grafana_foundation_sdk.models import dashboard as dashboard_model

#: The factory of each built-in dashboard, by name.
FACTORIES: Final[dict[str, Callable[[], dashboard_model.Dashboard]]] = {
    "vault-overview": vault_overview,
    "vault-audit": vault_audit,
    "vm-system": vm_system,
    "container-logs": container_logs,
    "trace-explorer": trace_explorer,
}

#: Where the rendered files live (inside the package, shipped as package data).
FOLDER: Final = Path(__file__).resolve().parent / RENDERED_FOLDER


def render_builtin() -> tuple[GrafanaDashboard, ...]:
    """Every built-in dashboard rendered from its code, in the order of ``BUILTIN_PRIMARY_DATASOURCE``."""
    return tuple(GrafanaDashboard.from_model(name, FACTORIES[name]()) for name in BUILTIN_PRIMARY_DATASOURCE)


def stale_files(folder: Path = FOLDER) -> list[str]:
    """Names of the files in ``folder`` that are missing, differ from the rendering, or name no dashboard."""
    expected = {d.file_name: d.json for d in render_builtin()}
    present = {p.name for p in folder.glob("*.json")} if folder.is_dir() else set()
    differ = [
        name
        for name, text in expected.items()
        if name not in present or (folder / name).read_text("utf-8") != text
    ]
    return sorted(differ + sorted(present - expected.keys()))


def write(folder: Path = FOLDER) -> list[Path]:
    """Write every built-in dashboard's JSON into ``folder`` (and remove files of no dashboard)."""
    folder.mkdir(exist_ok=True)
    dashboards = render_builtin()
    names = {d.file_name for d in dashboards}
    for leftover in folder.glob("*.json"):
        if leftover.name not in names:
            leftover.unlink()
    written = []
    for dashboard in dashboards:
        path = folder / dashboard.file_name
        if not path.is_file() or path.read_text(encoding="utf-8") != dashboard.json:
            path.write_text(dashboard.json, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="only report files that differ (exit 1)")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for name in stale:
            print(f"stale: {FOLDER / name}", file=sys.stderr)
        return 1 if stale else 0
    write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
