"""The whole stack behind the fake ``kubectl``: what ``vault-aio verify`` and ``upgrade-vault`` ask for.

``fake_kubectl.py`` plays the Vault pods (``state["pods"]``, ``state["vault"]``); this module adds, under
``state["cluster"]``, every other object of ``dist/`` and the pods' APIs, so the verify checks can be run
against a healthy stack and against broken ones:

* ``kubectl get <kinds> -o json`` (workloads with a status computed from their pods, PVCs, pods by selector),
  ``kubectl delete pod``, ``kubectl diff -k DIR`` (writes LIVE/MERGED directories and runs
  ``KUBECTL_EXTERNAL_DIFF`` as kubectl does);
* ``exec`` in non-Vault pods: busybox ``wget`` and ``curl`` (also through the Grafana credentials snippet)
  against the Prometheus, Loki, Tempo and Grafana APIs, bash ``/dev/tcp`` (OTLP POST, TCP probes under
  ``timeout``), ``chronyc -c tracking``, ``cat`` of the Vault TLS certificate;
* the pipelines: a Vault request is audited into Loki's lines when an audit device is enabled and
  ``loki.ingest`` is true; a span POSTed to Alloy lands in Tempo when ``tempo.ingest`` is true;
* the network: a connection is allowed when ``network.enforced`` is false or the source workload may reach
  the destination workload's port (``network.allowed``, computed from dist/'s NetworkPolicies).

:func:`build` makes a healthy state from the objects of ``dist/``; tests break it by editing the dict.
Only this module's runtime part is imported by the fake (cheaply); :func:`build` imports what it needs.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    State = dict[str, Any]

NODES = ("node-a", "node-b")
#: ``chronyc -c tracking`` of a synchronised chronyd (fields as chrony 4.x prints them with -c).
TRACKING_SYNCED = (
    "D8EF2300,time.google.com,2,1767225600.123456789,0.000012345,0.000010000,0.000020000,"
    "-5.100,0.001,0.020,0.010000000,0.001000000,64.2,Normal"
)
REVISION_LABEL = "controller-revision-hash"


# ---- building a healthy state (tests only) ---------------------------------------------------------------


def build(objects: list[dict[str, Any]], *, vault_replicas: int | None = None, cert_pem: str = "") -> State:
    """A healthy, initialised, unsealed stack for ``objects`` (the documents of dist/)."""
    import copy
    import json

    from tests.scripts.fake_kubectl import fixture, new_state
    from vaultaio_constructs.analysis import connectivity

    objects = copy.deepcopy(objects)
    workloads = [o for o in objects if o["kind"] in ("StatefulSet", "DaemonSet", "Deployment")]

    def comp(w: dict[str, Any]) -> str:
        return str(
            w["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/name", w["metadata"]["name"])
        )

    vault = next((w for w in workloads if comp(w) == "vault"), None)
    if vault is not None and vault_replicas is not None:
        vault["spec"]["replicas"] = vault_replicas
    vault_ns = vault["metadata"]["namespace"] if vault else "vault-aio"
    replicas = vault["spec"].get("replicas", 1) if vault else 1
    state = new_state(namespace=vault_ns, pods=replicas, seal="transit", initialized=True, sealed=False)
    state["namespaces"] = sorted(
        {
            *state["namespaces"],
            *(o["metadata"].get("namespace") for o in objects if o["metadata"].get("namespace")),
        }
    )
    state["vault"]["audit"] = {
        "stdout/": {"type": "file", "description": "", "options": {"file_path": "stdout"}, "path": "stdout/"}
    }
    state["vault"]["tokens"]["operator-token-for-tests"] = "operator"
    state["vault"]["tokens"]["admin-token-for-tests"] = "admin"
    for name in state["pods"]:
        state["pod_files"][name]["/vault/tls/tls.crt"] = cert_pem.encode()

    pods: dict[str, dict[str, Any]] = {}
    pvcs: dict[str, str] = {}
    for w in workloads:
        name, ns = w["metadata"]["name"], w["metadata"]["namespace"]
        labels = dict(w["spec"]["template"]["metadata"]["labels"])
        container = w["spec"]["template"]["spec"]["containers"][0]
        if w["kind"] == "DaemonSet":
            names = [(f"{name}-{n[-1]}", n) for n in NODES]
        else:
            names = [(f"{name}-{i}", NODES[i % len(NODES)]) for i in range(w["spec"].get("replicas", 1))]
        for pod, node in names:
            pods[pod] = {
                "namespace": ns,
                "workload": f"{w['kind']}/{name}",
                "component": comp(w),
                "labels": {**labels, REVISION_LABEL: f"{name}-rev1"},
                "container": container["name"],
                "node": node,
                "ready": True,
                "phase": "Running",
            }
        for t in w["spec"].get("volumeClaimTemplates") or []:
            for i in range(w["spec"].get("replicas", 1)):
                pvcs[f"{ns}/{t['metadata']['name']}-{name}-{i}"] = "Bound"
        w["status"] = {"updateRevision": f"{name}-rev1", "currentRevision": f"{name}-rev1"}

    services: dict[str, list[Any]] = {}
    for svc in (o for o in objects if o["kind"] == "Service"):
        sel = svc["spec"].get("selector") or {}
        for w in workloads:
            tl = w["spec"]["template"]["metadata"]["labels"]
            if (
                w["metadata"]["namespace"] == svc["metadata"]["namespace"]
                and sel
                and all(tl.get(k) == v for k, v in sel.items())
            ):
                ports = {}
                cports = {
                    p.get("name"): p["containerPort"]
                    for c in w["spec"]["template"]["spec"]["containers"]
                    for p in c.get("ports", [])
                }
                for p in svc["spec"]["ports"]:
                    t = p.get("targetPort", p["port"])
                    ports[str(p["port"])] = cports.get(t) if isinstance(t, str) else t
                host = f"{svc['metadata']['name']}.{svc['metadata']['namespace']}.svc"
                services[host] = [w["metadata"]["name"], ports]

    matrix = connectivity(objects)
    prom = next((w for w in workloads if comp(w) == "prometheus"), None)
    targets, groups, alertmanagers = [], [], []
    if prom is not None:
        import yaml

        cms = {
            (o["metadata"]["namespace"], o["metadata"]["name"]): o.get("data") or {}
            for o in objects
            if o["kind"] == "ConfigMap"
        }
        files: dict[str, str] = {}
        for v in prom["spec"]["template"]["spec"].get("volumes") or []:
            if "configMap" in v:
                files.update(cms.get((prom["metadata"]["namespace"], v["configMap"]["name"]), {}))
        config = next(yaml.safe_load(t) for k, t in files.items() if "scrape_configs" in t)
        for job in config["scrape_configs"]:
            for sc in job.get("static_configs") or []:
                for t in sc["targets"]:
                    targets.append({"job": job["job_name"], "instance": t, "health": "up", "lastError": ""})
            for _ in job.get("dns_sd_configs") or []:
                for i in range(replicas):
                    inst = f"vault-{i}:8202"
                    targets.append(
                        {"job": job["job_name"], "instance": inst, "health": "up", "lastError": ""}
                    )
        for k, t in files.items():
            if "groups:" in t and k.endswith((".yaml", ".yml")):
                for g in yaml.safe_load(t)["groups"]:
                    rules = [
                        {"name": r.get("alert", r.get("record")), "health": "ok", "lastError": ""}
                        for r in g["rules"]
                    ]
                    groups.append({"name": g["name"], "file": k, "rules": rules})
        for am in (config.get("alerting") or {}).get("alertmanagers") or []:
            for sc in am.get("static_configs") or []:
                alertmanagers += [f"http://{t}/api/v2/alerts" for t in sc["targets"]]

    dashboards, datasources, datasource_hosts = [], {}, {}
    for o in objects:
        if o["kind"] != "ConfigMap":
            continue
        for k, text in (o.get("data") or {}).items():
            if k.endswith(".json") and '"panels"' in text:
                dashboards.append(json.loads(text)["uid"])
            if k == "datasources.yaml":
                import yaml

                for ds in yaml.safe_load(text)["datasources"]:
                    datasources[ds["uid"]] = "OK"
                    datasource_hosts[ds["uid"]] = ds["url"].split("/")[2]

    state["cluster"] = {
        "objects": {
            f"{o['kind']}/{o['metadata'].get('namespace', '')}/{o['metadata']['name']}": o for o in objects
        },
        "desired": copy.deepcopy([{k: v for k, v in o.items() if k != "status"} for o in objects]),
        "pods": pods,
        "pvcs": pvcs,
        "services": services,
        "network": {
            "enforced": True,
            "allowed": [[c.source, c.destination, c.port] for c in sorted(matrix.internal)],
        },
        "prometheus": {"targets": targets, "groups": groups, "alertmanagers": alertmanagers},
        "loki": {"ingest": True, "lines": []},
        "tempo": {"ingest": True, "traces": []},
        "grafana": {
            "dashboards": dashboards,
            "datasources": datasources,
            "datasource_hosts": datasource_hosts,
        },
        "chrony": {p: TRACKING_SYNCED for p, d in pods.items() if d["component"] == "chrony"},
        "deleted": [],
        "unhealthy": [],
        "unhealthy_after_restart": [],
        "fixtures": {
            "raft": fixture("raft_list_peers.json"),
            "autopilot": fixture("raft_autopilot_state.json"),
        },
    }
    return state


# ---- runtime (imported by the fake kubectl) --------------------------------------------------------------


def _result(rc: int = 0, out: str | bytes = "", err: str = "") -> Any:
    from fake_kubectl import Result

    return Result(rc, out, err)


def _json(data: Any) -> str:
    from fake_kubectl import out_json

    return str(out_json(data))


def vault_pod_ready(state: State, name: str) -> bool:
    p = state["pods"].get(name)
    return p is not None and p["phases"][0] == "Running" and not p["sealed"] and p["member"]


def _pod_view(state: State, name: str, d: dict[str, Any]) -> dict[str, Any]:
    ready = d["ready"]
    phase = d["phase"]
    if d["component"] == "vault":
        ready = ready and vault_pod_ready(state, name)
        vp = state["pods"].get(name)
        phase = vp["phases"][0] if vp else "Pending"
    if d["component"] == "chrony":
        ready = ready and state["cluster"]["chrony"].get(name, "").endswith("Normal")
    return {
        "metadata": {"name": name, "namespace": d["namespace"], "labels": d["labels"]},
        "spec": {"nodeName": d["node"]},
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [
                {
                    "name": d["container"],
                    "ready": ready,
                    "state": {"running": {}} if ready else {"waiting": {"reason": "NotReady"}},
                }
            ],
        },
    }


def _selected(d: dict[str, Any], selector: str) -> bool:
    for term in filter(None, selector.split(",")):
        k, _, v = term.partition("=")
        if d["labels"].get(k) != v:
            return False
    return True


def get(state: State, words: list[str], flags: dict[str, Any], ns: str) -> Any:
    c = state["cluster"]
    kinds = words[0].split(",")
    name = words[1] if len(words) > 1 else None
    items: list[dict[str, Any]] = []
    plural = {"statefulsets": "StatefulSet", "statefulset": "StatefulSet", "daemonsets": "DaemonSet",
              "deployments": "Deployment"}  # fmt: skip
    for kind in kinds:
        if kind in plural:
            for key, obj in sorted(c["objects"].items()):
                k, o_ns, o_name = key.split("/", 2)
                if k == plural[kind] and o_ns == ns and (name is None or o_name == name):
                    items.append(_with_status(state, obj))
        elif kind in ("persistentvolumeclaims", "pvc"):
            for key, phase in sorted(c["pvcs"].items()):
                p_ns, p_name = key.split("/", 1)
                if p_ns == ns:
                    items.append(
                        {"kind": "PersistentVolumeClaim", "metadata": {"name": p_name, "namespace": ns},
                         "spec": {"storageClassName": "local-path"}, "status": {"phase": phase}}
                    )  # fmt: skip
        elif kind in ("pods", "pod"):
            for p_name, d in sorted(c["pods"].items()):
                if (
                    d["namespace"] == ns
                    and _selected(d, flags.get("selector", ""))
                    and p_name not in c["deleted"]
                ):
                    if (
                        d["component"] == "vault"
                        and state["pods"].get(p_name, {}).get("phases", ["Absent"])[0] == "Absent"
                    ):
                        continue
                    items.append(_pod_view(state, p_name, d))
        else:
            return _result(127, err=f"fake kubectl: unsupported get {words!r}")
    if name is not None:
        if not items:
            return _result(1, err=f'Error from server (NotFound): {kinds[0]} "{name}" not found')
        return _result(0, _json(items[0]))
    return _result(0, _json({"apiVersion": "v1", "kind": "List", "items": items}))


def _with_status(state: State, obj: dict[str, Any]) -> dict[str, Any]:
    import copy

    c = state["cluster"]
    obj = copy.deepcopy(obj)
    name, ns = obj["metadata"]["name"], obj["metadata"]["namespace"]
    mine = [
        (p, d)
        for p, d in c["pods"].items()
        if d["workload"] == f"{obj['kind']}/{name}" and d["namespace"] == ns
    ]
    views = [_pod_view(state, p, d) for p, d in mine]
    ready = sum(1 for v in views if v["status"]["conditions"][0]["status"] == "True")
    rev = obj.get("status", {}).get("updateRevision")
    updated = sum(1 for _, d in mine if d["labels"].get(REVISION_LABEL) == rev)
    if obj["kind"] == "DaemonSet":
        obj["status"] = {
            "desiredNumberScheduled": len(mine),
            "numberReady": ready,
            "updatedNumberScheduled": updated,
        }
    else:
        obj["status"] = {**obj.get("status", {}), "replicas": len(mine), "readyReplicas": ready,
                         "updatedReplicas": updated}  # fmt: skip
    return obj


def delete(state: State, words: list[str], ns: str) -> Any:
    c = state["cluster"]
    if words[:1] != ["pod"] or len(words) != 2 or words[1] not in c["pods"]:
        return _result(127, err=f"fake kubectl: unsupported delete {words!r}")
    pod = words[1]
    d = c["pods"][pod]
    c["deleted"].append(pod)
    key = f"{d['workload'].split('/')[0]}/{ns}/{d['workload'].split('/')[1]}"
    d["labels"][REVISION_LABEL] = c["objects"][key]["status"]["updateRevision"]
    if pod in state["pods"]:
        vp = state["pods"][pod]
        vp["sealed"] = state["vault"]["seal"] == "shamir"
        if state["vault"]["active"] == pod:
            others = [p for p in state["pods"] if p != pod and not state["pods"][p]["sealed"]]
            state["vault"]["active"] = others[0] if others else None
        if pod in c["unhealthy_after_restart"]:
            c["unhealthy"].append(pod)
    c["deleted"].remove(pod)  # the StatefulSet recreates it at once
    return _result(0, f'pod "{pod}" deleted\n')


def diff(state: State, flags: dict[str, Any]) -> Any:
    """kubectl diff: LIVE and MERGED directories, then the external diff program on them."""
    import os
    import subprocess
    import tempfile

    c = state["cluster"]
    program = (state.get("_env") or {}).get("KUBECTL_EXTERNAL_DIFF") or os.environ.get(
        "KUBECTL_EXTERNAL_DIFF"
    )
    pairs = [
        (c["objects"].get(f"{o['kind']}/{o['metadata'].get('namespace', '')}/{o['metadata']['name']}"), o)
        for o in c["desired"]
    ]
    if all(live is not None and _strip(_merge(live, o)) == _strip(live) for live, o in pairs):
        return _result(0)  # nothing differs: the diff program would print nothing (saves a process per test)
    with tempfile.TemporaryDirectory() as tmp:
        live_dir, merged_dir = os.path.join(tmp, "LIVE-1"), os.path.join(tmp, "MERGED-2")
        os.mkdir(live_dir)
        os.mkdir(merged_dir)
        for obj in c["desired"]:
            meta = obj["metadata"]
            group_version = obj["apiVersion"].replace("/", ".")
            fname = f"{group_version}.{obj['kind']}.{meta.get('namespace', '')}.{meta['name']}"
            live = c["objects"].get(f"{obj['kind']}/{meta.get('namespace', '')}/{meta['name']}")
            merged = _merge(live, obj) if live is not None else obj
            with open(os.path.join(live_dir, fname), "w") as f:
                f.write(_json(_strip(live)) if live is not None else "")
            with open(os.path.join(merged_dir, fname), "w") as f:
                f.write(_json(_strip(merged)))
        cmd = [program] if program else ["diff", "-u", "-N"]
        proc = subprocess.run([*cmd, live_dir, merged_dir], capture_output=True, text=True, check=False)
    return _result(proc.returncode, proc.stdout, proc.stderr)


def _strip(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "status"}


def _merge(live: Any, desired: Any) -> Any:
    """A server-side apply in miniature: desired fields win, fields only live has stay."""
    if isinstance(live, dict) and isinstance(desired, dict):
        return {k: _merge(live.get(k), desired[k]) if k in desired else live[k] for k in {*live, *desired}}
    return desired


def exec_(state: State, pod: str, ns: str, container: str, cmd: list[str], stdin: bytes | None) -> Any:
    c = state["cluster"]
    d = c["pods"].get(pod)
    if d is None or d["namespace"] != ns:
        return _result(1, err=f'Error from server (NotFound): pods "{pod}" not found')
    if container != d["container"]:
        return _result(
            1, err=f"Error from server (BadRequest): container {container} is not valid for pod {pod}"
        )
    comp = d["component"]
    if cmd[:1] == ["wget"] and comp in ("prometheus", "alertmanager", "loki", "chrony", "vault"):
        return _http(state, d, "GET", cmd[-1], "", "wget")
    if cmd[:1] == ["curl"] and comp == "grafana":
        return _http(state, d, "GET", cmd[-1], "", "curl")
    if cmd[:2] == ["sh", "-c"] and comp == "grafana" and "Authorization: Basic" in cmd[2]:
        return _http(state, d, "GET", cmd[-1], "", "curl", auth=True)
    if cmd[:1] == ["timeout"] and cmd[2:4] == ["bash", "-c"] and comp in ("grafana", "alloy", "chrony"):
        host, port = cmd[6], int(cmd[7])
        if cmd[4] == 'exec 3<>"/dev/tcp/$1/$2"':
            return _tcp(state, d, host, port)
        method, path, body = cmd[8], cmd[9], cmd[10]
        return _http(state, d, method, f"http://{host}:{port}{path}", body, "bash")
    if cmd[:1] == ["chronyc"] and comp == "chrony" and cmd[-2:] == ["-c", "tracking"]:
        line = c["chrony"].get(pod)
        if line is None:
            return _result(1, err="506 Cannot talk to daemon")
        return _result(0, line + "\n")
    return _result(127, err=f"sh: {cmd[0]}: fake cluster does not run {cmd!r} in {comp}")


def _ready(state: State, pod: str) -> bool:
    d = state["cluster"]["pods"][pod]
    return bool(_pod_view(state, pod, d)["status"]["conditions"][0]["status"] == "True")


def _workload_up(state: State, workload: str) -> bool:
    """Some pod of ``workload`` is ready (a Service has endpoints)."""
    return any(
        _ready(state, p)
        for p, d in state["cluster"]["pods"].items()
        if d["workload"].endswith("/" + workload)
    )


def _target_up(state: State, instance: str) -> bool:
    host = instance.rsplit(":", 1)[0]
    if host in state["cluster"]["pods"]:
        # per-pod targets are Vault's metrics listener, which answers while sealed or standby (not ready)
        vault_pod = state["pods"].get(host)
        return vault_pod is not None and vault_pod["phases"][0] == "Running"
    svc = state["cluster"]["services"].get(host)
    return svc is None or _workload_up(state, svc[0])


def _connect(state: State, d: dict[str, Any], host: str, port: int) -> tuple[str | None, int | None]:
    """(destination workload, container port) when the connection opens, else (None, None)."""
    c = state["cluster"]
    if host == "127.0.0.1":
        return d["workload"].split("/")[1], port
    svc = c["services"].get(host)
    if svc is None:
        return None, None
    workload, ports = svc
    target = ports.get(str(port))
    if target is None:
        return None, None
    src = d["workload"].split("/")[1]
    if not _workload_up(state, workload):
        return None, None
    if c["network"]["enforced"] and [src, workload, target] not in c["network"]["allowed"]:
        return None, None
    return workload, target


def _tcp(state: State, d: dict[str, Any], host: str, port: int) -> Any:
    if host not in state["cluster"]["services"] and host != "127.0.0.1":
        return _result(1, err=f"bash: {host}: Name or service not known")
    workload, _ = _connect(state, d, host, port)
    if workload is None:
        return _result(124)
    return _result(0)


def _http(
    state: State, d: dict[str, Any], method: str, url: str, body: str, tool: str, auth: bool = False
) -> Any:
    from urllib.parse import parse_qs, urlsplit

    c = state["cluster"]
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 80
    workload, _ = _connect(state, d, host, port)
    if workload is None:
        return _result(1 if tool == "wget" else 28, err=f"{tool}: download timed out")
    comp = next(x["component"] for x in c["pods"].values() if x["workload"].endswith("/" + workload))
    path, query = parts.path, parse_qs(parts.query)
    status, payload = 404, {"message": "Not found"}
    if comp == "prometheus" and path == "/api/v1/targets":
        status, payload = 200, {"status": "success", "data": {"activeTargets": [
            {"labels": {"job": t["job"], "instance": t["instance"]},
             "health": t["health"] if _target_up(state, t["instance"]) else "down",
             "lastError": t["lastError"] if _target_up(state, t["instance"]) else "connection refused",
             "scrapePool": t["job"]} for t in c["prometheus"]["targets"]]}}  # fmt: skip
    elif comp == "prometheus" and path == "/api/v1/rules":
        status, payload = 200, {"status": "success", "data": {"groups": c["prometheus"]["groups"]}}
    elif comp == "prometheus" and path == "/api/v1/alertmanagers":
        status, payload = 200, {"status": "success", "data": {
            "activeAlertmanagers": [{"url": u} for u in c["prometheus"]["alertmanagers"]
                                    if _target_up(state, u.split("/")[2])],
            "droppedAlertmanagers": []}}  # fmt: skip
    elif comp == "loki" and path == "/loki/api/v1/query_range":
        q = query["query"][0]
        marker = q.rsplit('|= "', 1)[1].rstrip('"')
        lines = [line for line in c["loki"]["lines"] if marker in line]
        status, payload = (
            200,
            {
                "status": "success",
                "data": {
                    "resultType": "streams",
                    "result": (
                        [{"stream": {"log_type": "vault_audit"}, "values": [["1", line] for line in lines]}]
                        if lines
                        else []
                    ),
                },
            },
        )
    elif comp == "tempo" and path.startswith("/api/traces/"):
        if path.rsplit("/", 1)[1] in c["tempo"]["traces"]:
            status, payload = 200, {"batches": [{"resource": {}}]}
    elif comp == "alloy" and method == "POST" and path == "/v1/traces":
        import json

        spans = json.loads(body)["resourceSpans"][0]["scopeSpans"][0]["spans"]
        if c["tempo"]["ingest"]:
            c["tempo"]["traces"] += [s["traceId"] for s in spans]
        status, payload = 200, {"partialSuccess": {}}
    elif comp == "grafana" and path == "/api/search":
        status, payload = (
            (200, [{"uid": u, "type": "dash-db"} for u in c["grafana"]["dashboards"]]) if auth else (401, {})
        )
    elif comp == "grafana" and path.startswith("/api/datasources/uid/") and path.count("/") == 4:
        found = path.split("/")[4] in c["grafana"]["datasources"]
        status, payload = (
            (200, {"uid": path.split("/")[4]}) if found else (404, {"message": "Data source not found"})
        )
        if not auth:
            status, payload = 401, {"message": "Unauthorized"}
    elif comp == "grafana" and path.startswith("/api/datasources/uid/") and path.endswith("/health"):
        uid = path.split("/")[4]
        health = c["grafana"]["datasources"].get(uid)
        if not auth:
            status, payload = 401, {"message": "Unauthorized"}
        elif health is None:
            status, payload = 404, {"message": "Data source not found"}
        elif health == "OK" and not _target_up(state, c["grafana"]["datasource_hosts"][uid]):
            status, payload = 400, {"status": "ERROR", "message": "dial tcp: connect: connection refused"}
        elif health == "OK":
            status, payload = 200, {"status": "OK", "message": "Data source is working"}
        else:
            status, payload = 400, {"status": "ERROR", "message": health}
    text = _json(payload)
    if tool == "wget":
        if status != 200:
            return _result(1, err=f"wget: server returned error: HTTP/1.1 {status} Not Found")
        return _result(0, text)
    if tool == "curl":
        return _result(0, f"{text}\n{status}")
    return _result(0, f"HTTP/1.0 {status} X\r\nContent-Type: application/json\r\n\r\n{text}")


def audit(state: State, pod: str, args: list[str]) -> None:
    """Vault audits a request (when a device is enabled and the pod is unsealed); Alloy ships it to Loki."""
    c = state["cluster"]
    p = state["pods"][pod]
    if not state["vault"]["audit"] or p["sealed"] or len(args) < 2:
        return
    if c["loki"]["ingest"]:
        c["loki"]["lines"].append(
            '{"type":"request","request":{"operation":"read","path":"' + args[-1] + '"}}'
        )


def vault_raft(state: State, pod: str, args: list[str], role: str) -> Any:
    """``operator raft list-peers``, ``autopilot state`` and ``step-down`` for the operator/admin tokens."""
    c = state["cluster"]
    v = state["vault"]
    members = [n for n, p in state["pods"].items() if p["member"]]
    if args[:3] == ["operator", "raft", "list-peers"]:
        doc = c["fixtures"]["raft"]
        template = doc["data"]["config"]["servers"][0]
        doc["data"]["config"]["servers"] = [
            {**template, "node_id": n, "address": f"{n}.vault-internal.{state['namespace']}.svc:8201",
             "leader": n == v["active"]} for n in members
        ]  # fmt: skip
        return _result(0, _json(doc))
    if args[:4] == ["operator", "raft", "autopilot", "state"]:
        doc = c["fixtures"]["autopilot"]  # Go field names, as the CLI prints api.AutopilotState
        template = next(iter(doc["Servers"].values()))
        servers = {}
        for n in members:
            healthy = not state["pods"][n]["sealed"] and n not in c["unhealthy"]
            servers[n] = {**template, "ID": n, "Name": n, "Healthy": healthy,
                          "Status": "leader" if n == v["active"] else "voter"}  # fmt: skip
        doc["Servers"] = servers
        doc["Healthy"] = all(s["Healthy"] for s in servers.values())
        doc["Leader"] = v["active"]
        doc["Voters"] = members
        failed = sum(not s["Healthy"] for s in servers.values())
        doc["FailureTolerance"] = max(0, (len(members) - 1) // 2 - failed)
        return _result(0, _json(doc))
    if args[:2] == ["operator", "step-down"] and role in ("root", "admin"):
        if v["active"] != pod:
            return _result(0, "Success! Stepped down: " + pod + "\n")
        others = [n for n in members if n != pod and not state["pods"][n]["sealed"]]
        if others:
            v["active"] = others[0]
        return _result(0, "Success! Stepped down: " + pod + "\n")
    return _result(2, err="Error: Code: 403. Errors:\n\n* permission denied")
