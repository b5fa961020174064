"""Example: the complete stack in a platform team's own cdk8s app, extended without forking it.

* settings in code (namespace, HA Vault, production sizes, a storage class);
* an extra Grafana dashboard and an extra Prometheus scrape target for an app of the team's own,
  added in ``extend()`` so the NetworkPolicies include the new scrape edge;
* an extra Vault policy, written by ``scripts/init-vault.sh`` with the built-in ones.

Run: ``python examples/extended_stack.py OUTDIR`` (``tests/test_examples.py`` runs it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cdk8s

from vaultaio_constructs import (
    Area,
    Capability,
    Component,
    GrafanaDashboard,
    PathRule,
    Policy,
    Profile,
    ScrapeTarget,
    VaultAioChart,
    VaultAioProps,
    VaultProps,
    render,
    workload,  # hardened builders for components of your own
    write,
)

TEAM_DASHBOARD = {
    "title": "Payments / Vault usage",
    "uid": "payments-vault",
    "schemaVersion": 39,
    "panels": [],
}


class PaymentsExporter(Component):
    """Stand-in for an app of the team's own that serves metrics (its workload lives elsewhere)."""

    area = Area.MONITORING

    def __init__(self, scope: VaultAioChart, id: str) -> None:
        super().__init__(scope, id, name="payments", role="app", version="1.0.0")
        self.metrics = self.endpoint(port_name="metrics", port=9102)
        workload.service(self, [self.metrics])


class PaymentsStack(VaultAioChart):
    def extend(self) -> None:
        self.grafana.add_dashboard(GrafanaDashboard.from_json("payments-vault", json.dumps(TEAM_DASHBOARD)))
        payments = PaymentsExporter(self, "Payments")
        self.prometheus.add_scrape_target(ScrapeTarget(job="payments", endpoint=payments.metrics))
        self.vault.add_policy(
            Policy(
                name="payments",
                description="payments service: read its own KV secrets",
                rules=(PathRule(path="secret/data/payments/*", capabilities=frozenset({Capability.READ})),),
            )
        )


def synth(outdir: Path) -> int:
    app = cdk8s.App()
    props = VaultAioProps(
        namespace="payments-vault",
        storage_class="fast-ssd",
        profile=Profile.PRODUCTION,
        vault=VaultProps(replicas=3),
    )
    chart = PaymentsStack(app, "payments", props)
    return len(write(render(chart), outdir))


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "dist-example")
    print(f"wrote {synth(out)} files to {out}")
