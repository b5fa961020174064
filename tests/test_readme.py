"""The README's settings example is valid and does what it says (docs must not drift from the code)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.stack import synth_stack
from vaultaio_constructs.output import kustomization, to_yaml

README = Path(__file__).resolve().parent.parent / "README.md"


def _settings_example() -> dict[str, object]:
    section = README.read_text().split("### A settings file", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block, "README has no yaml block under 'A settings file'"
    data = yaml.safe_load(block.group(1))
    assert isinstance(data, dict)
    return data


def test_readme_settings_example_synthesizes_as_described() -> None:
    stack = synth_stack(_settings_example())
    assert stack.get("StatefulSet", "vault")["spec"]["replicas"] == 3
    assert stack.has("PodDisruptionBudget", "vault")
    assert stack.has("Ingress", "vault")
    assert stack.has("CronJob", "vault-backup")
    policies = {o["metadata"]["name"] for o in stack.all("NetworkPolicy")}
    assert {"allow-alertmanager-to-ops", "allow-chrony-to-corp-ntp"} <= policies
    kms = [
        p
        for p in policies
        if p.startswith("allow-vault-to-") and "vault" not in p.removeprefix("allow-vault-to-")
    ]
    assert any("52.94.0.0/16" in str(stack.get("NetworkPolicy", p)) for p in kms)


def test_readme_composition_example_synthesizes_as_described() -> None:
    section = README.read_text().split("### Leaving components out, or using ones you already run", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block, "README has no yaml block under 'Leaving components out'"
    stack = synth_stack(yaml.safe_load(block.group(1)))
    assert not {"loki", "prometheus"} & {o["metadata"]["name"] for o in stack.all("StatefulSet")}
    alloy = stack.config_data("alloy-config")["config.alloy"]
    assert "http://loki-gateway.logging.svc/loki/api/v1/push" in alloy
    assert "https://mimir.example.com/api/v1/push" in alloy
    datasources = stack.config_data("grafana-provisioning")["datasources.yaml"]
    assert "url: https://mimir.example.com/prometheus" in datasources
    assert "8080" in str(stack.get("NetworkPolicy", "allow-alloy-to-loki")["spec"])


def _import_snippets() -> list[str]:
    section = README.read_text().split("### Importing the constructs into another cdk8s app", 1)[1]
    section = section.split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_readme_import_snippets_write_the_make_synth_layout(tmp_path: Path) -> None:
    """Both ways the README shows of getting `make synth`'s layout from an own app do, file for file."""
    snippets = _import_snippets()
    assert len(snippets) == 2, "README shows synth() and render()/write()"
    runner = "\n".join(
        f"os.makedirs({str(tmp_path / str(i))!r}); os.chdir({str(tmp_path / str(i))!r})\n"
        f"exec(compile({snippet!r}, 'README snippet {i}', 'exec'), {{}})"
        for i, snippet in enumerate(snippets)
    )
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    result = subprocess.run(
        [sys.executable, "-c", f"import os\n{runner}"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    for i, settings in enumerate(
        ({"namespace": "secrets", "vault": {"replicas": 3}}, {"namespace": "secrets"})
    ):
        stack = synth_stack(settings)
        expected = {m.path: to_yaml(m.body) for m in stack.manifests}
        expected["kustomization.yaml"] = to_yaml(kustomization(stack.manifests))
        written = _tree(tmp_path / str(i) / "dist")
        assert sorted(written) == sorted(expected), f"snippet {i + 1} wrote another layout"
        assert written == expected, f"snippet {i + 1} wrote other objects than the stack of {settings}"
        assert "setup/namespace-secrets.yaml" in written
    replicas = yaml.safe_load((tmp_path / "0" / "dist" / "vault" / "statefulset-vault.yaml").read_text())
    assert replicas["spec"]["replicas"] == 3


def test_readme_vault_clients_example_opens_the_api_port_only() -> None:
    section = README.read_text().split("### Letting applications reach Vault", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block, "README has no yaml block under 'Letting applications reach Vault'"
    stack = synth_stack(yaml.safe_load(block.group(1)))
    for name, namespace in (("shop", "shop"), ("external-secrets", "external-secrets")):
        spec = stack.get("NetworkPolicy", f"allow-vault-from-{name}")["spec"]
        assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "vault"
        (rule,) = spec["ingress"]
        assert [p["port"] for p in rule["ports"]] == [8200]
        (peer,) = rule["from"]
        assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": namespace}
