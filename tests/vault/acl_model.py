"""A small model of what Vault 2.0.4 lets a token do, to check documented commands against our policies.

The fake cluster of the script tests plays Vault's CLI, not its rules, so a documented command that Vault
refuses passes there (review finding 4: the RUNBOOK had the admin token give out the ``operator`` policy,
which Vault refuses). This model holds the rules those commands depend on, read from Vault's source:

* ACL (``vault/acl.go``; the "Priority matching" section of the policy docs): the rules of all a token's
  policies are merged per path (capabilities add up, ``deny`` wins); a request uses the rule of its exact
  path when there is one, else the matching glob rule of highest priority. ``root`` may do everything.
* Token creation (``vault/token_store.go``, ``handleCreateCommon``): ``vault token create`` writes to
  ``auth/token/create``, ``auth/token/create-orphan`` (``-orphan``) or ``auth/token/create/<role>``
  (``-role``), which needs ``update`` there. Without ``sudo`` on that path the child's policies must be a
  subset of the parent's ("child policies must be subset of parent") and a ``-period`` is refused, unless a
  role with ``allowed_policies`` decides: then the policies must be a subset of the role's, whatever the
  parent holds, and the role's ``orphan`` makes an orphan.

Only what the tests use is modelled; Vault's built-in ``default`` policy is reduced to the token's own
look-up, renewal and revocation (it grants nothing that creates tokens or writes policies).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from vaultaio_constructs.vault.policies import Capability, PathRule, Policy

#: The part of Vault's built-in ``default`` policy that matters here.
DEFAULT_POLICY = Policy(
    name="vault-default",  # "default" is refused as a name of ours; it is renamed below
    description="Vault's built-in default policy (reduced)",
    rules=tuple(
        PathRule(path=p, capabilities=frozenset(c))
        for p, c in (
            ("auth/token/lookup-self", {Capability.READ}),
            ("auth/token/renew-self", {Capability.UPDATE}),
            ("auth/token/revoke-self", {Capability.UPDATE}),
        )
    ),
)
ALL = frozenset(Capability) - {Capability.DENY}


class VaultRefused(Exception):
    """Vault would refuse the request; the message is Vault's."""


def _glob(path: str) -> re.Pattern[str]:
    parts = [r"[^/]+" if part == "+" else re.escape(part) for part in path.rstrip("*").split("/")]
    return re.compile("/".join(parts) + (".*" if path.endswith("*") else ""))


def _priority(path: str) -> tuple[int, bool, int, int, str]:
    """Higher is preferred: a later first wildcard, no trailing ``*``, fewer ``+``, longer, then larger."""
    wildcard = [i for i, ch in enumerate(path) if ch in "+*"]
    return (
        wildcard[0] if wildcard else len(path),
        not path.endswith("*"),
        -path.split("/").count("+"),
        len(path),
        path,
    )


@dataclass
class Acl:
    """The merged rules of a token's policies."""

    rules: dict[str, frozenset[Capability]] = field(default_factory=dict)
    root: bool = False

    @classmethod
    def of(cls, names: Iterable[str], policies: Mapping[str, Policy]) -> Acl:
        acl = cls()
        for name in names:
            if name == "root":
                acl.root = True
                continue
            policy = DEFAULT_POLICY if name == "default" else policies[name]
            for rule in policy.rules:
                merged = acl.rules.get(rule.path, frozenset()) | rule.capabilities
                acl.rules[rule.path] = (
                    frozenset({Capability.DENY}) if Capability.DENY in merged else frozenset(merged)
                )
        return acl

    def capabilities(self, path: str) -> frozenset[Capability]:
        if self.root:
            return ALL
        exact = self.rules.get(path)
        if exact is None:
            globs = [p for p in self.rules if ("*" in p or "+" in p) and _glob(p).fullmatch(path)]
            if not globs:
                return frozenset()
            exact = self.rules[max(globs, key=_priority)]
        return frozenset() if Capability.DENY in exact else exact


@dataclass(frozen=True)
class TokenRole:
    """A token role (``auth/token/roles/<name>``) as ``vault write`` parameters give it."""

    name: str
    allowed_policies: tuple[str, ...] = ()
    disallowed_policies: tuple[str, ...] = ()
    orphan: bool = False

    @classmethod
    def from_params(cls, name: str, params: Mapping[str, str]) -> TokenRole:
        def policies(key: str) -> tuple[str, ...]:
            return tuple(p.strip() for p in params.get(key, "").split(",") if p.strip())

        return cls(
            name=name,
            allowed_policies=policies("allowed_policies"),
            disallowed_policies=policies("disallowed_policies"),
            orphan=params.get("orphan", "false") == "true",
        )


@dataclass(frozen=True)
class NewToken:
    policies: frozenset[str]
    orphan: bool


def _sanitized(policies: Iterable[str], add_default: bool) -> set[str]:
    found = {p.strip().lower() for p in policies if p.strip()}
    if add_default and "root" not in found:
        found.add("default")
    return found


def token_create(
    parent: Iterable[str],
    args: list[str] | str,
    policies: Mapping[str, Policy],
    roles: Mapping[str, TokenRole] | None = None,
) -> NewToken:
    """The token ``vault token create ARGS`` makes for a parent holding ``parent``; else VaultRefused."""
    words = shlex.split(args) if isinstance(args, str) else list(args)
    requested: list[str] = []
    role_name = period = None
    orphan = no_default = False
    for word in words:
        name, _, value = word.lstrip("-").partition("=")
        if name == "policy":
            requested += value.split(",")
        elif name == "role":
            role_name = value
        elif name == "period":
            period = value
        elif name == "orphan":
            orphan = value in ("", "true")
        elif name == "no-default-policy":
            no_default = value in ("", "true")
        elif name not in ("display-name", "field", "format", "ttl", "explicit-max-ttl", "renewable"):
            raise ValueError(f"the model does not know 'vault token create' flag {word!r}")
    parent = set(parent)
    role = None
    if role_name is not None:
        role = (roles or {}).get(role_name)
        if role is None:
            raise VaultRefused(f"unknown role {role_name}")
        path = f"auth/token/create/{role_name}"
    else:
        path = "auth/token/create-orphan" if orphan else "auth/token/create"
    caps = Acl.of(parent, policies).capabilities(path)
    if Capability.UPDATE not in caps:
        raise VaultRefused(f"permission denied ({path})")
    sudo = Capability.SUDO in caps
    if role is not None and (role.allowed_policies or role.disallowed_policies):
        add_default = not no_default and "default" not in role.disallowed_policies
        final = _sanitized(requested, add_default) if requested else set()
        if role.allowed_policies:
            allowed = _sanitized(role.allowed_policies, add_default)
            if not final:
                final = allowed
            elif not final <= allowed:
                raise VaultRefused(
                    f"token policies ({sorted(final)}) must be subset of the role's allowed policies "
                    f"({sorted(allowed)})"
                )
        elif not final:
            final = _sanitized(parent, add_default)
        for name in final:
            if name in role.disallowed_policies:
                raise VaultRefused(f'token policy "{name}" is disallowed by this role')
    elif not requested:
        final = _sanitized(parent, False)
    elif not sudo:
        if not _sanitized(requested, False) <= _sanitized(parent, False):
            raise VaultRefused("child policies must be subset of parent")
        final = _sanitized(requested, not no_default and "default" in parent)
    else:
        final = _sanitized(requested, not no_default)
    if no_default:
        final.discard("default")
    if "root" in final and "root" not in parent:
        raise VaultRefused("root tokens may not be created without parent token being root")
    if period is not None and period not in ("0", "0s") and not sudo:
        raise VaultRefused("root or sudo privileges required to create periodic token")
    return NewToken(policies=frozenset(final), orphan=(role.orphan if role is not None else orphan))
