"""Deterministic YAML for generated configuration files, with libyaml's emitter when it is installed.

Every renderer (Prometheus, Alertmanager, Loki, Tempo, Grafana provisioning, rule files) writes YAML
through :func:`dump_yaml`, so key order (sorted), style and speed are the same everywhere. libyaml
(PyYAML's C extension, shipped in its wheels) emits the same text as the pure-Python emitter, several
times faster.
"""

from __future__ import annotations

from typing import Any

import yaml

SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_yaml(data: Any, *, width: int = 80, allow_unicode: bool = False) -> str:
    """``data`` as block-style YAML with sorted keys."""
    return yaml.dump(
        data,
        Dumper=SafeDumper,
        sort_keys=True,
        default_flow_style=False,
        width=width,
        allow_unicode=allow_unicode,
    )
