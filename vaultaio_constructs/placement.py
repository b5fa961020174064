"""Where a stack's components live, without the jsii runtime: its namespaces (the node namespace's name and
the namespaces the stack must never own), the Pod Security levels and the ``dist/`` areas.

The settings (:mod:`vaultaio_constructs.settings`) and every props class check namespaces and declare
placements with these, so they import without starting Node; :mod:`vaultaio_constructs.component` builds
the constructs on top of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

#: Suffix of the default node namespace (``<namespace>-node``).
NODE_NAMESPACE_SUFFIX = "-node"


def default_node_namespace(namespace: str) -> str:
    """``<namespace>-node``; fails when that exceeds the 63 characters of a namespace name."""
    node = f"{namespace}{NODE_NAMESPACE_SUFFIX}"
    if len(node) > 63:
        raise ValueError(
            f"'namespace' ({namespace!r}, {len(namespace)} characters) is too long for the node namespace "
            f"{node!r} ({len(node)} > 63 characters): use at most {63 - len(NODE_NAMESPACE_SUFFIX)} "
            "characters or set 'node_namespace'"
        )
    return node


#: The label every namespace carries with its own name (set by the API server).
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def namespace_conflicts(
    namespace: str,
    node_namespace: str,
    *,
    dns_namespace: str | None = None,
    ingress_namespace_labels: Mapping[str, str] | None = None,
) -> list[str]:
    """Why the stack must not own ``namespace`` or ``node_namespace`` beside other workloads, one message
    per problem naming the settings: the cluster DNS or the ingress controller would live in a namespace
    whose default-deny policy and Pod Security labels come from the stack (and that ``kubectl delete -k``
    deletes), or Vault would share the node agents' ``privileged`` namespace. Both namespaces must be
    dedicated to the stack, and to their own part of it."""
    problems = []
    if node_namespace == namespace:
        problems.append(
            f"node_namespace ({node_namespace!r}) is the same as namespace: the node agents (Alloy, Chrony) "
            "need Pod Security 'privileged', so their namespace admits privileged and hostPath pods, while "
            "the main namespace, with Vault, its TLS key and its volumes, must stay 'restricted'; give "
            f"node_namespace a namespace of its own (default: {namespace}{NODE_NAMESPACE_SUFFIX})"
        )
    for key, value in (("namespace", namespace), ("node_namespace", node_namespace)):
        problems.extend(shared_namespace_problems(key, value, dns_namespace, ingress_namespace_labels))
    return problems


def shared_namespace_problems(
    key: str, value: str, dns_namespace: str | None, ingress_namespace_labels: Mapping[str, str] | None
) -> list[str]:
    """Why the stack must not own namespace ``value`` (named ``key`` in the messages): the cluster DNS or the
    ingress controller runs there."""
    problems = []
    if value == dns_namespace:
        problems.append(
            f"{key} ({value!r}) is network.dns.namespace, where the cluster DNS runs: the stack's "
            "default-deny policy would cut every pod of the cluster off from DNS; give the stack a "
            "namespace of its own"
        )
    if value == (ingress_namespace_labels or {}).get(NAMESPACE_NAME_LABEL):
        problems.append(
            f"{key} ({value!r}) is the ingress controller's namespace (network.ingress_controller."
            f"namespace_labels names it by {NAMESPACE_NAME_LABEL}): the stack's default-deny policy and "
            "Pod Security labels would apply to the controller; give the stack a namespace of its own"
        )
    return problems


def refuse_disabled(name: str, enabled: bool) -> None:
    """Components are created only when enabled: a disabled one is left out by the stack, not built."""
    if not enabled:
        raise ValueError(
            f"{name}: 'enabled' is false: a disabled component is not created (VaultAioChart leaves it out "
            "and its consumers use its 'external' replacement, if any)"
        )


class Placement(StrEnum):
    """Which of the stack's namespaces a component lives in."""

    #: The main namespace (Pod Security ``restricted``).
    MAIN = "main"
    #: The node namespace: agents that need host access (hostPath, node clock).
    NODE = "node"


class PodSecurity(StrEnum):
    """Pod Security Standard levels, from strictest to most permissive."""

    RESTRICTED = "restricted"
    BASELINE = "baseline"
    PRIVILEGED = "privileged"

    @property
    def rank(self) -> int:
        return list(PodSecurity).index(self)


class Area(StrEnum):
    """Folders of ``dist/``, mirroring the specification's ``manifests/`` layout."""

    SETUP = "setup"
    VAULT = "vault"
    MONITORING = "monitoring"
    LOGGING = "logging"
    TRACING = "tracing"
    NTP = "ntp"
    NETWORK_POLICIES = "network-policies"
    DASHBOARDS = "dashboards"
