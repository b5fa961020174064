"""The README's settings example is valid and does what it says (docs must not drift from the code)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.stack import synth_stack

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
