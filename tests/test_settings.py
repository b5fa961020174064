"""The settings file: defaults, overrides, and clear errors that name the key, value and accepted values."""

from __future__ import annotations

from pathlib import Path

import cdk8s
import pytest
from pydantic import ValidationError

from tests.stack import synth_stack
from vaultaio_constructs.alloy.props import OtlpClientsProps
from vaultaio_constructs.common import Resources
from vaultaio_constructs.component import StackChart
from vaultaio_constructs.network_props import IngressControllerProps, KubeApiProps, NetworkProps
from vaultaio_constructs.profiles import Profile
from vaultaio_constructs.settings import (
    SettingsError,
    VaultAioProps,
    load_settings,
    locate_settings,
    parse_settings,
    read_settings,
    validate_settings_value,
)
from vaultaio_constructs.vault.props import VaultProps, VaultTlsProps
from vaultaio_constructs.vault.seals import Seal


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
    assert {o["metadata"]["namespace"] for o in namespaced} == {"secrets", "secrets-node"}
    assert {o["metadata"]["name"] for o in stack.all("Namespace")} == {"secrets", "secrets-node"}
    assert stack.get("DaemonSet", "alloy")["metadata"]["namespace"] == "secrets-node"


def test_node_namespace_is_a_setting(tmp_path: Path) -> None:
    stack = synth_stack({"node_namespace": "node-agents"})
    assert stack.get("DaemonSet", "chrony")["metadata"]["namespace"] == "node-agents"
    labels = stack.get("Namespace", "node-agents")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"


def test_node_agents_may_not_share_the_main_namespace() -> None:
    """Review finding 2: with node_namespace equal to namespace (one namespace, as before issue 12) the
    labels follow the agents, and the namespace of Vault, its TLS key and its volumes admitted privileged
    and hostPath pods without a word. Refused now, naming both keys and why; README "Security" promises a
    restricted main namespace without conditions."""
    with pytest.raises(
        SettingsError,
        match=r"node_namespace \('vault-aio'\) is the same as namespace: the node agents \(Alloy, Chrony\) "
        r"need Pod Security 'privileged'.* the main namespace, with Vault, .* must stay 'restricted'; give "
        r"node_namespace a namespace of its own \(default: vault-aio-node\)",
    ):
        parse_settings({"node_namespace": "vault-aio"})
    with pytest.raises(SettingsError, match=r"node_namespace \('secrets'\) is the same as namespace"):
        parse_settings({"namespace": "secrets", "node_namespace": "secrets"})
    with pytest.raises(ValueError, match=r"node_namespace \('ns'\) is the same as namespace"):
        StackChart(cdk8s.App(), "test", namespace="ns", node_namespace="ns")


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


def test_locate_reports_where_settings_come_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAULTAIO_SETTINGS", raising=False)
    assert str(locate_settings(base_dir=tmp_path)) == "defaults (no settings file)"
    (tmp_path / "vaultaio.yaml").write_text("instance: blue\n")
    source = locate_settings(base_dir=tmp_path)
    assert source.path == tmp_path / "vaultaio.yaml"
    assert str(source) == f"{tmp_path / 'vaultaio.yaml'} (from vaultaio.yaml beside app.py)"
    monkeypatch.setenv("VAULTAIO_SETTINGS", str(tmp_path / "vaultaio.yaml"))
    assert str(locate_settings(base_dir=tmp_path)).endswith("(from VAULTAIO_SETTINGS)")


@pytest.mark.parametrize("name", ["vaultaio.yml", "vault-aio.yaml", "Vaultaio.yaml", "vaultaio.yaml.yaml"])
def test_near_miss_file_name_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.delenv("VAULTAIO_SETTINGS", raising=False)
    (tmp_path / name).write_text("namespace: other\n")
    (tmp_path / "unrelated.yaml").write_text("a: 1\n")
    (tmp_path / "vaultaio.schema.json").write_text("{}\n")  # the clone's settings schema is no near miss
    source = locate_settings(base_dir=tmp_path)
    assert source.path is None
    assert len(source.warnings) == 1
    assert f"{tmp_path / name} is not read" in source.warnings[0]


def test_fails_directory_as_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULTAIO_SETTINGS", str(tmp_path))
    with pytest.raises(SettingsError, match=r"\(from VAULTAIO_SETTINGS\) is a directory: name a YAML file"):
        load_settings(base_dir=tmp_path)


def test_fails_non_utf8_file_names_the_file(tmp_path: Path) -> None:
    f = tmp_path / "latin1.yaml"
    f.write_bytes("namespace: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SettingsError, match=rf"cannot read settings file {f}: not UTF-8 text \(byte 0xe9"):
        load_settings(f)


def test_empty_file_gives_the_defaults_with_a_warning(tmp_path: Path) -> None:
    f = tmp_path / "empty.yaml"
    f.write_text("# nothing set yet\n")
    props, source = read_settings(locate_settings(f))
    assert props == VaultAioProps()
    assert source.warnings == (f"settings file {f} is empty: using the defaults",)


def test_yaml_errors_give_line_and_column(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("namespace: ok\nvault:\n  replicas: [3\n")
    with pytest.raises(SettingsError, match=rf"invalid settings in {f}: not valid YAML at line 4, column 1"):
        load_settings(f)


def test_bad_value_is_shown_once() -> None:
    with pytest.raises(SettingsError) as err:
        parse_settings({"namespace": "Vault_AIO"})
    assert str(err.value).count("Vault_AIO") == 1


def test_empty_list_is_explained_in_operator_words() -> None:
    with pytest.raises(SettingsError) as err:
        parse_settings({"network": {"kube_api": {"cidrs": []}}})
    message = str(err.value)
    assert "network.kube_api.cidrs: needs at least 1 entry, got 0" in message
    assert "Tuple" not in message and "item" not in message


def test_wrong_shape_is_explained_in_operator_words() -> None:
    with pytest.raises(SettingsError) as err:
        parse_settings({"vault": "yes", "network": {"kube_api": {"ports": 443}}})
    message = str(err.value)
    assert "vault: should be a mapping of settings (key: value) (got 'yes')" in message
    assert "network.kube_api.ports: should be a list (got 443)" in message


# -- strict types and duplicate keys (issue 14, item 13) ---------------------------------------------------


def test_fails_duplicate_key_naming_key_and_lines(tmp_path: Path) -> None:
    f = tmp_path / "dup.yaml"
    f.write_text("vault:\n  tls:\n    enabled: true\n  replicas: 3\n  tls:\n    enabled: false\n")
    with pytest.raises(SettingsError, match=r"duplicate key 'tls' on line 5 \(first on line 2\)"):
        load_settings(f)


def test_yaml_merge_keys_may_override(tmp_path: Path) -> None:
    f = tmp_path / "merge.yaml"
    f.write_text(
        "vault:\n  resources:\n"
        "    <<: {cpu_request_millicores: 50, memory_request_mib: 64, memory_limit_mib: 128}\n"
        "    memory_limit_mib: 256\n"
    )
    assert load_settings(f).vault.resources == Resources(
        cpu_request_millicores=50, memory_request_mib=64, memory_limit_mib=256
    )


def test_settings_file_takes_lists_and_enum_names() -> None:
    props = parse_settings({"profile": "production", "network": {"kube_api": {"cidrs": ["10.0.0.1/32"]}}})
    assert props.profile is Profile.PRODUCTION
    assert props.network.kube_api.cidrs == ("10.0.0.1/32",)


def test_python_api_is_strict_too() -> None:
    """Python callers get exactly the annotated types (what mypy checks): no coercion either."""
    with pytest.raises(ValidationError, match=r"enabled\n  Input should be a valid boolean"):
        VaultTlsProps(enabled="no")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"replicas\n  Input should be a valid integer"):
        VaultProps(replicas="3")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"cidrs\n  Input should be a valid tuple"):
        KubeApiProps(cidrs=["10.0.0.1/32"])  # type: ignore[arg-type]
    assert VaultProps(replicas=3, tls=VaultTlsProps(enabled=False)).replicas == 3


def test_sub_settings_validate_like_the_file() -> None:
    refused = {"type": "transit", "address": "https://unseal.example.com", "disable_renewal": "yes"}
    with pytest.raises(
        SettingsError, match=r"transit\.disable_renewal: Input should be true or false without"
    ):
        validate_settings_value(Seal, refused)


# -- empty selectors (issue 14, item 4) --------------------------------------------------------------------


def test_python_api_refuses_empty_selectors() -> None:
    with pytest.raises(ValidationError, match=r"namespace_labels\n  Value error, an empty selector matches"):
        IngressControllerProps(namespace_labels={})
    with pytest.raises(ValidationError, match=r"pod_labels\n  Value error, an empty selector matches"):
        OtlpClientsProps(name="apps", namespace_labels={"team": "apps"}, pod_labels={})


def test_policies_refuse_an_empty_namespace_selector_that_skipped_validation() -> None:
    controller = IngressControllerProps()
    object.__setattr__(controller, "namespace_labels", {})  # as if built around pydantic
    props = VaultAioProps(network=NetworkProps(ingress_controller=controller))
    with pytest.raises(ValueError, match=r"allow-vault-from-ingress-controller|allow-alloy-from-ingress"):
        synth_stack(props)
