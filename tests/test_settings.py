"""The settings file: defaults, overrides, and clear errors that name the key, value and accepted values."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stack import synth_stack
from vaultaio_constructs.profiles import Profile
from vaultaio_constructs.settings import SettingsError, VaultAioProps, load_settings, parse_settings


def test_no_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAULTAIO_SETTINGS", raising=False)
    assert load_settings(base_dir=tmp_path) == VaultAioProps()


def test_file_beside_app_overrides_namespace_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VAULTAIO_SETTINGS", raising=False)
    (tmp_path / "vaultaio.yaml").write_text("namespace: secrets\nprofile: production\n")
    props = load_settings(base_dir=tmp_path)
    assert props.namespace == "secrets" and props.profile is Profile.PRODUCTION
    stack = synth_stack(props)
    namespaced = [o for o in stack.objects if o["kind"] != "Namespace"]
    assert {o["metadata"]["namespace"] for o in namespaced} == {"secrets"}
    assert stack.get("Namespace", "secrets")


def test_env_variable_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "other.yaml"
    f.write_text("instance: blue\n")
    monkeypatch.setenv("VAULTAIO_SETTINGS", str(f))
    assert load_settings(base_dir=tmp_path).instance == "blue"


def test_fails_missing_explicit_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULTAIO_SETTINGS", str(tmp_path / "nope.yaml"))
    with pytest.raises(SettingsError, match=r"nope.yaml \(from VAULTAIO_SETTINGS\) does not exist"):
        load_settings(base_dir=tmp_path)


def test_fails_unknown_key_lists_accepted_keys() -> None:
    with pytest.raises(
        SettingsError, match=r"namepsace: unknown setting; accepted keys: namespace, node_namespace, instance"
    ):
        parse_settings({"namepsace": "x"})


def test_fails_unknown_nested_key() -> None:
    with pytest.raises(
        SettingsError, match=r"network\.dns\.nmespace: unknown setting; accepted keys: namespace"
    ):
        parse_settings({"network": {"dns": {"nmespace": "x"}}})


def test_fails_wrong_type() -> None:
    with pytest.raises(SettingsError, match=r"vault\.resources\.memory_request_mib: .*valid integer.*'lots'"):
        parse_settings(
            {
                "vault": {
                    "resources": {
                        "cpu_request_millicores": 1,
                        "memory_request_mib": "lots",
                        "memory_limit_mib": 1,
                    }
                }
            }
        )


def test_fails_negative_size() -> None:
    with pytest.raises(
        SettingsError, match=r"loki\.resources\.cpu_request_millicores: .*greater than or equal to 1"
    ):
        parse_settings(
            {
                "loki": {
                    "resources": {
                        "cpu_request_millicores": -5,
                        "memory_request_mib": 1,
                        "memory_limit_mib": 1,
                    }
                }
            }
        )


def test_fails_limit_below_request() -> None:
    with pytest.raises(
        SettingsError, match=r"'memory_limit_mib' \(64\) must be >= 'memory_request_mib' \(128\)"
    ):
        parse_settings(
            {
                "grafana": {
                    "resources": {
                        "cpu_request_millicores": 1,
                        "memory_request_mib": 128,
                        "memory_limit_mib": 64,
                    }
                }
            }
        )


def test_fails_invalid_namespace_name() -> None:
    with pytest.raises(SettingsError, match=r"namespace: 'Vault_AIO' is not a valid name"):
        parse_settings({"namespace": "Vault_AIO"})


def test_fails_floating_image_tag() -> None:
    with pytest.raises(SettingsError, match=r"vault\.image_tag: 'latest' is not an exact version tag"):
        parse_settings({"vault": {"image_tag": "latest"}})


def test_fails_unknown_profile_lists_choices() -> None:
    with pytest.raises(SettingsError, match=r"profile: Input should be 'small' or 'production'"):
        parse_settings({"profile": "huge"})


def test_fails_invalid_cidr() -> None:
    with pytest.raises(
        SettingsError, match=r"network\.kube_api\.cidrs\.0: '10\.0\.0\.300/8' is not a valid CIDR"
    ):
        parse_settings({"network": {"kube_api": {"cidrs": ["10.0.0.300/8"]}}})


def test_fails_port_out_of_range() -> None:
    with pytest.raises(SettingsError, match=r"network\.dns\.port: .*less than or equal to 65535"):
        parse_settings({"network": {"dns": {"port": 70000}}})


def test_fails_top_level_not_a_mapping() -> None:
    with pytest.raises(SettingsError, match=r"top level must be a mapping, got list"):
        parse_settings(["namespace"])  # type: ignore[arg-type]


def test_fails_invalid_yaml(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("namespace: [unclosed\n")
    with pytest.raises(SettingsError, match=r"not valid YAML"):
        load_settings(f)
