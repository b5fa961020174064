"""Standard labels on every object; selectors never include the version; everything in the namespace."""

from __future__ import annotations

import re

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


def test_namespaced_objects_live_in_the_stack_namespace(stack: Stack) -> None:
    for o in stack.objects:
        if o["kind"] in CLUSTER_SCOPED:
            assert "namespace" not in o["metadata"], o["metadata"]["name"]
        else:
            assert o["metadata"]["namespace"] == "vault-aio", f"{o['kind']}/{o['metadata']['name']}"


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
