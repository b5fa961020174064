"""The ``vault-aio`` command: ``vault-aio verify`` and ``vault-aio upgrade-vault``.

Exit status: 0 when nothing failed, 1 when a check failed (or the upgrade stopped), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from vaultaio_constructs.verify.kube import Kubectl, Runner, subprocess_runner
from vaultaio_constructs.verify.manifest import ManifestError, Manifests

RBAC = """\
RBAC: a namespace admin of every namespace in dist/ (ClusterRole "admin" bound there) has all it needs:
get/list pods, statefulsets, daemonsets, deployments, persistentvolumeclaims, services, configmaps and
networkpolicies; get namespaces; create pods/exec; and for the objects check (kubectl diff, a server-side
dry run) get and patch on every kind in dist/. upgrade-vault also deletes pods. Nothing cluster-wide.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vault-aio",
        description="Operate a deployed vault-aio stack (kubectl must point at the cluster).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    v = sub.add_parser(
        "verify",
        help="prove on the live cluster what dist/ promises",
        description=(
            "Read what should exist from dist/ (or a settings file), inspect the cluster through kubectl, "
            "and "
            "print one line per check: PASS, FAIL, WARN or SKIP, the evidence, and the RUNBOOK section to go "
            "to. Exit status 0 only if no check failed."
        ),
        epilog=RBAC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = v.add_mutually_exclusive_group()
    source.add_argument("--dist", type=Path, default=None, help="the synthesized manifests (default: ./dist)")
    source.add_argument(
        "--settings", type=Path, help="synthesize this settings file first (needs Node and cdk8s)"
    )
    v.add_argument(
        "--token-file",
        type=Path,
        default=os.environ.get("VAULT_TOKEN_FILE") or None,
        help="file with a Vault token with the operator policy (raft, autopilot, audit checks); sent to the "
        "pod on stdin, never printed (default: $VAULT_TOKEN_FILE; without it those checks are skipped)",
    )
    v.add_argument("--context", help="kubectl context (default: the current one)")
    v.add_argument("--json", action="store_true", help="print a JSON document instead of lines")
    v.add_argument("--timeout", type=float, default=60.0, help="seconds the log and trace checks wait (60)")
    v.add_argument(
        "--only", action="append", default=[], metavar="CHECK", help="run only this check (repeatable)"
    )
    v.add_argument(
        "--list", action="store_true", help="list the checks, the pod and tool each uses, and exit"
    )

    u = sub.add_parser(
        "upgrade-vault",
        help="roll the Vault pods onto the StatefulSet's revision in Vault's order",
        description=(
            "After kubectl apply -k dist/ (the Vault StatefulSet is OnDelete: applying restarts nothing): "
            "check that Vault is healthy, then restart the standbys one at a time, then step down the "
            "active pod and restart it, waiting for every pod to be unsealed and for autopilot to report "
            "every server healthy in between. Stops at the first check that fails."
        ),
    )
    u.add_argument("--token-file", type=Path, required=True, help="a Vault token with the admin policy")
    u.add_argument("--dist", type=Path, default=Path("dist"), help="where the Vault StatefulSet is (./dist)")
    u.add_argument("--context", help="kubectl context (default: the current one)")
    u.add_argument(
        "--timeout", type=float, default=600.0, help="seconds one pod may take to be healthy (600)"
    )
    u.add_argument("--interval", type=float, default=5.0, help="seconds between health checks (5)")
    return parser


def read_token(path: Path) -> bytes:
    try:
        token = path.read_bytes().strip()
    except OSError as exc:
        raise SystemExit(f"vault-aio: --token-file {path}: {exc.strerror}") from exc
    if not token:
        raise SystemExit(f"vault-aio: --token-file {path} is empty")
    return token


def main(argv: Sequence[str] | None = None, runner: Runner | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "verify":
        return verify(args, runner)
    return upgrade(args, runner)


def verify(args: argparse.Namespace, runner: Runner | None) -> int:
    from vaultaio_constructs.verify import checks
    from vaultaio_constructs.verify.report import print_json, print_text

    if args.list:
        for spec in checks.CHECKS:
            print(f"{spec.id:<24} {spec.title}\n{'':<24} uses: {spec.uses}")
        return 0
    unknown = [c for c in args.only if c not in checks.SPECS]
    if unknown:
        print(f"vault-aio verify: unknown check {', '.join(unknown)} (see --list)", file=sys.stderr)
        return 2
    token = read_token(args.token_file) if args.token_file else None
    with tempfile.TemporaryDirectory(prefix="vault-aio-verify-") as tmp:
        try:
            dist = synth_settings(args.settings, Path(tmp)) if args.settings else (args.dist or Path("dist"))
            manifests = Manifests.load(dist)
        except (ManifestError, ValueError) as err:
            print(f"vault-aio verify: {err}", file=sys.stderr)
            return 2
        kubectl = Kubectl(runner or subprocess_runner(args.timeout + 30), args.context)
        options = checks.Options(token=token, e2e_timeout=args.timeout, dist=dist, only=args.only)
        try:
            outcomes = checks.Verifier(manifests, kubectl, options).run()
        except checks.ClusterUnreachable as err:
            print(f"vault-aio verify: cannot reach the cluster with kubectl: {err}", file=sys.stderr)
            return 1
    if args.json:
        print_json(outcomes, sys.stdout, {"dist": str(manifests.source), "namespaces": manifests.namespaces})
    else:
        namespaces = ", ".join(manifests.namespaces)
        header = f"vault-aio verify: {len(manifests.objects)} objects of {manifests.source} in {namespaces}"
        print_text(outcomes, sys.stdout, header)
    return 1 if any(o.status is checks.Status.FAIL for o in outcomes) else 0


def synth_settings(settings: Path, outdir: Path) -> Path:
    """Synthesize a settings file into ``outdir`` (imports the cdk8s app only here)."""
    from vaultaio_constructs.output import synth
    from vaultaio_constructs.settings import load_settings

    synth(load_settings(settings), outdir)
    return outdir


def upgrade(args: argparse.Namespace, runner: Runner | None) -> int:
    from vaultaio_constructs.verify.upgrade import Target, Upgrade, UpgradeError

    token = read_token(args.token_file)
    try:
        manifests = Manifests.load(args.dist)
    except ManifestError as err:
        print(f"vault-aio upgrade-vault: {err}", file=sys.stderr)
        return 2
    vault = manifests.component("vault")
    if vault is None or vault.kind != "StatefulSet":
        print(f"vault-aio upgrade-vault: no Vault StatefulSet in {args.dist}", file=sys.stderr)
        return 2
    kubectl = Kubectl(runner or subprocess_runner(120), args.context)
    target = Target(
        namespace=vault.namespace,
        statefulset=vault.name,
        container=vault.container()["name"],
        selector=vault.selector,
        token=token,
        timeout=args.timeout,
        interval=args.interval,
    )
    try:
        return Upgrade(kubectl, target).run()
    except UpgradeError as err:
        print(f"upgrade-vault: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
