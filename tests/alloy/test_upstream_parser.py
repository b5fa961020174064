"""Every rendered config.alloy parses with the parser of Alloy's own syntax module
(``tools/go/alloy-syntax``), and differs from what Alloy's printer (``alloy fmt``) writes only in whitespace.

``tests/alloy/alloy_parser.py`` reads the files for structural assertions; this is the check that the real
grammar agrees. The full Alloy program (which could also type-check component arguments) cannot be built
as a tool dependency: see docs/DEVELOPING.md.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.alloy.test_construct import AlloyObjects
from tests.stack import Stack, scenario_stack
from tests.tools import require_tool

#: name -> AlloyObjects arguments: the pipelines and settings that change what the file contains
VARIANTS: dict[str, dict[str, object]] = {
    "logs-only": {"metrics": False, "traces": False},
    "metrics-only": {"logs": False, "traces": False},
    "traces-only": {"logs": False, "metrics": False},
    "no-tls-probe": {"vault": {"tls": {"enabled": False}}},
    "settings": {
        "settings": {
            "collect_journal": False,
            "varlog_globs": ["/var/log/kern.log"],
            "scrape_interval_seconds": 15,
            "otlp_clients": [{"name": "apps", "namespace_labels": {"team": "apps"}}],
        }
    },
}


@pytest.fixture(scope="module")
def configs(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    directory = tmp_path_factory.mktemp("alloy")
    texts = {"default": stack.config_data("alloy-config")["config.alloy"]}
    for name, arguments in VARIANTS.items():
        texts[name] = AlloyObjects(**arguments).config_text  # type: ignore[arg-type]
    # an external Loki with tenant, basic_auth and a private CA (the only nested blocks of loki.write)
    texts["external-loki-tls"] = scenario_stack("external-loki-tls").config_data("alloy-config")[
        "config.alloy"
    ]
    # an external Prometheus with basic_auth and a private CA (nested in prometheus.remote_write's endpoint)
    texts["external-prometheus-tls"] = scenario_stack("external-prometheus-tls").config_data("alloy-config")[
        "config.alloy"
    ]
    assert len(set(texts.values())) == len(texts), "every variant renders a different file"
    paths = []
    for name, text in texts.items():
        path = directory / f"{name}.alloy"
        path.write_text(text)
        paths.append(path)
    return paths


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("alloy-syntax"), *args], capture_output=True, text=True, check=False, timeout=60
    )


def test_every_rendered_config_parses(configs: list[Path]) -> None:
    result = _run(*map(str, configs))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("index", range(1 + len(VARIANTS)))
def test_layout_differs_from_alloy_fmt_only_in_whitespace(configs: list[Path], index: int) -> None:
    path = configs[index]
    result = _run("-fmt", str(path))
    assert result.returncode == 0, result.stderr
    ours, theirs = path.read_text(), result.stdout
    assert re.sub(r"\s+", "", ours) == re.sub(r"\s+", "", theirs)


def test_the_parser_rejects_what_alloy_rejects(tmp_path: Path) -> None:
    broken = tmp_path / "broken.alloy"
    broken.write_text('loki.write "default" {\n  endpoint {\n    url = \n  }\n}\n')
    result = _run(str(broken))
    assert result.returncode == 1
    assert "broken.alloy:4:3: expected expression" in result.stderr
