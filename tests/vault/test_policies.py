"""Policies render to HCL that parses back to the model and grant what each role needs, and no more."""

from __future__ import annotations

import json
import re

import pytest

from vaultaio_constructs.vault.policies import (
    GENERATED_HEADER,
    Capability,
    PathRule,
    Policy,
    backup_policy,
    default_policies,
    render_policies,
)

WRITE = {Capability.CREATE, Capability.UPDATE, Capability.PATCH, Capability.DELETE}

_COMMENT = re.compile(r"^# [^\n]*$")
_OPEN = re.compile(r'^path "([^"\s]+)" \{$')
_CAPS = re.compile(r"^  capabilities = (\[.*\])$")


def parse_policy_hcl(text: str) -> dict[str, list[str]]:
    """A strict parser for the subset of HCL our policies use (comments, path blocks, capability lists).

    There is no vault binary here; this rejects anything outside the grammar Vault documents for ACL
    policies: ``path "<glob>" { capabilities = ["..."] }``, balanced braces, one block per path.
    """
    rules: dict[str, list[str]] = {}
    lines = text.split("\n")
    assert lines[-1] == "", "file must end with a newline"
    i = 0
    while i < len(lines) - 1:
        line = lines[i]
        if line == "" or _COMMENT.match(line):
            i += 1
            continue
        opened = _OPEN.match(line)
        assert opened, f"line {i + 1}: expected a comment or 'path \"...\" {{', got {line!r}"
        caps = _CAPS.match(lines[i + 1])
        assert caps, f"line {i + 2}: expected 'capabilities = [...]', got {lines[i + 1]!r}"
        assert lines[i + 2] == "}", f"line {i + 3}: expected '}}', got {lines[i + 2]!r}"
        values = json.loads(caps.group(1))
        assert isinstance(values, list) and values and all(isinstance(v, str) for v in values)
        assert opened.group(1) not in rules, f"path {opened.group(1)!r} appears twice"
        rules[opened.group(1)] = values
        i += 3
    assert text.count("{") == text.count("}")
    return rules


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return render_policies(default_policies())


@pytest.fixture(scope="module")
def parsed(rendered: dict[str, str]) -> dict[str, dict[str, list[str]]]:
    return {name.removesuffix(".hcl"): parse_policy_hcl(text) for name, text in rendered.items()}


def test_the_stack_policies_are_exactly_these(rendered: dict[str, str]) -> None:
    assert list(rendered) == [
        "admin.hcl",
        "backup.hcl",
        "operator.hcl",
        "pki-issuer.hcl",
        "prometheus-metrics.hcl",
    ]


def test_every_policy_parses_back_to_its_model(parsed: dict[str, dict[str, list[str]]]) -> None:
    for policy in default_policies():
        expected = {rule.path: list(rule.sorted_capabilities()) for rule in policy.rules}
        assert parsed[policy.name] == expected
        for caps in parsed[policy.name].values():
            assert set(caps) <= {c.value for c in Capability}


def test_rendering_starts_with_the_generated_header(rendered: dict[str, str]) -> None:
    for text in rendered.values():
        assert text.startswith(GENERATED_HEADER + "\n")


def test_backup_can_only_take_snapshots(parsed: dict[str, dict[str, list[str]]]) -> None:
    assert parsed["backup"] == {"sys/storage/raft/snapshot": ["read"]}


def test_prometheus_metrics_reads_and_lists_sys_metrics(parsed: dict[str, dict[str, list[str]]]) -> None:
    assert parsed["prometheus-metrics"] == {"sys/metrics": ["read", "list"]}


def test_pki_issuer_issues_from_its_role_and_reads_the_ca(parsed: dict[str, dict[str, list[str]]]) -> None:
    rules = parsed["pki-issuer"]
    assert rules["pki/issue/vault-aio"] == ["update"]
    assert rules["pki/cert/ca"] == ["read"]
    assert not any(p.endswith("*") for p in rules), "no globs: one role only"


def test_pki_role_and_mount_are_settings() -> None:
    rules = parse_policy_hcl(
        render_policies(default_policies(pki_role="web", pki_mount="pki-int"))["pki-issuer.hcl"]
    )
    assert rules["pki-int/issue/web"] == ["update"]


def test_operator_is_read_only(parsed: dict[str, dict[str, list[str]]]) -> None:
    rules = parsed["operator"]
    for path in ("sys/health", "sys/metrics", "sys/storage/raft/snapshot", "sys/leader", "sys/seal-status"):
        assert "read" in rules[path]
    assert "read" in rules["sys/storage/raft/configuration"]
    for path, caps in rules.items():
        assert not set(caps) & {c.value for c in WRITE}, f"operator may write {path}: {caps}"


def test_admin_is_broad_but_explicit(parsed: dict[str, dict[str, list[str]]]) -> None:
    rules = parsed["admin"]
    assert "*" not in rules and "sys/*" not in rules, "no blanket wildcard"
    assert "sudo" in rules["sys/audit/*"], "enabling audit devices is root-protected"
    assert "sudo" in rules["sys/auth/*"]
    assert {"create", "update", "delete"} <= set(rules["sys/policies/acl/*"])
    assert "update" in rules["sys/storage/raft/*"], "restoring a snapshot"


def test_rendering_is_independent_of_rule_order() -> None:
    rules = (*backup_policy().rules, PathRule(path="sys/health", capabilities=frozenset({Capability.READ})))
    forward = Policy(name="p", description="d", rules=rules).to_hcl()
    backward = Policy(name="p", description="d", rules=tuple(reversed(rules))).to_hcl()
    assert forward == backward
    assert forward.index('"sys/health"') < forward.index('"sys/storage/raft/snapshot"')


def test_capabilities_render_in_canonical_order() -> None:
    rule = PathRule(
        path="kv/*", capabilities=frozenset({Capability.LIST, Capability.CREATE, Capability.SUDO})
    )
    assert rule.sorted_capabilities() == ("create", "list", "sudo")


@pytest.mark.parametrize(
    "path", ["sys/health", "secret/data/*", "secret/+/config", "kv/", "auth/token/lookup-self"]
)
def test_valid_paths(path: str) -> None:
    assert PathRule(path=path, capabilities=frozenset({Capability.READ})).path == path


# --- validation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/sys/health", 'sys/"x"', "sys/ health", "", "sys//health", "sys/*/x"])
def test_fails_bad_path(path: str) -> None:
    with pytest.raises(ValueError, match=r"'path' must be a Vault API path"):
        PathRule(path=path, capabilities=frozenset({Capability.READ}))


def test_fails_empty_capabilities() -> None:
    with pytest.raises(ValueError, match=r"'capabilities' of path 'sys/health' must not be empty"):
        PathRule(path="sys/health", capabilities=frozenset())


def test_fails_deny_with_others() -> None:
    with pytest.raises(
        ValueError, match=r"combine 'deny' with others \(read, deny\): deny overrides everything"
    ):
        PathRule(path="secret/*", capabilities=frozenset({Capability.DENY, Capability.READ}))


def test_fails_capability_not_an_enum() -> None:
    with pytest.raises(ValueError, match=r"must be Capability values, got 'write'"):
        PathRule(path="secret/*", capabilities=frozenset({"write"}))  # type: ignore[arg-type]


def test_fails_multiline_comment() -> None:
    with pytest.raises(ValueError, match=r"'comment' of path 'sys/health' must be one line"):
        PathRule(path="sys/health", capabilities=frozenset({Capability.READ}), comment="a\nb")


@pytest.mark.parametrize("name", ["Admin", "-x", "a b", "x" * 129])
def test_fails_bad_policy_name(name: str) -> None:
    with pytest.raises(ValueError, match=r"'name' must be lowercase letters"):
        Policy(name=name, description="d", rules=backup_policy().rules)


@pytest.mark.parametrize("name", ["root", "default"])
def test_fails_builtin_policy_name(name: str) -> None:
    with pytest.raises(ValueError, match=rf"'name' '{name}' is built into Vault"):
        Policy(name=name, description="d", rules=backup_policy().rules)


def test_fails_policy_without_rules() -> None:
    with pytest.raises(ValueError, match=r"policy 'p' needs at least one rule"):
        Policy(name="p", description="d", rules=())


def test_fails_duplicate_path() -> None:
    rule = PathRule(path="sys/health", capabilities=frozenset({Capability.READ}))
    with pytest.raises(ValueError, match=r"policy 'p' lists path\(s\) more than once: \['sys/health'\]"):
        Policy(name="p", description="d", rules=(rule, rule))


def test_fails_multiline_description() -> None:
    with pytest.raises(ValueError, match=r"'description' of policy 'p' must be one line"):
        Policy(name="p", description="a\nb", rules=backup_policy().rules)


def test_fails_duplicate_policy() -> None:
    with pytest.raises(ValueError, match=r"policy 'backup' is declared more than once"):
        render_policies((backup_policy(), backup_policy()))


def test_fails_bad_pki_role() -> None:
    with pytest.raises(ValueError, match=r"'path' must be a Vault API path"):
        default_policies(pki_role="my role")
