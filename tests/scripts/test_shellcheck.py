"""The operator scripts and the RUNBOOK's commands pass shellcheck; the RUNBOOK uses real options."""

from __future__ import annotations

import re
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.scripts.conftest import REPO, SCRIPTS
from tests.tools import require_tool

RUNBOOK = REPO / "docs" / "RUNBOOK.md"
PROCEDURES = (
    "Initialise",
    "Unseal",
    "Rotate unseal or recovery keys",
    "Renew the Vault TLS certificate",
    "Back up",
    "Restore a snapshot",
    "Upgrade Vault",
    "Scale to HA",
    "Remove the stack and keep the data",
)


def procedures_section() -> str:
    text = RUNBOOK.read_text()
    start = text.index("\n## Procedures\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def bash_blocks(markdown: str) -> list[str]:
    """Every fenced ```bash block, dedented (blocks inside list items are indented)."""
    pattern = re.compile(r"^([ \t]*)```bash\n(.*?)^\1```[ \t]*$", re.M | re.S)
    return [textwrap.dedent(m.group(2)) for m in pattern.finditer(markdown)]


@pytest.mark.parametrize("script", ["init-vault.sh", "backup.sh", "kube-api-cidrs.sh", "lib/common.sh"])
def test_script_is_shellcheck_clean(script: str, tmp_path: Path) -> None:
    """With -x shellcheck follows `source .../lib/common.sh` (its functions and globals count); run from
    elsewhere, since the source directive must resolve from the script's directory, not the working one.
    A lib it cannot follow is SC1091, which fails this too."""
    shellcheck = require_tool("shellcheck")
    result = subprocess.run(
        [shellcheck, "-x", SCRIPTS / script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", ["init-vault.sh", "backup.sh", "kube-api-cidrs.sh"])
def test_script_is_strict_and_executable(script: str) -> None:
    path = SCRIPTS / script
    lines = path.read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines[:10]
    assert path.stat().st_mode & 0o111, f"{script} is not executable"


def test_runbook_has_every_procedure() -> None:
    section = procedures_section()
    headings = re.findall(r"^### (.+)$", section, re.M)
    assert headings == list(PROCEDURES)
    assert "<!-- procedures" not in section


def test_runbook_procedure_commands_pass_shellcheck() -> None:
    shellcheck = require_tool("shellcheck")
    blocks = bash_blocks(procedures_section())
    assert len(blocks) >= 10
    script = "#!/usr/bin/env bash\n" + "\n".join(blocks)
    # SC2016: the single-quoted '... "$(cat)" ... "$@"' is expanded by the shell in the pod, on purpose
    result = subprocess.run(
        [shellcheck, "-s", "bash", "-e", "SC2016", "-"],
        input=script,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", ["init-vault.sh", "backup.sh"])
def test_runbook_uses_only_options_the_scripts_have(script: str) -> None:
    section = procedures_section()
    help_text = subprocess.run(
        ["bash", SCRIPTS / script, "--help"], capture_output=True, text=True, check=True
    ).stdout
    used = set()
    for line in re.findall(rf"scripts/{re.escape(script)}([^`\n]*)", section):
        used.update(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", line))
    assert used, f"the procedures never call {script}"
    for option in used:
        assert re.search(rf"(?<![\w-]){option}\b", help_text), (
            f"RUNBOOK uses {script} {option}: no such option"
        )


def test_runbook_never_puts_a_token_or_key_on_a_command_line() -> None:
    section = procedures_section()
    for block in bash_blocks(section):
        assert "VAULT_TOKEN=" not in block.replace('VAULT_TOKEN="$(cat)"', "")
        assert not re.search(r"vault (operator unseal|login) +[A-Za-z0-9+/$]", block)
        assert not re.search(r"--from-literal", block)
