"""The checks of ``vault-aio verify``: what ``dist/`` promises, proven on the live cluster with ``kubectl``.

Every expectation comes from :class:`~.manifest.Manifests` (the objects of ``dist/``):
which components exist, their namespaces, ports, Services, configs and alert thresholds. A check whose
component is not in ``dist/`` is skipped with the reason; a check that depends on another one that failed
(a sealed Vault cannot be asked for its raft peers) is skipped and says so, so a broken cluster shows the
cause, not a cascade of consequences.

Commands run in pods use only the tools the images ship (:mod:`.images`). Nothing here prints a secret: the
Vault token travels on stdin (:data:`~.kube.TOKEN_WRAPPER`), Grafana's admin password never leaves its pod.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Final

from vaultaio_constructs.verify import images
from vaultaio_constructs.verify.images import Http
from vaultaio_constructs.verify.kube import TOKEN_WRAPPER, Kubectl, Result, pod_ready, pod_running
from vaultaio_constructs.verify.manifest import LOADER, Manifests, Workload
from vaultaio_constructs.verify.report import CheckSpec, Outcome, Status

__all__ = ["CHECKS", "SPECS", "Options", "Status", "Verifier", "autopilot_state"]

CHECKS: Final[tuple[CheckSpec, ...]] = (
    CheckSpec(
        "objects",
        "every object of dist/ exists and matches (kubectl diff)",
        "drift-from-dist",
        "kubectl diff -k DIST (server-side dry run) with a field-level diff program",
    ),
    CheckSpec(
        "workloads",
        "every StatefulSet, DaemonSet and Deployment rolled out and ready",
        "workloads-not-ready",
        "kubectl get statefulsets,daemonsets,deployments",
    ),
    CheckSpec(
        "pvcs", "every PersistentVolumeClaim bound", "persistentvolumeclaim-not-bound", "kubectl get pvc"
    ),
    CheckSpec(
        "vault.initialized", "Vault initialised", "initialise", "vault status -format=json in every Vault pod"
    ),
    CheckSpec(
        "vault.unsealed",
        "Vault unsealed on every pod",
        "unseal",
        "vault status -format=json in every Vault pod",
    ),
    CheckSpec(
        "vault.raft-peers",
        "raft voters equal the replicas",
        "raft-peers-missing",
        "vault operator raft list-peers (token from --token-file on stdin) in an unsealed Vault pod",
    ),
    CheckSpec(
        "vault.autopilot",
        "raft autopilot healthy",
        "vaultautopilotunhealthy",
        "vault operator raft autopilot state (token on stdin) in an unsealed Vault pod",
    ),
    CheckSpec(
        "vault.audit-device",
        "an audit device is enabled",
        "audit-device-missing",
        "vault audit list (token on stdin) in an unsealed Vault pod",
    ),
    CheckSpec(
        "vault.tls",
        "Vault's TLS certificate is valid for long enough",
        "renew-the-vault-tls-certificate",
        "cat of the listener's tls_cert_file in every Vault pod (a public certificate), parsed locally",
    ),
    CheckSpec(
        "prometheus.targets",
        "every expected scrape target is up",
        "targetdown",
        "busybox wget of /api/v1/targets in the Prometheus pod (127.0.0.1)",
    ),
    CheckSpec(
        "prometheus.rules",
        "every rule group loaded, no evaluation errors",
        "prometheusruleevaluationfailures",
        "busybox wget of /api/v1/rules in the Prometheus pod",
    ),
    CheckSpec(
        "prometheus.alertmanager",
        "Prometheus discovered Alertmanager",
        "prometheusnotificationerrors",
        "busybox wget of /api/v1/alertmanagers in the Prometheus pod",
    ),
    CheckSpec(
        "logs.audit-in-loki",
        "a Vault request reaches Loki as an audit entry",
        "audit-entries-missing-in-loki",
        "vault read of a unique path in a Vault pod, then the Loki query API (busybox wget in the Loki pod)",
    ),
    CheckSpec(
        "traces.span-in-tempo",
        "a test span sent to Alloy's OTLP receiver is found in Tempo",
        "test-span-missing-in-tempo",
        "OTLP/HTTP POST with bash /dev/tcp in an Alloy pod, then Tempo's trace API from a pod that may"
        " reach it",
    ),
    CheckSpec(
        "grafana.dashboards",
        "the provisioned dashboards exist in Grafana",
        "grafana-dashboards-or-data-sources-unhealthy",
        "curl of Grafana's API in the Grafana pod, admin credentials read from its mounted files",
    ),
    CheckSpec(
        "grafana.datasources",
        "the provisioned data sources exist and are healthy",
        "grafana-dashboards-or-data-sources-unhealthy",
        "curl of /api/datasources/uid/UID/health in the Grafana pod",
    ),
    CheckSpec(
        "network.enforced",
        "NetworkPolicies are enforced (a forbidden connection fails, an allowed one succeeds)",
        "networkpolicies-not-enforced",
        "bash /dev/tcp under timeout in a pod whose image has bash (Grafana, Chrony or Alloy)",
    ),
    CheckSpec(
        "time.chrony",
        "Chrony is synchronised on every node, offset within the alert threshold",
        "nodeclocknotsynchronising",
        "chronyc -c tracking on chronyd's command socket in every Chrony pod",
    ),
)
SPECS: Final = {c.id: c for c in CHECKS}
#: Grafana data source types whose plugin has no backend health check (``/health`` answers nothing useful).
NO_HEALTH_CHECK: Final = frozenset({"alertmanager"})


@dataclass
class Options:
    #: Vault token (operator policy) read from --token-file; sent on stdin only.
    token: bytes | None = None
    #: How long the end-to-end checks wait for their entry/span (seconds), and how often they look.
    e2e_timeout: float = 60.0
    poll_interval: float = 3.0
    #: Timeout of one in-pod command (seconds).
    exec_timeout: int = 10
    #: Where dist/ is (for kubectl diff -k).
    dist: Path | None = None
    only: Sequence[str] = ()
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    nonce: Callable[[], str] = field(default=lambda: secrets.token_hex(8))


@dataclass(frozen=True)
class Client:
    """A pod that sends HTTP to a workload's port: itself (127.0.0.1) or a peer the policies allow."""

    workload: Workload
    pod: str
    tool: Http
    host: str
    port: int

    def describe(self) -> str:
        return f"{self.tool} in {self.workload.namespace}/{self.pod} -> {self.host}:{self.port}"


class Skip(Exception):
    """The check cannot run: its component is absent, or a check it depends on failed."""


class Verifier:
    """Runs the checks against one cluster for one ``dist/``."""

    def __init__(self, manifests: Manifests, kubectl: Kubectl, options: Options) -> None:
        self.m = manifests
        self.k = kubectl
        self.o = options
        self.base = manifests.runbook_base()
        self._pods: dict[str, list[Mapping[str, Any]]] = {}
        self.outcomes: dict[str, Outcome] = {}
        # filled by the Vault checks, used by the ones after them
        self.vault_status: dict[str, Mapping[str, Any]] = {}
        self._statuses: dict[str, Mapping[str, Any] | str] | None = None

    # ---- running ----------------------------------------------------------------------------------------

    def run(self) -> list[Outcome]:
        missing = self._missing_namespaces()
        for spec in CHECKS:
            if self.o.only and spec.id not in self.o.only:
                continue
            if missing:
                outcome = self._outcome(spec, Status.SKIP, f"namespace {', '.join(missing)} does not exist")
                if spec.id == "objects":
                    outcome = self._outcome(
                        spec,
                        Status.FAIL,
                        f"namespace {', '.join(missing)} does not exist: kubectl apply -k dist/",
                    )
            else:
                outcome = self._run_one(spec)
            self.outcomes[spec.id] = outcome
        return list(self.outcomes.values())

    def _run_one(self, spec: CheckSpec) -> Outcome:
        method: Callable[[CheckSpec], Outcome] = getattr(
            self, "check_" + spec.id.replace(".", "_").replace("-", "_")
        )
        try:
            return method(spec)
        except Skip as skip:
            return self._outcome(spec, Status.SKIP, str(skip))

    def _outcome(
        self, spec: CheckSpec, status: Status, evidence: str, details: list[str] | None = None
    ) -> Outcome:
        return Outcome(spec, status, evidence, details or [], runbook=f"{self.base}#{spec.anchor}")

    def _missing_namespaces(self) -> list[str]:
        missing = []
        for ns in self.m.namespaces:
            res = self.k.run("get", "namespace", ns, "-o", "name")
            if res.ok:
                continue
            if "(NotFound)" in res.err:
                missing.append(ns)
            else:
                raise ClusterUnreachable(res.summary())
        return missing

    def failed(self, check_id: str) -> bool:
        o = self.outcomes.get(check_id)
        return o is not None and o.status is Status.FAIL

    # ---- cluster helpers -----------------------------------------------------------------------------------

    def need(self, component: str, why: str = "") -> Workload:
        w = self.m.component(component)
        if w is None:
            raise Skip(f"no {component} workload in {self.m.source}{why}")
        return w

    def pods(self, w: Workload) -> list[Mapping[str, Any]]:
        if w.ref not in self._pods:
            pods, res = self.k.pods(w.namespace, w.selector)
            if not res.ok:
                raise Skip(f"cannot list the pods of {w.ref}: {res.summary()}")
            self._pods[w.ref] = pods
        return self._pods[w.ref]

    def ready_pod(self, w: Workload) -> str:
        for p in self.pods(w):
            if pod_ready(p):
                return str(p["metadata"]["name"])
        raise Skip(f"no ready pod of {w.ref}")

    def exec(self, w: Workload, pod: str, command: Sequence[str], *, stdin: bytes | None = None) -> Result:
        return self.k.exec(w.namespace, pod, w.container()["name"], command, stdin=stdin)

    @cached_property
    def matrix(self) -> set[tuple[str, str, int]]:
        from vaultaio_constructs.analysis import connectivity

        m = connectivity(self.m.objects)
        return {(c.source, c.destination, c.port) for c in m.internal}

    def allowed(self, source: Workload, target: Workload, port: int) -> bool:
        if not any(o["kind"] == "NetworkPolicy" for o in self.m.objects):
            return True
        return (source.name, target.name, port) in self.matrix

    def client_for(self, target: Workload, port: int, *, prefer_self: bool = True) -> Client:
        """A pod that can send HTTP to ``target``:``port`` with a tool its image has."""
        box = images.toolbox(target.image())
        if prefer_self and box.http is not None:
            with_pods = [p for p in self.pods(target) if pod_ready(p)]
            if with_pods:
                return Client(target, with_pods[0]["metadata"]["name"], box.http, "127.0.0.1", port)
        sp = self.m.service_port(target, port)
        if sp is None:
            raise Skip(f"no Service in dist/ exposes {target.ref} port {port}")
        candidates = sorted(
            (w for w in self.m.workloads() if w.ref != target.ref and images.toolbox(w.image()).http),
            key=lambda w: (images.toolbox(w.image()).http is Http.BASH, w.name),
        )
        for w in candidates:
            if not self.allowed(w, target, port):
                continue
            ready = [p for p in self.pods(w) if pod_ready(p)]
            if ready:
                tool = images.toolbox(w.image()).http
                assert tool is not None
                return Client(w, ready[0]["metadata"]["name"], tool, sp.host, sp.port)
        raise Skip(
            f"no ready pod with an HTTP client ({', '.join(sorted(images.TOOLBOXES))}) may reach "
            f"{target.ref}:{port} under the NetworkPolicies"
        )

    def http_get(self, client: Client, path: str) -> tuple[int, str, Result]:
        cmd = images.http_get(client.tool, client.host, client.port, path, self.o.exec_timeout)
        res = self.exec(client.workload, client.pod, cmd)
        status, body = images.parse_http(client.tool, res.rc, res.out, res.err)
        return status, body, res

    def get_api_json(self, client: Client, path: str) -> Any:
        status, body, res = self.http_get(client, path)
        if status != 200:
            raise ApiError(
                f"GET {path} via {client.describe()}: " + (f"HTTP {status}" if status else res.summary())
            )
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ApiError(f"GET {path} via {client.describe()} returned no JSON") from exc

    # ---- objects, workloads, PVCs --------------------------------------------------------------------------

    def check_objects(self, spec: CheckSpec) -> Outcome:
        import tempfile

        if self.o.dist is None:
            raise Skip("no dist/ directory to diff")
        with tempfile.TemporaryDirectory(prefix="vault-aio-diff-") as tmp:
            program = Path(tmp) / "vault-aio-drift"
            program.write_text(_drift_program())
            program.chmod(0o700)
            res = self.k.run("diff", "-k", str(self.o.dist), env={"KUBECTL_EXTERNAL_DIFF": str(program)})
        total = len(self.m.objects)
        if res.rc == 0:
            return self._outcome(
                spec, Status.PASS, f"{total} objects match {self.m.source} (kubectl diff is clean)"
            )
        if res.rc != 1:
            return self._outcome(spec, Status.FAIL, f"kubectl diff failed: {res.summary()}")
        drifted, raw = [], []
        for line in res.out.splitlines():
            try:
                drifted.append(json.loads(line))
            except ValueError:
                raw.append(line)
        details = []
        for d in drifted:
            if d["missing"]:
                details.append(f"{d['object']}: missing in the cluster")
            for f in d["fields"]:
                details.append(f"{d['object']}: {f['path']}: cluster {f['live']}, dist {f['dist']}")
        if not drifted:
            details = raw[:50]
        missing = sum(1 for d in drifted if d["missing"])
        evidence = f"{len(drifted) or 'some'} of {total} objects differ from {self.m.source}"
        if missing:
            evidence += f" ({missing} missing)"
        return self._outcome(spec, Status.FAIL, evidence + ": kubectl apply -k dist/, or fix dist/", details)

    def check_workloads(self, spec: CheckSpec) -> Outcome:
        live: dict[str, Mapping[str, Any]] = {}
        for ns in sorted({w.namespace for w in self.m.workloads()}):
            doc, res = self.k.get_json(ns, "statefulsets,daemonsets,deployments")
            if doc is None:
                return self._outcome(spec, Status.FAIL, f"cannot list the workloads in {ns}: {res.summary()}")
            for item in doc.get("items") or []:
                live[f"{ns}/{item['kind'].lower()}/{item['metadata']['name']}"] = item
        bad, pending, good = [], [], []
        for w in self.m.workloads():
            obj = live.get(w.ref)
            if obj is None:
                bad.append(f"{w.ref}: missing")
                continue
            state, problem, waits = _rollout(obj)
            if problem:
                bad.append(f"{w.ref}: {state}{self._pod_trouble(w)}")
            elif waits:
                pending.append(f"{w.ref}: {state}")
            else:
                good.append(f"{w.name} {state}")
        if bad:
            return self._outcome(
                spec, Status.FAIL, f"{len(bad)} of {len(self.m.workloads())} not ready", bad + pending
            )
        if pending:
            return self._outcome(spec, Status.WARN, f"{len(pending)} wait for a restart", pending)
        return self._outcome(spec, Status.PASS, f"{len(good)} ready: " + ", ".join(good))

    def _pod_trouble(self, w: Workload) -> str:
        try:
            pods = self.pods(w)
        except Skip:
            return ""
        notes = []
        for p in pods:
            if pod_ready(p):
                continue
            status = p.get("status") or {}
            reasons = [
                (cs.get("state") or {}).get("waiting", {}).get("reason")
                for cs in status.get("containerStatuses") or []
            ]
            reason = next((r for r in reasons if r), status.get("phase", "unknown"))
            notes.append(f"{p['metadata']['name']} {reason}")
        return f" ({', '.join(notes)})" if notes else ""

    def check_pvcs(self, spec: CheckSpec) -> Outcome:
        expected = [(w.namespace, name) for w in self.m.workloads() for name in w.claim_names()]
        if not expected:
            raise Skip("dist/ has no StatefulSet volume claims")
        live: dict[tuple[str, str], Mapping[str, Any]] = {}
        for ns in sorted({ns for ns, _ in expected}):
            doc, res = self.k.get_json(ns, "persistentvolumeclaims")
            if doc is None:
                return self._outcome(spec, Status.FAIL, f"cannot list the PVCs in {ns}: {res.summary()}")
            for item in doc.get("items") or []:
                live[(ns, item["metadata"]["name"])] = item
        bad = []
        for ns, name in expected:
            pvc = live.get((ns, name))
            if pvc is None:
                bad.append(f"{ns}/{name}: not created (is its pod scheduled?)")
                continue
            phase = (pvc.get("status") or {}).get("phase", "Unknown")
            if phase != "Bound":
                sc = pvc["spec"].get("storageClassName") or "(default class)"
                bad.append(f"{ns}/{name}: {phase}, storage class {sc}")
        if bad:
            return self._outcome(spec, Status.FAIL, f"{len(bad)} of {len(expected)} PVCs not bound", bad)
        return self._outcome(spec, Status.PASS, f"{len(expected)} PVCs bound")

    # ---- Vault ---------------------------------------------------------------------------------------------

    @cached_property
    def vault(self) -> Workload | None:
        return self.m.component("vault")

    def _vault_statuses(self) -> dict[str, Mapping[str, Any] | str]:
        """``vault status -format=json`` of every Vault pod (or why there is none), once."""
        if self._statuses is not None:
            return self._statuses
        w = self.need("vault")
        statuses: dict[str, Mapping[str, Any] | str] = {}
        for p in self.pods(w):
            name = p["metadata"]["name"]
            if not pod_running(p):
                statuses[name] = f"pod is {(p.get('status') or {}).get('phase', 'not running')}"
                continue
            res = self.exec(w, name, ["vault", "status", "-format=json"])
            try:
                doc = json.loads(res.out) if res.rc in (0, 2) else None
            except ValueError:
                doc = None
            statuses[name] = doc if isinstance(doc, dict) else f"does not answer: {res.summary()}"
        self._statuses = statuses
        self.vault_status = {k: v for k, v in statuses.items() if isinstance(v, dict)}
        return statuses

    def check_vault_initialized(self, spec: CheckSpec) -> Outcome:
        w = self.need("vault")
        statuses = self._vault_statuses()
        if not statuses:
            return self._outcome(spec, Status.FAIL, f"no Vault pod exists ({w.ref})")
        answered = {k: v for k, v in statuses.items() if isinstance(v, dict)}
        if not answered:
            raise Skip("no Vault pod answers: " + "; ".join(f"{k} {v}" for k, v in statuses.items()))
        uninit = [k for k, v in answered.items() if not v.get("initialized")]
        if uninit:
            return self._outcome(
                spec, Status.FAIL, f"not initialised: {', '.join(uninit)}: run scripts/init-vault.sh"
            )
        return self._outcome(spec, Status.PASS, f"initialised ({len(answered)} pods answer)")

    def check_vault_unsealed(self, spec: CheckSpec) -> Outcome:
        w = self.need("vault")
        statuses = self._vault_statuses()
        if self.failed("vault.initialized"):
            raise Skip("Vault is not initialised")
        want = w.replicas or 0
        bad, good = [], []
        for pod, st in statuses.items():
            if isinstance(st, str):
                bad.append(f"{pod}: {st}")
            elif st.get("sealed"):
                bad.append(f"{pod}: sealed (unseal progress {st.get('progress', 0)}/{st.get('t', '?')})")
            else:
                role = "active" if st.get("is_self") or not st.get("ha_enabled", True) else "standby"
                good.append(f"{pod} {role}")
        if len(statuses) < want:
            bad.append(f"{len(statuses)} of {want} pods exist")
        if bad:
            return self._outcome(spec, Status.FAIL, "; ".join(bad))
        return self._outcome(spec, Status.PASS, "unsealed: " + ", ".join(good))

    def unsealed_vault_pod(self) -> str:
        """An unsealed Vault pod, the active one first."""
        self._vault_statuses()
        unsealed = [k for k, v in self.vault_status.items() if v.get("initialized") and not v.get("sealed")]
        if not unsealed:
            raise Skip("no unsealed Vault pod to ask (see vault.unsealed)")
        active = [k for k in unsealed if self.vault_status[k].get("is_self")]
        return (active or unsealed)[0]

    def vault_token_json(self, *args: str) -> Any:
        w = self.need("vault")
        if self.o.token is None:
            raise Skip(
                "needs --token-file: a Vault token with the operator policy (sent on stdin, never printed)"
            )
        pod = self.unsealed_vault_pod()
        res = self.exec(w, pod, ["sh", "-c", TOKEN_WRAPPER, "sh", *args, "-format=json"], stdin=self.o.token)
        if not res.ok:
            raise ApiError(f"vault {' '.join(args)} in {pod}: {res.summary()}")
        try:
            return json.loads(res.out)
        except ValueError as exc:
            raise ApiError(f"vault {' '.join(args)} in {pod} printed no JSON") from exc

    def check_vault_raft_peers(self, spec: CheckSpec) -> Outcome:
        w = self.need("vault")
        if (self.m.vault_config(w).get("storage") or {}).get("raft") is None:
            raise Skip("Vault's storage is not raft")
        try:
            doc = self.vault_token_json("operator", "raft", "list-peers")
        except ApiError as err:
            return self._outcome(spec, Status.FAIL, str(err))
        servers = ((doc.get("data") or {}).get("config") or {}).get("servers") or []
        voters = sorted(s["node_id"] for s in servers if s.get("voter", True))
        want = w.replicas or 0
        expected = [f"{w.name}-{i}" for i in range(want)]
        missing = [n for n in expected if n not in voters]
        extra = [n for n in voters if n not in expected]
        leader = next((s["node_id"] for s in servers if s.get("leader")), "none")
        evidence = f"{len(voters)} voters for {want} replicas (leader {leader})"
        if missing or extra or len(voters) != want:
            details = [f"missing: {n}" for n in missing] + [f"not a pod of {w.ref}: {n}" for n in extra]
            return self._outcome(spec, Status.FAIL, evidence, details)
        return self._outcome(spec, Status.PASS, evidence + ": " + ", ".join(voters))

    def check_vault_autopilot(self, spec: CheckSpec) -> Outcome:
        w = self.need("vault")
        if (self.m.vault_config(w).get("storage") or {}).get("raft") is None:
            raise Skip("Vault's storage is not raft")
        try:
            doc = self.vault_token_json("operator", "raft", "autopilot", "state")
        except ApiError as err:
            return self._outcome(spec, Status.FAIL, str(err))
        state = autopilot_state(doc)
        unhealthy = [
            f"{name}: {s.get('status', '?')}, last contact {s.get('last_contact', '?')}"
            for name, s in sorted((state.get("servers") or {}).items())
            if not s.get("healthy")
        ]
        tolerance = state.get("failure_tolerance", 0)
        if not state.get("healthy") or unhealthy:
            return self._outcome(
                spec, Status.FAIL, f"autopilot unhealthy (failure tolerance {tolerance})", unhealthy
            )
        evidence = f"healthy, {len(state.get('servers') or {})} servers, failure tolerance {tolerance}"
        if (w.replicas or 1) > 1 and tolerance < 1:
            return self._outcome(spec, Status.WARN, evidence + ": losing one more node loses quorum")
        return self._outcome(spec, Status.PASS, evidence)

    def check_vault_audit_device(self, spec: CheckSpec) -> Outcome:
        self.need("vault")
        try:
            doc = self.vault_token_json("audit", "list")
        except ApiError as err:
            return self._outcome(spec, Status.FAIL, str(err))
        devices = doc.get("data", doc) if isinstance(doc, dict) else {}
        if not devices:
            return self._outcome(
                spec, Status.FAIL, "no audit device: enable one (scripts/init-vault.sh does)"
            )
        shown = [
            f"{path} {d.get('type')} file_path={(d.get('options') or {}).get('file_path', '-')}"
            for path, d in sorted(devices.items())
        ]
        to_stdout = any((d.get("options") or {}).get("file_path") == "stdout" for d in devices.values())
        if not to_stdout:
            return self._outcome(
                spec, Status.WARN, "no device writes to stdout: Alloy ships no audit log to Loki", shown
            )
        return self._outcome(spec, Status.PASS, "; ".join(shown))

    def check_vault_tls(self, spec: CheckSpec) -> Outcome:
        from vaultaio_constructs.verify.x509 import CertificateError, not_after

        w = self.need("vault")
        listeners = [
            lst.get("tcp", {})
            for lst in self.m.vault_config(w).get("listener") or []
            if isinstance(lst, dict)
        ]
        files = sorted(
            {
                lst["tls_cert_file"]
                for lst in listeners
                if lst.get("tls_cert_file") and not lst.get("tls_disable")
            }
        )
        if not files:
            raise Skip("Vault's listeners have TLS disabled (vault.tls.enabled: false)")
        warn_days, _ = self.m.alert_threshold("VaultTLSCertificateExpiringSoon", 30)
        crit_days, _ = self.m.alert_threshold("VaultTLSCertificateExpiryCritical", 7)
        now = datetime.fromtimestamp(self.o.clock(), UTC)
        worst: tuple[float, str] | None = None
        problems = []
        for p in self.pods(w):
            if not pod_running(p):
                continue
            pod = p["metadata"]["name"]
            for path in files:
                res = self.exec(w, pod, ["cat", path])
                if not res.ok:
                    problems.append(f"{pod}: cannot read {path}: {res.summary()}")
                    continue
                try:
                    end = not_after(res.out)
                except CertificateError as err:
                    problems.append(f"{pod}: {path}: {err}")
                    continue
                days = (end - now).total_seconds() / 86400
                if worst is None or days < worst[0]:
                    worst = (days, f"{pod}:{path} expires {end:%Y-%m-%d %H:%M} UTC")
        if worst is None:
            if problems:
                return self._outcome(spec, Status.FAIL, problems[0], problems)
            raise Skip("no running Vault pod")
        days, where = worst
        evidence = f"{where}: {days:.0f} days left (alerts at {warn_days:g} and {crit_days:g} days)"
        if problems or days < crit_days:
            return self._outcome(spec, Status.FAIL, evidence if days >= 0 else f"{where}: EXPIRED", problems)
        if days < warn_days:
            return self._outcome(spec, Status.WARN, evidence)
        return self._outcome(spec, Status.PASS, evidence)

    # ---- Prometheus ----------------------------------------------------------------------------------------

    def prometheus(self) -> tuple[Workload, Client, Mapping[str, Any]]:
        import yaml

        w = self.need("prometheus", " (its checks belong to whatever Prometheus scrapes the stack)")
        port = w.port("web") or w.ports()[0].number
        config: Mapping[str, Any] = {}
        for key, text in self.m.config_maps_of(w).items():
            if key.endswith((".yml", ".yaml")) and "scrape_configs" in text:
                config = yaml.load(text, Loader=LOADER) or {}
                break
        return w, self.client_for(w, port), config

    def check_prometheus_targets(self, spec: CheckSpec) -> Outcome:
        _, client, config = self.prometheus()
        try:
            doc = self.get_api_json(client, "/api/v1/targets?state=active")
        except ApiError as err:
            return self._outcome(spec, Status.FAIL, str(err))
        active = (doc.get("data") or {}).get("activeTargets") or []
        by_job: dict[str, list[Mapping[str, Any]]] = {}
        for t in active:
            by_job.setdefault((t.get("labels") or {}).get("job") or t.get("scrapePool", "?"), []).append(t)
        bad: list[str] = []
        pending: list[str] = []
        good: list[str] = []
        for job, want in self._expected_targets(config).items():
            targets = by_job.get(job, [])
            up = [t for t in targets if t.get("health") == "up"]
            if not targets:
                bad.append(f"job {job}: no target discovered (expected {want})")
                continue
            for t in targets:
                instance = (t.get("labels") or {}).get("instance", t.get("scrapeUrl"))
                if t.get("health") == "unknown":  # discovered, not scraped yet (Prometheus just started)
                    pending.append(f"job {job}: {instance} not scraped yet")
                elif t.get("health") != "up":
                    bad.append(f"job {job}: {instance} {t.get('lastError') or t.get('health')}")
            if len(targets) < want:
                bad.append(f"job {job}: {len(targets)} targets, expected {want}")
            good.append(f"{job} {len(up)}/{len(targets)}")
        if bad:
            return self._outcome(spec, Status.FAIL, f"{len(bad)} scrape problems", bad + pending)
        if pending:
            return self._outcome(
                spec, Status.WARN, f"{len(pending)} targets not scraped yet: run again", pending
            )
        return self._outcome(spec, Status.PASS, "up: " + ", ".join(good))

    def _expected_targets(self, config: Mapping[str, Any]) -> dict[str, int]:
        """Job -> number of targets: static targets counted, DNS discovery as the replicas it resolves to."""
        expected = {}
        for job in config.get("scrape_configs") or []:
            count = sum(len(sc.get("targets") or []) for sc in job.get("static_configs") or [])
            for sd in job.get("dns_sd_configs") or []:
                for name in sd.get("names") or []:
                    count += self._replicas_behind(name)
            expected[job["job_name"]] = count
        return expected

    def _replicas_behind(self, dns_name: str) -> int:
        service, _, rest = dns_name.partition(".")
        namespace = rest.split(".", 1)[0]
        svc = self.m.get("Service", namespace, service)
        if svc is None:
            return 1
        selector = svc["spec"].get("selector") or {}
        for w in self.m.workloads():
            labels = w.template["metadata"].get("labels", {})
            if w.namespace == namespace and selector and all(labels.get(k) == v for k, v in selector.items()):
                return w.replicas or 1
        return 1

    def check_prometheus_rules(self, spec: CheckSpec) -> Outcome:
        import yaml

        w, client, _ = self.prometheus()
        expected = set()
        for key, text in self.m.config_maps_of(w).items():
            if key.endswith((".yml", ".yaml")) and "groups:" in text:
                doc = yaml.load(text, Loader=LOADER) or {}
                expected |= {
                    g["name"] for g in doc.get("groups") or [] if isinstance(g, dict) and "name" in g
                }
        try:
            doc = self.get_api_json(client, "/api/v1/rules")
        except ApiError as err:
            return self._outcome(spec, Status.FAIL, str(err))
        groups = (doc.get("data") or {}).get("groups") or []
        loaded = {g["name"] for g in groups}
        bad = [f"group {g} not loaded" for g in sorted(expected - loaded)]
        rules = 0
        for g in groups:
            for r in g.get("rules") or []:
                rules += 1
                if r.get("health") not in (None, "ok", "unknown") or r.get("lastError"):
                    bad.append(
                        f"{g['name']}/{r.get('name')}: {r.get('health')}: {r.get('lastError', '')}".rstrip(
                            ": "
                        )
                    )
        if bad:
            return self._outcome(spec, Status.FAIL, f"{len(bad)} rule problems", bad)
        return self._outcome(spec, Status.PASS, f"{len(loaded)} groups, {rules} rules loaded without errors")

    def check_prometheus_alertmanager(self, spec: CheckSpec) -> Outcome:
        _, client, config = self.prometheus()
        wanted = [
            t
            for am in (config.get("alerting") or {}).get("alertmanagers") or []
            for sc in am.get("static_configs") or []
            for t in sc.get("targets") or []
        ]
        if not wanted:
            raise Skip("Prometheus's configuration sends alerts nowhere")
        try:
            doc = self.get_api_json(client, "/api/v1/alertmanagers")
        except ApiError as err:
            return self._outcome(spec, Status.FAIL, str(err))
        data = doc.get("data") or {}
        active = [a.get("url", "") for a in data.get("activeAlertmanagers") or []]
        missing = [t for t in wanted if not any(f"//{t}/" in url or url.endswith(f"//{t}") for url in active)]
        if missing:
            dropped = [a.get("url", "") for a in data.get("droppedAlertmanagers") or []]
            return self._outcome(
                spec, Status.FAIL, f"not discovered: {', '.join(missing)}", [f"dropped: {u}" for u in dropped]
            )
        return self._outcome(spec, Status.PASS, "active: " + ", ".join(active))

    # ---- logs and traces end to end ------------------------------------------------------------------------

    def _poll(self, probe: Callable[[], bool]) -> float | None:
        """Call ``probe`` until it is true or the e2e timeout passes; the seconds it took, or None."""
        start = self.o.clock()
        while True:
            if probe():
                return self.o.clock() - start
            if self.o.clock() - start >= self.o.e2e_timeout:
                return None
            self.o.sleep(self.o.poll_interval)

    def check_logs_audit_in_loki(self, spec: CheckSpec) -> Outcome:
        vault = self.need("vault")
        loki = self.need("loki")
        self.need("alloy", " (nothing ships Vault's log to Loki)")
        if self.failed("vault.audit-device"):
            raise Skip("no audit device is enabled (see vault.audit-device)")
        pod = self.unsealed_vault_pod()
        client = self.client_for(loki, loki.port("http") or loki.ports()[0].number)
        marker = f"vault-aio-verify-{self.o.nonce()}"
        path = f"sys/policies/acl/{marker}"
        start_ns = int((self.o.clock() - 300) * 1e9)  # five minutes of slack for node clocks
        if self.o.token is not None:
            res = self.exec(vault, pod, ["sh", "-c", TOKEN_WRAPPER, "sh", "read", path], stdin=self.o.token)
        else:
            res = self.exec(vault, pod, ["vault", "read", path])
        if res.rc not in (0, 2) or "connection refused" in res.err:
            return self._outcome(
                spec, Status.FAIL, f"the test request to Vault in {pod} failed: {res.summary()}"
            )
        from vaultaio_constructs.loglabels import AUDIT_LOG_TYPE

        query = f'{{log_type="{AUDIT_LOG_TYPE}", namespace="{vault.namespace}"}} |= "{marker}"'
        api = "/loki/api/v1/query_range?" + urllib.parse.urlencode(
            {"query": query, "start": str(start_ns), "limit": "5", "direction": "backward"}
        )
        errors: list[str] = []

        def found() -> bool:
            try:
                doc = self.get_api_json(client, api)
            except ApiError as err:
                errors[:] = [str(err)]
                return False
            errors.clear()
            return any((s.get("values") or []) for s in (doc.get("data") or {}).get("result") or [])

        took = self._poll(found)
        if took is None:
            evidence = f"no audit entry for {path} in Loki after {self.o.e2e_timeout:g} s"
            return self._outcome(
                spec, Status.FAIL, evidence, [*errors, f"query: {query}", f"via {client.describe()}"]
            )
        return self._outcome(spec, Status.PASS, f"audit entry for {path} in Loki after {took:.0f} s")

    def check_traces_span_in_tempo(self, spec: CheckSpec) -> Outcome:
        alloy = self.need("alloy")
        tempo = self.need("tempo")
        otlp = alloy.port("otlp-http")
        if otlp is None:
            raise Skip(f"{alloy.ref} has no otlp-http port")
        box = images.toolbox(alloy.image())
        if box.http is not Http.BASH and box.http is not Http.CURL:
            raise Skip(f"{alloy.image()} has no tool to POST a span")
        pod = self.ready_pod(alloy)
        client = self.client_for(tempo, tempo.port("http") or tempo.ports()[0].number)
        trace_id = (self.o.nonce() + self.o.nonce())[:32]  # 16 random bytes, hex (OTLP/JSON ids are hex)
        span_id = self.o.nonce()[:16]
        now_ns = int(self.o.clock() * 1e9)
        body = json.dumps(
            {
                "resourceSpans": [
                    {
                        "resource": {
                            "attributes": [
                                {"key": "service.name", "value": {"stringValue": "vault-aio-verify"}}
                            ]
                        },
                        "scopeSpans": [
                            {
                                "scope": {"name": "vault-aio-verify"},
                                "spans": [
                                    {
                                        "traceId": trace_id,
                                        "spanId": span_id,
                                        "name": "vault-aio verify",
                                        "kind": 1,
                                        "startTimeUnixNano": str(now_ns - 1_000_000),
                                        "endTimeUnixNano": str(now_ns),
                                    }
                                ],
                            }
                        ],
                    }
                ]
            },
            separators=(",", ":"),
        )
        res = self.exec(
            alloy, pod, images.http_post_json("127.0.0.1", otlp, "/v1/traces", body, self.o.exec_timeout)
        )
        status, answer = images.parse_http(Http.BASH, res.rc, res.out, res.err)
        if status != 200:
            why = f"HTTP {status} {answer.strip()[:120]}" if status else res.summary()
            return self._outcome(spec, Status.FAIL, f"Alloy's OTLP receiver in {pod} refused the span: {why}")
        errors: list[str] = []

        def found() -> bool:
            status, _, res = self.http_get(client, f"/api/traces/{trace_id}")
            if status != 200:
                errors[:] = [
                    f"GET /api/traces/{trace_id}: " + (f"HTTP {status}" if status else res.summary())
                ]
            return status == 200

        took = self._poll(found)
        if took is None:
            return self._outcome(
                spec,
                Status.FAIL,
                f"trace {trace_id} sent to {pod}:{otlp} not in Tempo after {self.o.e2e_timeout:g} s",
                [*errors, f"via {client.describe()}"],
            )
        return self._outcome(
            spec, Status.PASS, f"trace {trace_id} via {pod} found in Tempo after {took:.0f} s"
        )

    # ---- Grafana -------------------------------------------------------------------------------------------

    def grafana(self) -> tuple[Workload, str, int, tuple[str, str]]:
        import re

        w = self.need("grafana")
        if images.toolbox(w.image()).http is not Http.CURL:
            raise Skip(f"{w.image()} has no curl")
        files = self.m.config_maps_of(w)
        ini = next((t for k, t in files.items() if k.endswith(".ini")), "")
        user = re.search(r"^admin_user\s*=\s*\$__file\{([^}]+)\}", ini, re.M)
        password = re.search(r"^admin_password\s*=\s*\$__file\{([^}]+)\}", ini, re.M)
        if not (user and password):
            raise Skip("grafana.ini does not read the admin credentials from files")
        port = w.port("http") or w.ports()[0].number
        return w, self.ready_pod(w), port, (user.group(1), password.group(1))

    def grafana_api(self, path: str) -> tuple[int, Any]:
        w, pod, port, (user, password) = self.grafana()
        url = f"http://127.0.0.1:{port}{path}"
        cmd = ["sh", "-c", images.CURL_BASIC_AUTH, "sh", user, password, str(self.o.exec_timeout), url]
        res = self.exec(w, pod, cmd)
        status, body = images.parse_http(Http.CURL, res.rc, res.out, res.err)
        if status == 0:
            raise ApiError(f"GET {path} in {pod}: {res.summary()}")
        try:
            return status, json.loads(body) if body.strip() else None
        except ValueError:
            return status, body

    def check_grafana_dashboards(self, spec: CheckSpec) -> Outcome:
        w, *_ = self.grafana()
        expected = {}
        for key, text in self.m.config_maps_of(w).items():
            if key.endswith(".json"):
                try:
                    doc = json.loads(text)
                except ValueError:
                    continue
                if isinstance(doc, dict) and doc.get("uid") and "panels" in doc:
                    expected[doc["uid"]] = doc.get("title", key)
        try:
            status, found = self.grafana_api("/api/search?type=dash-db&limit=5000")
        except ApiError as err:
            return self._outcome(spec, Status.FAIL, str(err))
        if status != 200 or not isinstance(found, list):
            return self._outcome(spec, Status.FAIL, f"Grafana's search API answered HTTP {status}")
        present = {d.get("uid") for d in found}
        missing = [f"{uid} ({title})" for uid, title in sorted(expected.items()) if uid not in present]
        if missing:
            return self._outcome(
                spec, Status.FAIL, f"{len(missing)} of {len(expected)} dashboards missing", missing
            )
        return self._outcome(
            spec, Status.PASS, f"{len(expected)} dashboards: " + ", ".join(sorted(expected.values()))
        )

    def check_grafana_datasources(self, spec: CheckSpec) -> Outcome:
        import yaml

        w, *_ = self.grafana()
        expected = {}
        for key, text in self.m.config_maps_of(w).items():
            if key.endswith((".yaml", ".yml")) and "datasources:" in text:
                for ds in (yaml.load(text, Loader=LOADER) or {}).get("datasources") or []:
                    expected[ds["uid"]] = (ds.get("name", ds["uid"]), ds.get("type", ""))
        if not expected:
            raise Skip("Grafana provisions no data source")
        bad, good = [], []
        for uid, (name, kind) in sorted(expected.items()):
            # the Alertmanager data source is a frontend plugin: no backend health check, presence only
            path = f"/api/datasources/uid/{uid}" + ("" if kind in NO_HEALTH_CHECK else "/health")
            try:
                status, doc = self.grafana_api(path)
            except ApiError as err:
                return self._outcome(spec, Status.FAIL, str(err))
            message = doc.get("message", "") if isinstance(doc, dict) else str(doc or "")[:120]
            if kind in NO_HEALTH_CHECK and status == 200:
                good.append(f"{name} (provisioned)")
            elif status == 200 and isinstance(doc, dict) and doc.get("status") == "OK":
                good.append(name)
            elif status == 404 and "not found" in message.lower() and "data source" in message.lower():
                bad.append(f"{name} ({uid}): not provisioned")
            elif status in (404, 501) or "not implemented" in message.lower():
                good.append(f"{name} (no health check)")
            else:
                bad.append(f"{name} ({uid}): HTTP {status} {message}".rstrip())
        if bad:
            return self._outcome(
                spec, Status.FAIL, f"{len(bad)} of {len(expected)} data sources unhealthy", bad
            )
        return self._outcome(spec, Status.PASS, "healthy: " + ", ".join(good))

    # ---- NetworkPolicies -----------------------------------------------------------------------------------

    def check_network_enforced(self, spec: CheckSpec) -> Outcome:
        if not any(o["kind"] == "NetworkPolicy" for o in self.m.objects):
            raise Skip("dist/ has no NetworkPolicies")
        order = {"grafana": 0, "chrony": 1, "alloy": 2}
        sources = sorted(
            (w for w in self.m.workloads() if images.toolbox(w.image()).tcp_probe),
            key=lambda w: (order.get(w.component, 9), w.name),
        )
        targets = [w for w in self.m.workloads() if any(pod_ready(p) for p in self._safe_pods(w))]
        for src in sources:
            ready = [p for p in self._safe_pods(src) if pod_ready(p)]
            if not ready:
                continue
            allowed, forbidden = self._probe_pair(src, targets)
            if allowed and forbidden:
                return self._run_probes(spec, src, ready[0]["metadata"]["name"], allowed, forbidden)
        raise Skip("no ready pod with bash has both an allowed and a forbidden destination to probe")

    def _safe_pods(self, w: Workload) -> list[Mapping[str, Any]]:
        try:
            return self.pods(w)
        except Skip:
            return []

    def _probe_pair(self, src: Workload, targets: list[Workload]) -> tuple[Any, Any]:
        allowed, forbidden = None, None
        prefer = {"vault": 0, "prometheus": 1}
        for dst in sorted(targets, key=lambda w: (prefer.get(w.component, 9), w.name)):
            if dst.ref == src.ref:
                continue
            # ClusterIP Services only: their port is the component's API, which listens whenever a pod is
            # ready (a headless Service also reaches ports such as Vault's 8201 that a sealed pod does not
            # open, and a refused connection there would look like a policy at work)
            for sp in (p for p in self.m.service_ports(dst) if not p.headless):
                ok = self.allowed(src, dst, sp.target)
                if ok and allowed is None:
                    allowed = (dst, sp)
                if not ok and forbidden is None:
                    forbidden = (dst, sp)
        return allowed, forbidden

    def _run_probes(self, spec: CheckSpec, src: Workload, pod: str, allowed: Any, forbidden: Any) -> Outcome:
        t = self.o.exec_timeout
        _, a_sp = allowed
        _, f_sp = forbidden
        a_res = self.exec(src, pod, images.tcp_connect(a_sp.host, a_sp.port, t))
        f_res = self.exec(src, pod, images.tcp_connect(f_sp.host, f_sp.port, t))
        a_txt = f"{src.name} -> {a_sp.host}:{a_sp.port} (allowed)"
        f_txt = f"{src.name} -> {f_sp.host}:{f_sp.port} (forbidden)"
        dns_error = ("Name or service not known", "Temporary failure in name resolution", "bad address")
        if f_res.ok:
            return self._outcome(
                spec,
                Status.FAIL,
                f"your CNI does not enforce NetworkPolicies: {f_txt} connected from {pod}",
                [
                    f"{a_txt}: {'connected' if a_res.ok else 'failed'}",
                    "install a CNI with a policy engine (Calico, Cilium, ...) or enable its enforcement",
                ],
            )
        if not a_res.ok:
            return self._outcome(
                spec,
                Status.FAIL,
                f"{a_txt} failed from {pod}: {_connect_error(a_res)}",
                [f"{f_txt}: blocked", "the NetworkPolicies of dist/ are missing or the target is down"],
            )
        if any(d in f_res.err for d in dns_error):
            return self._outcome(spec, Status.WARN, f"{f_txt}: name did not resolve; cannot tell")
        return self._outcome(
            spec, Status.PASS, f"from {pod}: {a_txt} connected, {f_txt} blocked ({_connect_error(f_res)})"
        )

    # ---- time ----------------------------------------------------------------------------------------------

    def check_time_chrony(self, spec: CheckSpec) -> Outcome:
        import re

        w = self.need("chrony", " (node time is then someone else's job)")
        conf = "\n".join(self.m.config_maps_of(w).values())
        sock = re.search(r"^bindcmdaddress\s+(/\S+)", conf, re.M)
        head = ["chronyc", "-h", sock.group(1)] if sock else ["chronyc"]
        limit, source = self.m.alert_threshold("NodeClockSkewDetected", 0.05)
        pods = [p for p in self.pods(w) if pod_running(p)]
        if not pods:
            return self._outcome(spec, Status.FAIL, f"no running pod of {w.ref}")
        bad, good = [], []
        worst = 0.0
        for p in pods:
            name = p["metadata"]["name"]
            node = (p.get("spec") or {}).get("nodeName", name)
            res = self.exec(w, name, [*head, "-c", "tracking"])
            if not res.ok:
                bad.append(f"{node}: chronyc failed: {res.summary()}")
                continue
            try:
                tracking = parse_tracking(res.out)
            except ValueError as err:
                bad.append(f"{node}: {err}")
                continue
            offset = abs(tracking["offset"])
            worst = max(worst, offset)
            if tracking["leap"] == "Not synchronised":
                bad.append(f"{node}: not synchronised (reference {tracking['reference']})")
            elif offset > limit:
                bad.append(f"{node}: offset {offset:.6f} s > {limit:g} s ({source})")
            else:
                good.append(node)
        if bad:
            return self._outcome(spec, Status.FAIL, f"{len(bad)} of {len(pods)} nodes", bad)
        return self._outcome(
            spec,
            Status.PASS,
            f"{len(good)} nodes synchronised, largest offset {worst:.6f} s (limit {limit:g} s, {source})",
        )


class ApiError(Exception):
    """An API the check needs answered with an error."""


class ClusterUnreachable(Exception):
    """kubectl cannot talk to the cluster at all."""


def _connect_error(res: Result) -> str:
    if res.rc == 124:
        return "timed out"
    return res.summary(120)


def _rollout(obj: Mapping[str, Any]) -> tuple[str, bool, bool]:
    """(state text, not ready, ready but pods wait for a restart) of a live workload."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if obj["kind"] == "DaemonSet":
        want = status.get("desiredNumberScheduled", 0)
        ready, updated = status.get("numberReady", 0), status.get("updatedNumberScheduled", 0)
        if want == 0:
            return "scheduled on no node", True, False
        return f"{ready}/{want} ready", ready < want, updated < want
    want = spec.get("replicas", 1)
    ready = status.get("readyReplicas", 0)
    updated = status.get("updatedReplicas", 0)
    state = f"{ready}/{want} ready"
    if obj["kind"] == "StatefulSet" and updated < want:
        state += f", {want - updated} on an old revision"
        if (spec.get("updateStrategy") or {}).get("type") == "OnDelete":
            state += " (OnDelete: vault-aio upgrade-vault rolls them)"
    return state, ready < want, updated < want


def autopilot_state(doc: Any) -> Mapping[str, Any]:
    """The autopilot state with the API's snake_case keys.

    ``vault operator raft autopilot state -format=json`` marshals ``api.AutopilotState``, whose fields
    carry only ``mapstructure`` tags, so the CLI prints Go names (``Healthy``, ``FailureTolerance``,
    ``Servers`` and, per server, ``LastContact``); the HTTP API says ``healthy``, ``failure_tolerance``.
    Both are accepted; server names (the keys of ``servers``) are kept as they are.
    """
    if isinstance(doc, dict) and isinstance(doc.get("data"), dict) and "servers" in doc["data"]:
        doc = doc["data"]
    if not isinstance(doc, dict):
        return {}
    state = {_snake(k): v for k, v in doc.items()}
    servers = state.get("servers") or {}
    state["servers"] = {
        name: {_snake(k): v for k, v in server.items()}
        for name, server in servers.items()
        if isinstance(server, dict)
    }
    return state


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


def parse_tracking(csv: str) -> dict[str, Any]:
    """``chronyc -c tracking``: reference, stratum, offset (System time, seconds), leap status."""
    line = csv.strip().splitlines()[-1] if csv.strip() else ""
    fields = line.split(",")
    if len(fields) < 14:
        raise ValueError(f"unexpected chronyc output: {line[:80]!r}")
    return {
        "reference": fields[1] or fields[0],
        "stratum": int(fields[2]),
        "offset": float(fields[4]),
        "leap": fields[13],
    }


def _drift_program() -> str:
    """The KUBECTL_EXTERNAL_DIFF program: this Python running :mod:`.drift` (kubectl takes a bare path)."""
    import sys

    package_root = str(Path(__file__).resolve().parents[2])
    return (
        f"#!{sys.executable}\n"
        "import sys\n"
        f"sys.path.insert(0, {package_root!r})\n"
        "from vaultaio_constructs.verify.drift import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
