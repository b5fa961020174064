"""What the default synth loads: the code it needs, not the code of tools, tests or unused options.

Import time is about a third of a synth's cost (docs/PERFORMANCE.md). These modules are heavy and have no
business on the default path: grafana-foundation-sdk (the built-in dashboards are read from their rendered
JSON), jsonschema (tests and tools validate with it), ``vault-aio verify`` and the analysis/diagram code,
and the custom-resource models of the operator integrations (only when settings ask for them).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def loaded_modules(code: str) -> list[str]:
    """The modules a fresh Python process has loaded after running ``code`` (no environment of ours)."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
    ).stdout
    modules: list[str] = json.loads(out.splitlines()[-1])
    return modules


#: Module prefixes the default synth must not import.
NOT_ON_THE_DEFAULT_PATH = (
    "grafana_foundation_sdk",
    "jsonschema",
    "kubernetes_validate",
    "vaultaio_constructs.analysis",
    "vaultaio_constructs.crd",
    "vaultaio_constructs.grafana.dashboards.common",
    "vaultaio_constructs.integrations.prometheus_operator",
    "vaultaio_constructs.verify",
)


def test_the_default_synth_imports_no_tool_test_or_unused_option_code() -> None:
    loaded = loaded_modules("from vaultaio_constructs.output import build, render\nrender(build()[1])")
    assert "vaultaio_constructs.chart" in loaded  # the probe did build the stack
    unexpected = [m for m in loaded if m.startswith(NOT_ON_THE_DEFAULT_PATH)]
    assert unexpected == []


def test_the_settings_import_and_validate_without_jsii() -> None:
    # app.py imports the settings while the jsii runtime starts in another thread: one jsii import among
    # them would wait for Node (and hold the import lock the thread needs) and the overlap would be lost.
    loaded = loaded_modules("from vaultaio_constructs.settings import parse_settings\nparse_settings({})")
    assert "vaultaio_constructs.settings" in loaded and "pydantic" in loaded  # the probe did validate
    jsii = [m for m in loaded if m.split(".")[0] in ("jsii", "cdk8s", "cdk8s_plus_27", "constructs")]
    assert jsii == []
    own = [m for m in loaded if m in ("vaultaio_constructs.kube", "vaultaio_constructs.component")]
    assert own == []
