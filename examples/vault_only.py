"""Example: only Vault, in a platform team's own cdk8s chart, complete and behind its NetworkPolicies.

The team's chart is a ``StackChart`` (the stack scope: namespaces, wiring, policies) holding nothing but
the hardened Vault: three raft voters, TLS, its own Vault policy. It never calls ``finish()``: the chart
finishes itself when the app is synthesized, so the output still has Vault's deferred configuration
(``vault-policies``), its Namespace (Pod Security ``restricted``, derived from what runs there) and
default-deny NetworkPolicies with exactly the edges Vault needs (DNS, the API server for service
registration, raft between its pods).

Its own cdk8s chart may hold anything else; components must sit in a ``StackChart``, which can also be
nested in a plain chart (``StackChart(self, "secrets", namespace=...)``).

Run: ``python examples/vault_only.py OUTDIR`` (``tests/test_examples.py`` runs it): plain ``cdk8s``
output, one YAML file for the chart, as ``cdk8s synth`` writes it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cdk8s
from constructs import Construct

from vaultaio_constructs import Capability, PathRule, Policy, StackChart, Vault, VaultProps


class PlatformSecrets(StackChart):
    """The team's chart: Vault and nothing else of the stack."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id, namespace="platform-secrets", instance="platform-secrets")
        self.vault = Vault(self, "Vault", VaultProps(replicas=3))
        self.vault.add_policy(
            Policy(
                name="ci-deployer",
                description="CI pipelines: read deployment credentials",
                rules=(PathRule(path="secret/data/ci/*", capabilities=frozenset({Capability.READ})),),
            )
        )


def synth(outdir: Path) -> Path:
    app = cdk8s.App(outdir=str(outdir))
    PlatformSecrets(app, "platform-secrets")
    app.synth()  # finishes the stack: no finish() call needed
    return outdir / "platform-secrets.k8s.yaml"


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "dist-vault-only")
    print(f"wrote {synth(out)}")
