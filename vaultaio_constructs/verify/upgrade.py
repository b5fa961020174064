"""``vault-aio upgrade-vault``: roll the Vault pods onto the StatefulSet's new revision in Vault's order.

Vault's upgrade procedure for integrated storage: upgrade the standbys one at a time, then step the active
node down and upgrade it last, and let the cluster become healthy between nodes (autopilot). The StatefulSet
uses ``updateStrategy: OnDelete`` so ``kubectl apply -k dist/`` changes the template but restarts no pod; this
command then deletes one pod at a time:

1. preflight: every pod Running, initialised and unsealed, raft voters == replicas, autopilot healthy;
   anything else stops it before it touches a pod;
2. each standby on an old revision, highest ordinal first: delete it, wait until its successor runs the
   new revision, is unsealed (with the Shamir seal: by you, see RUNBOOK *Unseal*) and autopilot reports every
   server healthy; a pod that does not get there within ``--timeout`` stops the procedure, the remaining
   pods keep running the old revision;
3. the active pod last (if it is on an old revision): ``vault operator step-down``, wait for another pod to
   become active, then as in 2.

The token (``--token-file``, policy ``admin``: step-down needs ``sys/step-down``) travels on stdin.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from vaultaio_constructs.verify.checks import autopilot_state
from vaultaio_constructs.verify.kube import TOKEN_WRAPPER, Kubectl, pod_running

REVISION_LABEL = "controller-revision-hash"


class UpgradeError(Exception):
    """The procedure stopped; the message says where and why."""


@dataclass
class Target:
    namespace: str
    statefulset: str
    container: str
    selector: str
    token: bytes
    timeout: float = 600.0
    interval: float = 5.0


class Upgrade:
    def __init__(
        self,
        kubectl: Kubectl,
        target: Target,
        *,
        out: TextIO = sys.stdout,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.k = kubectl
        self.t = target
        self.out = out
        self.clock = clock
        self.sleep = sleep

    def log(self, message: str) -> None:
        print(f"upgrade-vault: {message}", file=self.out, flush=True)

    # ---- cluster state -------------------------------------------------------------------------------------

    def statefulset(self) -> Mapping[str, Any]:
        doc, res = self.k.get_json(self.t.namespace, "statefulset", self.t.statefulset)
        if doc is None:
            raise UpgradeError(
                f"cannot read statefulset {self.t.namespace}/{self.t.statefulset}: {res.summary()}"
            )
        return dict(doc)

    def pods(self) -> list[Mapping[str, Any]]:
        pods, res = self.k.pods(self.t.namespace, self.t.selector)
        if not res.ok:
            raise UpgradeError(f"cannot list the Vault pods: {res.summary()}")
        return pods

    def status(self, pod: str) -> Mapping[str, Any] | None:
        res = self.k.exec(self.t.namespace, pod, self.t.container, ["vault", "status", "-format=json"])
        try:
            doc = json.loads(res.out) if res.rc in (0, 2) else None
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None

    def vault(self, pod: str, *args: str) -> Any:
        res = self.k.exec(
            self.t.namespace,
            pod,
            self.t.container,
            ["sh", "-c", TOKEN_WRAPPER, "sh", *args],
            stdin=self.t.token,
        )
        if not res.ok:
            raise UpgradeError(f"vault {' '.join(args[:4])} in {pod}: {res.summary()}")
        return json.loads(res.out) if "-format=json" in args else res.out

    def health(self, replicas: int) -> tuple[list[str], str | None]:
        """Problems that forbid the next step (empty: healthy), and the active pod."""
        problems: list[str] = []
        pods = self.pods()
        names = [p["metadata"]["name"] for p in pods]
        if len(pods) != replicas:
            problems.append(f"{len(pods)} of {replicas} pods exist ({', '.join(names) or 'none'})")
        active = None
        asked = None
        for p in pods:
            name = p["metadata"]["name"]
            if not pod_running(p):
                problems.append(f"{name} is {(p.get('status') or {}).get('phase', 'not running')}")
                continue
            st = self.status(name)
            if st is None:
                problems.append(f"{name}: Vault does not answer")
            elif not st.get("initialized"):
                problems.append(f"{name}: not initialised")
            elif st.get("sealed"):
                problems.append(f"{name}: sealed: unseal it (docs/RUNBOOK.md#unseal)")
            else:
                asked = asked or name
                if st.get("is_self") or not st.get("ha_enabled", True):
                    active = name
        if asked is None:
            return problems or ["no unsealed Vault pod"], active
        try:
            state = autopilot_state(
                self.vault(active or asked, "operator", "raft", "autopilot", "state", "-format=json")
            )
            peers = self.vault(active or asked, "operator", "raft", "list-peers", "-format=json")
        except (UpgradeError, ValueError) as err:
            return [*problems, str(err)], active
        servers = state.get("servers") or {}
        if not state.get("healthy"):
            problems.append("autopilot: cluster unhealthy")
        problems += [
            f"autopilot: {n} unhealthy ({s.get('status', '?')}, last contact {s.get('last_contact', '?')})"
            for n, s in sorted(servers.items())
            if not s.get("healthy")
        ]
        voters = [
            s["node_id"]
            for s in ((peers.get("data") or {}).get("config") or {}).get("servers") or []
            if s.get("voter", True)
        ]
        if len(voters) != replicas:
            problems.append(
                f"raft: {len(voters)} voters ({', '.join(sorted(voters))}) for {replicas} replicas"
            )
        return problems, active

    # ---- the procedure -------------------------------------------------------------------------------------

    def run(self) -> int:
        sts = self.statefulset()
        strategy = ((sts.get("spec") or {}).get("updateStrategy") or {}).get("type", "RollingUpdate")
        if strategy != "OnDelete":
            raise UpgradeError(
                f"statefulset {self.t.statefulset} has updateStrategy {strategy}: Kubernetes rolls it by "
                "ordinal, "
                "not in Vault's order; apply a dist/ of this version (OnDelete) first"
            )
        replicas = int(sts["spec"].get("replicas", 1))
        revision = (sts.get("status") or {}).get("updateRevision")
        if not revision:
            raise UpgradeError(f"statefulset {self.t.statefulset} reports no updateRevision yet: try again")
        stale = [
            p["metadata"]["name"]
            for p in self.pods()
            if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) != revision
        ]
        if not stale:
            self.log(f"every Vault pod runs revision {revision}: nothing to do")
            return 0
        problems, active = self.health(replicas)
        if problems:
            raise UpgradeError("preflight failed, no pod was touched: " + "; ".join(problems))
        self.log(f"preflight ok: {replicas} pods unsealed, autopilot healthy, active {active}")
        if replicas == 1:
            self.log("one replica: Vault is unavailable while its pod restarts")
        standbys = sorted((p for p in stale if p != active), key=_ordinal, reverse=True)
        order = standbys + ([active] if active in stale else [])
        self.log(f"order: {', '.join(order)} (standbys first, the active pod last)")
        for pod in order:
            if pod == active and replicas > 1:
                self.step_down(pod, replicas)
            self.replace(pod, revision, replicas)
        self.log(f"done: every Vault pod runs revision {revision}")
        return 0

    def step_down(self, pod: str, replicas: int) -> None:
        self.log(f"{pod}: active: vault operator step-down")
        self.vault(pod, "operator", "step-down")
        deadline = self.clock() + self.t.timeout
        while True:
            problems, active = self.health(replicas)
            if active and active != pod and not problems:
                self.log(f"{active} is active now")
                return
            if self.clock() >= deadline:
                raise UpgradeError(
                    f"stopped: no other pod became active and healthy within {self.t.timeout:g} s after "
                    f"{pod} stepped down: " + "; ".join(problems or [f"{active or 'no pod'} is active"])
                )
            self.sleep(self.t.interval)

    def replace(self, pod: str, revision: str, replicas: int) -> None:
        self.log(f"{pod}: deleting (its successor runs revision {revision})")
        res = self.k.run("delete", "pod", pod, "-n", self.t.namespace, "--wait=true")
        if not res.ok:
            raise UpgradeError(f"cannot delete pod {pod}: {res.summary()}")
        deadline = self.clock() + self.t.timeout
        hinted = False
        while True:
            current = {p["metadata"]["name"]: p for p in self.pods()}
            new = current.get(pod)
            problems: list[str] = []
            if new is None or (new["metadata"].get("labels") or {}).get(REVISION_LABEL) != revision:
                problems.append(f"{pod} not recreated yet")
            else:
                problems, _ = self.health(replicas)
                if not hinted and any(f"{pod}: sealed" in p for p in problems):
                    self.log(f"{pod} is sealed: unseal it (docs/RUNBOOK.md#unseal); waiting")
                    hinted = True
            if not problems:
                self.log(f"{pod}: running revision {revision}, unsealed, autopilot healthy")
                return
            if self.clock() >= deadline:
                raise UpgradeError(
                    f"stopped: {pod} not healthy {self.t.timeout:g} s after its restart: "
                    + "; ".join(problems)
                )
            self.sleep(self.t.interval)


def _ordinal(name: str) -> int:
    tail = name.rpartition("-")[2]
    return int(tail) if tail.isdigit() else -1
