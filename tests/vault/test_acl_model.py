"""The model of Vault's ACL and token-creation rules (tests/vault/acl_model.py) on the stack's own policies.

The model must be able to refuse what Vault refuses, or the checks built on it (the RUNBOOK's token commands,
tests/scripts/test_init_vault.py) prove nothing: each rule is shown refusing as well as allowing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.vault.acl_model import ALL, Acl, TokenRole, VaultRefused, token_create
from vaultaio_constructs.vault.policies import Capability, PathRule, Policy, admin_policy, default_policies

POLICIES = {p.name: p for p in default_policies()}
ADMIN = {"admin", "default"}
OPERATOR_ROLE = {
    "operator": TokenRole.from_params("operator", {"allowed_policies": "operator", "orphan": "true"})
}


def test_admin_cannot_give_out_a_policy_it_does_not_hold() -> None:
    """Review finding 4, as Vault answers it: admin has no sudo on auth/token/create."""
    with pytest.raises(VaultRefused, match="child policies must be subset of parent"):
        token_create(ADMIN, "-policy=operator -format=json", POLICIES)
    assert token_create(ADMIN, "-policy=admin", POLICIES).policies == ADMIN


def test_admin_makes_periodic_tokens_only_through_a_role() -> None:
    with pytest.raises(VaultRefused, match="root or sudo privileges required to create periodic token"):
        token_create(ADMIN, "-policy=admin -period=24h", POLICIES)
    assert token_create({"root"}, "-policy=admin -period=24h", POLICIES).policies == ADMIN


def test_a_role_with_allowed_policies_decides_instead_of_the_parent() -> None:
    token = token_create(ADMIN, "-role=operator -field=token", POLICIES, OPERATOR_ROLE)
    assert token == token_create({"root"}, "-role=operator", POLICIES, OPERATOR_ROLE)
    assert token.policies == {"operator", "default"} and token.orphan
    with pytest.raises(VaultRefused, match="must be subset of the role's allowed policies"):
        token_create(ADMIN, "-role=operator -policy=admin", POLICIES, OPERATOR_ROLE)
    with pytest.raises(VaultRefused, match="unknown role"):
        token_create(ADMIN, "-role=operator", POLICIES, {})


def test_tokens_without_update_on_the_create_path_make_none() -> None:
    for holder in ({"operator", "default"}, {"backup", "default"}, {"pki-issuer", "default"}):
        with pytest.raises(VaultRefused, match=r"permission denied \(auth/token/create/operator\)"):
            token_create(holder, "-role=operator", POLICIES, OPERATOR_ROLE)
        with pytest.raises(VaultRefused, match=r"permission denied \(auth/token/create\)"):
            token_create(holder, "-policy=default", POLICIES)


def test_only_root_makes_root_tokens() -> None:
    sudo = Policy(
        name="sudo-tokens",
        description="t",
        rules=(
            PathRule(path="auth/token/create", capabilities=frozenset({Capability.UPDATE, Capability.SUDO})),
        ),
    )
    policies = {**POLICIES, sudo.name: sudo}
    assert token_create({"sudo-tokens"}, "-policy=operator -period=1h", policies).policies == {
        "operator",
        "default",
    }
    with pytest.raises(VaultRefused, match="root tokens may not be created without parent token being root"):
        token_create({"sudo-tokens"}, "-policy=root", policies)


def test_acl_prefers_the_exact_path_then_the_most_specific_glob() -> None:
    rules = (
        PathRule(path="secret/*", capabilities=frozenset({Capability.READ})),
        PathRule(path="secret/team/*", capabilities=frozenset({Capability.UPDATE})),
        PathRule(path="secret/team/+/config", capabilities=frozenset({Capability.LIST})),
        PathRule(path="secret/team/x", capabilities=frozenset({Capability.DENY})),
    )
    acl = Acl.of(["t"], {"t": Policy(name="t", description="t", rules=rules)})
    assert acl.capabilities("secret/a") == {Capability.READ}
    assert acl.capabilities("secret/team/a") == {Capability.UPDATE}
    assert acl.capabilities("secret/team/a/config") == {Capability.LIST}  # a later first wildcard wins
    assert acl.capabilities("secret/team/x") == frozenset()  # exact deny
    assert acl.capabilities("other") == frozenset()


def test_policies_add_up_and_deny_wins() -> None:
    one = Policy(
        name="one", description="t", rules=(PathRule(path="a", capabilities=frozenset({Capability.READ})),)
    )
    two = Policy(
        name="two", description="t", rules=(PathRule(path="a", capabilities=frozenset({Capability.LIST})),)
    )
    deny = Policy(
        name="deny", description="t", rules=(PathRule(path="a", capabilities=frozenset({Capability.DENY})),)
    )
    policies = {p.name: p for p in (one, two, deny)}
    assert Acl.of(["one", "two"], policies).capabilities("a") == {Capability.READ, Capability.LIST}
    assert Acl.of(["one", "deny"], policies).capabilities("a") == frozenset()


REPO = Path(__file__).resolve().parents[2]


def test_admin_is_equivalent_to_root_and_the_docs_say_so() -> None:
    """Review finding 9, decided: documented, not narrowed. An admin token writes a policy granting
    everything, a token role allowing it, and a token from that role (a role's allowed_policies is not
    checked against its creator's). Denying admin single paths (its own policy, auth/token/roles/*) would not
    help: it may also rewrite ``default``, which every token holds, and enable auth methods (sudo on
    sys/auth/*) whose roles hand out any policy. So README and RUNBOOK say to guard it like root."""
    admin = Acl.of(ADMIN, POLICIES)
    for path in ("sys/policies/acl/everything", "sys/policies/acl/default", "sys/policies/acl/admin"):
        assert Capability.UPDATE in admin.capabilities(path), path
    assert Capability.UPDATE in admin.capabilities("auth/token/roles/escalate")
    assert {Capability.UPDATE, Capability.SUDO} <= admin.capabilities("sys/auth/userpass")
    everything = Policy(name="everything", description="t", rules=(PathRule(path="sys/*", capabilities=ALL),))
    role = {"escalate": TokenRole(name="escalate", allowed_policies=("everything",))}
    token = token_create(ADMIN, "-role=escalate", {**POLICIES, "everything": everything}, role)
    assert Capability.SUDO in Acl.of(token.policies, {**POLICIES, "everything": everything}).capabilities(
        "sys/rotate"
    )
    assert "equivalent to root" in admin_policy().description
    assert "without root" not in admin_policy().description
    for doc in ("README.md", "docs/RUNBOOK.md"):
        text = " ".join((REPO / doc).read_text().split())
        assert "The `admin` policy is equivalent to root" in text or "policy is equivalent to root" in text, (
            doc
        )
