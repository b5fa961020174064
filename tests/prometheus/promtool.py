"""``promtool check config`` of Prometheus' config as its pod sees it: every ConfigMap and Secret file the
container mounts is laid out under a temporary root (``tests/podfs.py``), the config's in-pod paths point
there, the container's environment (``POD_NAME`` of an HA pair) is set, and every lint is fatal."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from tests.podfs import Objects, environment, files_named, materialize, mount_paths, rebase
from tests.tools import require_tool


def check_config_as_mounted(objects: Objects, root: Path, *, workload: str = "prometheus") -> str:
    """Run the full check and return promtool's output; fails the test on any problem."""
    promtool = require_tool("promtool")
    (sts,) = [o for o in objects if o["kind"] == "StatefulSet" and o["metadata"]["name"] == workload]
    pod = sts["spec"]["template"]["spec"]
    written = materialize(objects, pod, "prometheus", root)
    args = next(c for c in pod["containers"] if c["name"] == "prometheus")["args"]
    (config_file,) = [a.split("=", 1)[1] for a in args if a.startswith("--config.file=")]
    assert config_file in written, f"{config_file} is not mounted: {written}"
    config = yaml.safe_load((root / config_file.lstrip("/")).read_text())
    # promtool opens rule files but not every file a config names (CA files, password files)
    missing = sorted(set(files_named(config)) - set(written))
    assert not missing, f"the config names files the pod does not mount: {missing}"
    rebased = root / "prometheus.rebased.yml"
    rebased.write_text(yaml.safe_dump(rebase(config, root, mount_paths(pod, "prometheus"))))
    env = {"PATH": os.environ.get("PATH", ""), **environment(sts, "prometheus")}
    result = subprocess.run(
        [promtool, "check", "config", "--lint=all", "--lint-fatal", str(rebased)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
