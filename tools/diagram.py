#!/usr/bin/env python3
"""Write docs/network.dot from the synthesized NetworkPolicies (and docs/network.svg with graphviz).

python tools/diagram.py            # both files
python tools/diagram.py --dot-only # just the .dot (no graphviz needed)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from collections.abc import Iterable, Mapping  # noqa: E402
from typing import Any  # noqa: E402

from vaultaio_constructs.analysis import connectivity, describe_peer, to_dot  # noqa: E402
from vaultaio_constructs.output import build, render  # noqa: E402

NAME_LABEL = "app.kubernetes.io/name"


def _selector_text(selector: Mapping[str, Any] | None) -> str:
    labels = (selector or {}).get("matchLabels") or {}
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "any pod"


def outside_labels(objects: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Display labels for the peers outside the namespace, named after the policies that allow them.

    ``allow-chrony-to-google-public-ntp`` names its CIDRs ``google-public-ntp``, ``allow-dns`` names the
    DNS pods ``dns``, ``allow-vault-from-ingress-controller`` names the controller's pods.
    """
    names: dict[str, list[str]] = {}
    details: dict[str, str] = {}
    for o in objects:
        if o["kind"] != "NetworkPolicy":
            continue
        policy = o["metadata"]["name"]
        owner = ((o["spec"].get("podSelector") or {}).get("matchLabels") or {}).get(NAME_LABEL)
        name = policy.removeprefix("allow-")
        if owner:
            name = name.removeprefix(f"{owner}-to-").removeprefix(f"{owner}-from-")
        peers = [p for r in o["spec"].get("egress") or [] for p in r.get("to") or []]
        peers += [p for r in o["spec"].get("ingress") or [] for p in r.get("from") or []]
        for peer in peers:
            if "ipBlock" in peer:
                key, detail = peer["ipBlock"]["cidr"], peer["ipBlock"]["cidr"]
            elif "namespaceSelector" in peer:
                key = describe_peer(peer)
                ns_labels = peer["namespaceSelector"].get("matchLabels") or {}
                ns = ns_labels.get("kubernetes.io/metadata.name") if len(ns_labels) == 1 else None
                namespace = (
                    f"namespace {ns}" if ns else f"namespaces {_selector_text(peer['namespaceSelector'])}"
                )
                detail = f"{namespace}\npods: {_selector_text(peer.get('podSelector'))}"
            else:
                continue
            names.setdefault(key, [])
            if name not in names[key]:
                names[key].append(name)
            details[key] = detail
    return {key: " / ".join(sorted(names[key])) + "\n" + details[key] for key in names}


def namespace_labels(objects: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """``namespace <name>`` and the Pod Security level it enforces, for each Namespace object."""
    found = {}
    for o in objects:
        if o["kind"] == "Namespace":
            level = o["metadata"].get("labels", {}).get("pod-security.kubernetes.io/enforce", "?")
            found[o["metadata"]["name"]] = f"namespace {o['metadata']['name']} (Pod Security: {level})"
    return found


def network_dot() -> str:
    """The diagram of the default stack."""
    _, chart = build()
    objects = [m.body for m in render(chart)]
    return to_dot(
        connectivity(objects),
        title="vault-aio network policies: every allowed connection (solid: between the stack's pods, "
        "dashed: to or from outside the stack)",
        stack_label=f"namespace {chart.stack_namespace}",
        labels=outside_labels(objects),
        namespace_labels=namespace_labels(objects),
    )


def main() -> int:
    dot_file = REPO / "docs" / "network.dot"
    dot_file.write_text(network_dot(), encoding="utf-8")
    print(f"wrote {dot_file.relative_to(REPO)}")
    if "--dot-only" in sys.argv:
        return 0
    dot = shutil.which("dot")
    if dot is None:
        print("graphviz `dot` is not installed: apt-get install graphviz", file=sys.stderr)
        return 1
    svg = dot_file.with_suffix(".svg")
    subprocess.run([dot, "-Tsvg", str(dot_file), "-o", str(svg)], check=True)
    print(f"wrote {svg.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
