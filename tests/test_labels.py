"""Standard labels on every object; selectors never include the version; each object in its namespace."""

from __future__ import annotations

import re
from typing import Any

from tests.stack import RUNTIME_POD_LABELS, Stack
from vaultaio_constructs import labels as lbl

STANDARD = {lbl.NAME, lbl.INSTANCE, lbl.COMPONENT, lbl.PART_OF_KEY, lbl.VERSION, lbl.MANAGED_BY_KEY}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}


def test_every_object_has_the_standard_labels(stack: Stack) -> None:
    missing = {
        f"{o['kind']}/{o['metadata']['name']}": sorted(STANDARD - set(o["metadata"].get("labels", {})))
        for o in stack.objects
        if STANDARD - set(o["metadata"].get("labels", {}))
    }
    assert not missing


#: The node agents: they and what selects their pods live in the node namespace.
NODE_AGENTS = {"alloy", "chrony"}


def _expected_namespace(o: dict[str, object]) -> str:
    """``vault-aio-node`` for the node agents' objects, the policies selecting their pods and that
    namespace's own deny/DNS policies; ``vault-aio`` for everything else, Alloy's Role and RoleBinding there
    included (they let Alloy discover the main namespace's pods)."""
    meta: dict[str, Any] = o["metadata"]  # type: ignore[assignment]
    name = meta["labels"].get(lbl.NAME)
    if o["kind"] == "NetworkPolicy":
        spec: dict[str, Any] = o["spec"]  # type: ignore[assignment]
        selected = (spec["podSelector"].get("matchLabels") or {}).get(lbl.NAME)
        if selected is None:  # default-deny-all and allow-dns exist once per namespace
            return str(meta["namespace"])
        return "vault-aio-node" if selected in NODE_AGENTS else "vault-aio"
    if name in NODE_AGENTS and not (name == "alloy" and o["kind"] in ("Role", "RoleBinding")):
        return "vault-aio-node"
    if name == "alloy":
        return str(meta["namespace"])  # one Role/RoleBinding per namespace it reads
    return "vault-aio"


def test_namespaced_objects_live_in_their_namespace(stack: Stack) -> None:
    for o in stack.objects:
        where = f"{o['kind']}/{o['metadata']['name']}"
        if o["kind"] in CLUSTER_SCOPED:
            assert "namespace" not in o["metadata"], where
        else:
            assert o["metadata"]["namespace"] == _expected_namespace(o), where
    per_namespace = {
        ns: {o["metadata"]["name"] for o in stack.all("NetworkPolicy") if o["metadata"]["namespace"] == ns}
        for ns in ("vault-aio", "vault-aio-node")
    }
    for names in per_namespace.values():
        assert {"default-deny-all", "allow-dns"} <= names
    rbac = {
        (o["kind"], o["metadata"]["namespace"]) for o in stack.objects if o["metadata"]["name"] == "alloy"
    }
    assert {("Role", "vault-aio"), ("Role", "vault-aio-node"), ("RoleBinding", "vault-aio")} <= rbac


def test_selectors_leave_out_the_version(stack: Stack) -> None:
    selectors = [o["spec"]["selector"] for o in stack.all("Service") if "selector" in o["spec"]]
    selectors += [
        w["spec"]["selector"]["matchLabels"] for w, _ in stack.pod_templates() if w["kind"] != "CronJob"
    ]
    assert selectors
    for s in selectors:
        assert lbl.VERSION not in s
        # plus, on vault-active / vault-standby, the label Vault's service registration keeps current
        runtime = set(RUNTIME_POD_LABELS.get(s[lbl.NAME], ()))
        assert set(s) - runtime == {lbl.NAME, lbl.INSTANCE}


def test_names_are_readable_without_hash_suffixes(stack: Stack) -> None:
    for name in ("vault", "prometheus", "grafana", "alertmanager", "loki", "tempo", "alloy"):
        assert stack.has("Service", name), name
    hashed = re.compile(r"-[0-9a-f]{8}$")
    for o in stack.objects:
        assert not hashed.search(o["metadata"]["name"]), o["metadata"]["name"]
