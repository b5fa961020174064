"""Uniform hardening guarantees over every pod template and object the stack synthesizes (issue 8).

Each guarantee is one test over all workloads of the default stack, of the variants below and of every
scenario in ``examples/settings/``, with an explicit exception table. A component that regresses fails
here, whichever issue touched it last.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.pss import admitted, restricted_violations
from tests.stack import (
    RUNTIME_POD_LABELS,
    SAME_AS_DEFAULT,
    Stack,
    scenario_names,
    scenario_stack,
    selector_matches,
    synth_stack,
)
from vaultaio_constructs import versions

#: Every long-running workload the stack must have (kind, name).
WORKLOADS = {
    ("StatefulSet", "vault"),
    ("StatefulSet", "prometheus"),
    ("StatefulSet", "alertmanager"),
    ("StatefulSet", "grafana"),
    ("StatefulSet", "loki"),
    ("StatefulSet", "tempo"),
    ("DaemonSet", "alloy"),
    ("DaemonSet", "chrony"),
}

#: The only departures from Pod Security "restricted", and why (also in README.md, "Security").
CAPABILITY_EXCEPTIONS = {"chrony": {"SYS_TIME"}}  # sets the node clock: the purpose of the pod
HOSTPATH_EXCEPTIONS = {"alloy"}  # node logs and metrics live on the host; every mount is read-only
ROOT_EXCEPTIONS = {"chrony"}  # a non-root process never holds added capabilities (SYS_TIME) in Kubernetes

#: The stack's two namespaces: the main one admits only restricted pods; the node agents (the exceptions
#: above) have a namespace of their own, the only one that admits privileged pods.
MAIN, NODE = "vault-aio", "vault-aio-node"
NODE_AGENTS = {"alloy", "chrony"}
#: Secrets the manifests reference but never contain: created by scripts/init-vault.sh or the user
#: (``vault-tls-ca``: the CA certificate alone, copied into the node namespace for Alloy's TLS probe).
EXTERNAL_SECRETS = {
    "vault-tls",
    "vault-tls-ca",
    "grafana-admin",
    "vault-backup-token",
    "alertmanager-receivers",
    # examples/settings/ha.yaml: remote-write token and CA, Grafana's database credentials and secret key
    "prometheus-remote-write",
    "grafana-database",
    "grafana-secret-key",
    # examples/settings/ha.yaml: the object-store credentials of Loki and Tempo and the store's CA
    "loki-object-store",
    "tempo-object-store",
    "object-store-ca",
    # examples/settings/external-loki-tls.yaml: the external Loki's password and CA (in both namespaces)
    "loki-client",
    # examples/settings/external-prometheus-tls.yaml: the external Prometheus' password and CA (Grafana's)
    "prometheus-client",
}

#: Components whose pods call the Kubernetes API, so their ServiceAccount token is mounted.
API_CALLERS = {"vault", "alloy"}

STATEFUL = {"vault", "prometheus", "alertmanager", "grafana", "loki", "tempo"}
#: StatefulSets that keep no PVC when their state lives in an external store, and how to tell: Grafana on
#: an external database (``[database]`` in grafana.ini) has nothing on its pods that outlives them.
STATELESS_WITH_EXTERNAL_STATE = {"grafana": ("grafana-config", "grafana.ini", "[database]")}


@pytest.fixture(
    scope="module",
    params=[
        "default",
        "ha",
        "tls-off",
        "production",
        "everything-on",
        "kubernetes-1.27",
        *(f"scenario:{name}" for name in scenario_names() if name not in SAME_AS_DEFAULT),
    ],
)
def variant(request: pytest.FixtureRequest, stack: Stack) -> Stack:
    settings: dict[str, dict[str, Any]] = {
        "default": {},
        "ha": {"vault": {"replicas": 3}},
        "tls-off": {"vault": {"tls": {"enabled": False}}},
        "production": {"profile": "production"},
        # the README's settings example: HA, awskms auto-unseal, both Ingresses, the backup CronJob,
        # a Slack receiver and a corporate NTP server
        "everything-on": {**_readme_settings(), "grafana": {"ingress": {"host": "grafana.example.com"}}},
        "kubernetes-1.27": {"kubernetes_version": "1.27"},
    }
    if request.param == "default":
        return stack
    if request.param.startswith("scenario:"):
        return scenario_stack(request.param.removeprefix("scenario:"))
    return synth_stack(settings[request.param])


def _readme_settings() -> dict[str, Any]:
    from tests.test_readme import _settings_example

    return dict(_settings_example())


def _pods(s: Stack) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for workload, template in s.pod_templates():
        yield workload["kind"], workload["metadata"]["name"], template["spec"]


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(spec.get("initContainers", [])) + list(spec["containers"])


def test_every_component_has_its_workload(stack: Stack) -> None:
    found = {(w["kind"], w["metadata"]["name"]) for w, _ in stack.pod_templates() if w["kind"] != "CronJob"}
    assert found == WORKLOADS


def test_pod_security_restricted_or_documented_exception(variant: Stack) -> None:
    for kind, name, spec in _pods(variant):
        owner = name.split("-")[0]
        psc = spec.get("securityContext", {})
        assert psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            assert not spec.get(key), f"{name}: {key}"
        if owner not in ROOT_EXCEPTIONS:
            assert psc.get("runAsNonRoot") is True, f"{name}: pod runAsNonRoot"
        for c in _containers(spec):
            sc = c.get("securityContext", {})
            where = f"{kind}/{name}/{c['name']}"
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert not sc.get("privileged"), where
            assert sc.get("readOnlyRootFilesystem") is True, where
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], where
            added = set(sc.get("capabilities", {}).get("add") or [])
            assert added <= CAPABILITY_EXCEPTIONS.get(owner, set()), f"{where} adds {added}"
            if owner not in ROOT_EXCEPTIONS:
                assert sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True, where
                assert sc.get("runAsUser", psc.get("runAsUser", 1)) != 0, where


def test_host_paths_only_for_exceptions_and_read_only(variant: Stack) -> None:
    for _, name, spec in _pods(variant):
        host = {v["name"] for v in spec.get("volumes", []) if "hostPath" in v}
        if not host:
            continue
        assert name in HOSTPATH_EXCEPTIONS, f"{name} mounts hostPath {host}"
        recursive = variant.chart.api_at_least("1.31")
        for c in _containers(spec):
            for m in c.get("volumeMounts", []):
                if m["name"] in host:
                    where = f"{name}/{c['name']} mounts {m['mountPath']}"
                    assert m.get("readOnly") is True, f"{where} writable"
                    # no propagation: mounts made on the host later stay invisible (and rro needs it off)
                    assert "mountPropagation" not in m, where
                    if recursive:  # filesystems mounted below the path are read-only too
                        assert m.get("recursiveReadOnly") == "Enabled", where
        # the root group reads every host file readable by group root (issue 14, item 1)
        assert 0 not in spec.get("securityContext", {}).get("supplementalGroups", []), name


def test_processes_run_as_uids_no_host_account_has(variant: Stack) -> None:
    """UIDs >= 10000 (CKV_K8S_40): a low UID can be a host account, whose files the process would own."""
    for _, name, spec in _pods(variant):
        owner = name.split("-")[0]
        if owner in ROOT_EXCEPTIONS:
            continue
        for c in _containers(spec):
            uid = c.get("securityContext", {}).get("runAsUser", spec["securityContext"].get("runAsUser"))
            assert uid is not None and uid >= 10000, f"{name}/{c['name']} runs as {uid}"


def test_long_running_containers_have_liveness_probes(stack: Stack) -> None:
    for workload, template in stack.pod_templates():
        if workload["kind"] in ("Job", "CronJob"):
            continue
        for c in template["spec"]["containers"]:
            assert "livenessProbe" in c, f"{workload['metadata']['name']}/{c['name']}"


def test_resources_requests_and_memory_limits(variant: Stack) -> None:
    for _, name, spec in _pods(variant):
        for c in _containers(spec):
            r = c.get("resources", {})
            assert {"cpu", "memory"} <= set(r.get("requests", {})), f"{name}/{c['name']}"
            assert "memory" in r.get("limits", {}), f"{name}/{c['name']}"


def test_readiness_probes_on_long_running_containers(stack: Stack) -> None:
    for workload, template in stack.pod_templates():
        if workload["kind"] in ("CronJob", "Job"):
            continue
        for c in template["spec"]["containers"]:
            assert "readinessProbe" in c, f"{workload['metadata']['name']}/{c['name']}"


def test_images_are_pinned_from_the_versions_module(variant: Stack) -> None:
    pinned = {versions.image(name) for name in versions.IMAGES}
    for _, name, spec in _pods(variant):
        for c in _containers(spec):
            image = c["image"]
            tag = image.rsplit(":", 1)[-1]
            assert versions.IMAGE_TAG_PATTERN.fullmatch(tag), f"{name}: {image}"
            assert image in pinned, f"{name}: {image} is not defined in versions.py"


def test_stateful_components_keep_data_on_pvcs(variant: Stack) -> None:
    for s in variant.all("StatefulSet"):
        name = s["metadata"]["name"]
        assert name in STATEFUL
        if name in STATELESS_WITH_EXTERNAL_STATE:
            config_map, key, marker = STATELESS_WITH_EXTERNAL_STATE[name]
            external = marker in variant.config_data(config_map)[key]
            assert bool(s["spec"].get("volumeClaimTemplates")) != external, name
        else:
            assert s["spec"].get("volumeClaimTemplates"), name
        policy = s["spec"]["persistentVolumeClaimRetentionPolicy"]
        assert policy == {"whenDeleted": "Retain", "whenScaled": "Retain"}, name
    # every stateful component of the stack that runs (a scenario may replace some with external ones)
    props = variant.chart.props
    running = {n for n in STATEFUL - {"vault"} if getattr(props, n).enabled} | {"vault"}
    assert {s["metadata"]["name"] for s in variant.all("StatefulSet")} == running


def test_service_account_tokens_only_where_the_api_is_called(variant: Stack) -> None:
    for _, name, spec in _pods(variant):
        mounted = spec.get("automountServiceAccountToken", True)
        assert mounted == (name in API_CALLERS), f"{name}: automountServiceAccountToken={mounted}"
    for sa in variant.all("ServiceAccount"):
        assert sa.get("automountServiceAccountToken") is False, sa["metadata"]["name"]


def _selects_something(selector: dict[str, Any]) -> bool:
    return bool(selector.get("matchLabels") or selector.get("matchExpressions"))


def test_no_policy_peer_selects_every_namespace_or_pod(variant: Stack) -> None:
    """An empty selector in a peer admits every namespace (or every pod): issue 14, item 4."""
    peers = 0
    for policy in variant.all("NetworkPolicy"):
        spec = policy["spec"]
        for rule in [*spec.get("ingress", []), *spec.get("egress", [])]:
            for peer in [*rule.get("from", []), *rule.get("to", [])]:
                peers += 1
                for key in ("namespaceSelector", "podSelector"):
                    if key in peer:
                        assert _selects_something(peer[key]), (
                            f"{policy['metadata']['name']}: {key} {peer[key]}"
                        )
    assert peers > 10  # the policies were really looked at (a stack without its own monitoring has ~20)


def test_rbac_least_privilege(variant: Stack) -> None:
    assert not variant.all("ClusterRole"), "namespaced Roles only"
    for role in variant.all("Role"):
        for rule in role["rules"]:
            for key in ("verbs", "resources", "apiGroups"):
                assert "*" not in rule.get(key, []), f"{role['metadata']['name']}: wildcard {key}"
            assert not set(rule["verbs"]) & {
                "create",
                "delete",
                "deletecollection",
                "escalate",
                "bind",
                "impersonate",
            }


SECRET_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\bhvs\.[A-Za-z0-9_-]{20,}"),  # Vault service tokens
    re.compile(r"\bs\.[A-Za-z0-9]{24}\b"),  # legacy Vault tokens
    re.compile(
        r"(?i)(password|passwd|secret|token|api_key|routing_key)[ \t]*[:=][ \t]*"
        r"[\"']?(?!\$|__file|/|\{)[^\s\"'{}]{6,}"
    ),
    re.compile(r"hooks\.slack\.com/services/[A-Z0-9]+/"),
    # a URL with user information: scheme://user:password@host, scheme://token@host
    re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@'\"]+@"),
    # a header that carries a credential, with its value on the same line (block-style YAML puts a
    # mapping such as Prometheus' ``authorization: {credentials_file: ...}`` on the next lines)
    re.compile(
        r"(?im)^[ \t\"'-]*(?:authorization|proxy-authorization|cookie|x-api-key|api-key|x-auth-token|"
        r"x-[a-z-]*(?:key|token|secret|password))[\"']?[ \t]*:[ \t]*(?![{\[]|$)\S"
    ),
    # an HTTP authentication scheme followed by its credentials, anywhere (a header value, an env value)
    re.compile(r"\b(?:Bearer|Basic|Token|ApiKey)[ \t]+(?=[A-Za-z0-9._~+/=-]*[0-9])[A-Za-z0-9._~+/=-]{8,}"),
]

#: What a leak looked like before review finding 6 (settings written into ConfigMaps as given): each line
#: must be caught by a pattern above, and the same line without the credential must not.
KNOWN_LEAKS = [
    ("        X-Api-Key: glc_eyJvIjoiMTIzNCJ9SECRET", "        X-Scope-OrgID: vault-aio"),
    (
        "    root_url = https://admin:Gr4fanaP4ss@grafana.example.com/",
        "    root_url = https://grafana.example.com/",
    ),
    (
        '          "address": "https://root:S3cr3tP4ss@vault-unseal.example.com:8200",',
        '          "address": "https://vault-unseal.example.com:8200",',
    ),
    ("  url: https://glc_abcdef123456@loki.example.com/loki", "  url: https://loki.example.com/loki"),
    ("        Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x1", "        authorization:"),
    ("        X-Upstream: Basic dXNlcjpwYXNzd29yZA==", "        type: Bearer"),
    ('  - "Authorization: ApiKey 9f3a7c0b1d2e"', "        credentials_file: /etc/prometheus/secrets/x/key"),
]


@pytest.mark.parametrize(("leak", "clean"), KNOWN_LEAKS)
def test_secret_patterns_catch_credentials_in_urls_and_headers(leak: str, clean: str) -> None:
    assert any(p.search(leak) for p in SECRET_PATTERNS), leak
    assert not any(p.search(clean) for p in SECRET_PATTERNS), clean


def test_no_secret_values_in_the_manifests(variant: Stack) -> None:
    assert not [s for s in variant.all("Secret") if s.get("data") or s.get("stringData")]
    text = variant.yaml()
    for pattern in SECRET_PATTERNS:
        match = pattern.search(text)
        assert not match, f"possible secret in manifests: {match.group(0) if match else ''}"


def _referenced(spec: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for v in spec.get("volumes", []):
        if "configMap" in v:
            yield "ConfigMap", v["configMap"]["name"]
        if "secret" in v:
            yield "Secret", v["secret"]["secretName"]
        if "persistentVolumeClaim" in v:
            yield "PersistentVolumeClaim", v["persistentVolumeClaim"]["claimName"]
        for src in v.get("projected", {}).get("sources", []):
            if "secret" in src:
                yield "Secret", src["secret"]["name"]
            if "configMap" in src:
                yield "ConfigMap", src["configMap"]["name"]
    for c in _containers(spec):
        for e in c.get("env", []):
            ref = e.get("valueFrom", {})
            if "secretKeyRef" in ref:
                yield "Secret", ref["secretKeyRef"]["name"]
            if "configMapKeyRef" in ref:
                yield "ConfigMap", ref["configMapKeyRef"]["name"]
    yield "ServiceAccount", spec.get("serviceAccountName", "default")


def test_every_reference_exists_or_is_documented_external(variant: Stack) -> None:
    for _, name, spec in _pods(variant):
        for kind, ref in _referenced(spec):
            if kind == "Secret" and ref in EXTERNAL_SECRETS:
                continue
            assert variant.has(kind, ref), f"{name} references missing {kind} {ref}"


def test_services_select_pods_and_target_declared_ports(variant: Stack) -> None:
    templates = [(w, t) for w, t in variant.pod_templates() if w["kind"] != "CronJob"]
    for svc in variant.all("Service"):
        sel = svc["spec"]["selector"]
        matching = [
            t for w, t in templates if selector_matches(sel, w["metadata"]["name"], t["metadata"]["labels"])
        ]
        assert matching, f"Service {svc['metadata']['name']} selects no pod"
        for port in svc["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            declared = {
                (p.get("name"), p["containerPort"], p.get("protocol", "TCP"))
                for t in matching
                for c in t["spec"]["containers"]
                for p in c.get("ports", [])
            }
            assert any(
                (target in (n, num)) and proto == port.get("protocol", "TCP") for n, num, proto in declared
            ), f"Service {svc['metadata']['name']} port {port} has no matching container port"


def test_runtime_selector_labels_are_kept_by_the_selected_workload(variant: Stack) -> None:
    """A Service selecting on a label the manifests do not set (``vault-active``) relies on the workload
    labelling its own pods: its ServiceAccount token is mounted, its Role may patch exactly its own pods,
    its config turns service registration on, and the Service publishes ready pods only (a pod whose label
    went stale when it crashed drops out on its readiness probe)."""
    found = 0
    for svc in variant.all("Service"):
        static = {k for _, t in variant.pod_templates() for k in t["metadata"]["labels"]}
        runtime = set(svc["spec"]["selector"]) - static
        if not runtime:
            continue
        found += 1
        name = svc["spec"]["selector"]["app.kubernetes.io/name"]
        assert runtime <= set(RUNTIME_POD_LABELS.get(name, ())), (svc["metadata"]["name"], runtime)
        assert not svc["spec"].get("publishNotReadyAddresses"), svc["metadata"]["name"]
        sts = variant.get("StatefulSet", name)
        assert sts["spec"]["template"]["spec"]["automountServiceAccountToken"] is True
        rule = variant.get("Role", name)["rules"][0]
        replicas = sts["spec"]["replicas"]
        assert rule["resources"] == ["pods"] and {"get", "patch"} <= set(rule["verbs"])
        assert rule["resourceNames"] == [f"{name}-{i}" for i in range(replicas)]
        assert "service_registration" in variant.config_data(f"{name}-config")["config.json"]
    assert found == 2, "vault-active and vault-standby select on Vault's service registration label"


def test_probe_ports_are_declared(variant: Stack) -> None:
    for _, name, spec in _pods(variant):
        for c in spec["containers"]:
            names = {p.get("name") for p in c.get("ports", [])} | {
                p["containerPort"] for p in c.get("ports", [])
            }
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                action = c.get(probe, {}).get("httpGet") or c.get(probe, {}).get("tcpSocket")
                if action:
                    assert action["port"] in names, f"{name}/{c['name']} {probe} port {action['port']}"


def test_disruption_budgets_where_replicas_exceed_one(variant: Stack) -> None:
    multi = {
        w["metadata"]["name"]
        for w, _ in variant.pod_templates()
        if w["kind"] in ("StatefulSet", "Deployment") and w["spec"].get("replicas", 1) > 1
    }
    pdbs = {p["metadata"]["name"] for p in variant.all("PodDisruptionBudget")}
    assert pdbs == multi
    for pdb in variant.all("PodDisruptionBudget"):
        # one pod at a time: a quorum of 3 and an HA pair both survive it
        assert pdb["spec"]["maxUnavailable"] == 1, pdb["metadata"]["name"]
        workload = variant.get("StatefulSet", pdb["metadata"]["name"])
        assert pdb["spec"]["selector"] == workload["spec"]["selector"]


def test_replicas_are_spread_over_nodes_and_zones(variant: Stack) -> None:
    """Every workload with more than one replica keeps its pods apart: anti-affinity on the node (required
    for Vault's raft voters by default, preferred elsewhere) and a zone spread that never blocks
    scheduling."""
    for workload, template in variant.pod_templates():
        if workload["kind"] != "StatefulSet" or workload["spec"].get("replicas", 1) < 2:
            continue
        name, spec = workload["metadata"]["name"], template["spec"]
        anti = spec["affinity"]["podAntiAffinity"]
        terms = [t.get("podAffinityTerm", t) for rules in anti.values() for t in rules]
        assert [t["topologyKey"] for t in terms] == ["kubernetes.io/hostname"], name
        assert all(t["labelSelector"] == workload["spec"]["selector"] for t in terms), name
        (spread,) = spec["topologySpreadConstraints"]
        assert spread["topologyKey"] == "topology.kubernetes.io/zone", name
        assert spread["whenUnsatisfiable"] == "ScheduleAnyway", name
        assert spread["labelSelector"] == workload["spec"]["selector"], name


def test_graceful_termination_for_vault_and_prometheus(stack: Stack) -> None:
    assert (
        stack.get("StatefulSet", "vault")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 30
    )
    assert (
        stack.get("StatefulSet", "prometheus")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        >= 60
    )


def test_secret_patterns_catch_real_looking_secrets() -> None:
    samples = [
        "-----BEGIN RSA PRIVATE KEY-----",
        "token: hvs.CAESIJ2bqY3lMZ6sJfKqQz7EXAMPLEabcdef",
        "admin_password: hunter2hunter2",
        "api_url: https://hooks.slack.com/services/T000/B000/XXXX",
    ]
    for sample in samples:
        assert any(p.search(sample) for p in SECRET_PATTERNS), sample
    for harmless in ("password_file: /etc/alertmanager/secrets/smtp", "admin_password = $__file{/x}"):
        assert not any(p.search(harmless) for p in SECRET_PATTERNS), harmless


def test_peer_ca_bundles_are_optional_and_own_credentials_are_required(stack: Stack) -> None:
    """Monitoring must start (and alert) before Vault's TLS Secret exists; a pod's own secrets must not."""

    def secret_volumes(kind: str, name: str) -> dict[str, dict[str, Any]]:
        spec = stack.get(kind, name)["spec"]["template"]["spec"]
        return {v["secret"]["secretName"]: v["secret"] for v in spec["volumes"] if "secret" in v}

    assert secret_volumes("StatefulSet", "prometheus")["vault-tls"].get("optional") is True
    assert secret_volumes("DaemonSet", "alloy")["vault-tls-ca"].get("optional") is True
    assert not secret_volumes("StatefulSet", "vault")["vault-tls"].get("optional")
    assert not secret_volumes("StatefulSet", "grafana")["grafana-admin"].get("optional")


# -- Pod Security admission: what each namespace admits, proven pod by pod (tests/pss.py) -----------------


def _namespace_levels(s: Stack) -> dict[str, dict[str, str]]:
    prefix = "pod-security.kubernetes.io/"
    return {
        ns["metadata"]["name"]: {
            k.removeprefix(prefix): v for k, v in ns["metadata"]["labels"].items() if k.startswith(prefix)
        }
        for ns in s.all("Namespace")
    }


def test_main_namespace_enforces_restricted_and_only_the_node_namespace_admits_privileged(
    variant: Stack,
) -> None:
    levels = _namespace_levels(variant)
    assert levels[MAIN] == {"enforce": "restricted", "warn": "restricted", "audit": "restricted"}
    assert levels[NODE] == {"enforce": "privileged", "warn": "restricted", "audit": "restricted"}
    assert set(levels) == {MAIN, NODE}


def test_every_pod_is_admitted_by_its_namespace(variant: Stack) -> None:
    """The admission controller's view: each pod meets its namespace's ``enforce`` level."""
    levels = _namespace_levels(variant)
    for workload, template in variant.pod_templates():
        namespace = workload["metadata"]["namespace"]
        problems = admitted(levels[namespace]["enforce"], template["spec"])
        assert not problems, f"{workload['kind']}/{workload['metadata']['name']} in {namespace}: {problems}"


def test_nothing_in_the_main_namespace_needs_an_exception(variant: Stack) -> None:
    """Every pod of the main namespace meets ``restricted`` in full; the pods that do not are exactly the
    node agents, each for its documented reason, and they all live in the node namespace."""
    outside: dict[str, list[str]] = {}
    for workload, template in variant.pod_templates():
        problems = restricted_violations(template["spec"])
        if workload["metadata"]["namespace"] == MAIN:
            assert not problems, f"{workload['metadata']['name']}: {problems}"
        elif problems:
            outside[workload["metadata"]["name"]] = problems
    assert set(outside) == NODE_AGENTS
    # Alloy: its read-only host mounts and nothing else; Chrony: SYS_TIME as root and nothing else
    assert all("hostPath" in p for p in outside["alloy"]), outside["alloy"]
    assert set(outside["chrony"]) == {
        "chrony: adds capabilities ['SYS_TIME']",
        "chrony: adds capabilities ['SYS_TIME'] (restricted: NET_BIND_SERVICE only)",
        "runAsUser 0 (pod)",
        "chrony: runAsNonRoot is not true",
        "chrony: runAsUser 0",
    }, outside["chrony"]
    for workload, _ in variant.pod_templates():
        if workload["metadata"]["name"] in NODE_AGENTS:
            assert workload["metadata"]["namespace"] == NODE


def test_pss_check_can_fail() -> None:
    """The checker is not vacuous: each control flags a pod that breaks it."""
    good = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "c",
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            }
        ],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
    assert admitted("restricted", good) == []
    broken: list[tuple[str, dict[str, Any], str]] = [
        ("baseline", {**good, "hostNetwork": True}, "host namespaces"),
        ("baseline", {**good, "volumes": [{"name": "h", "hostPath": {"path": "/"}}]}, "hostPath"),
        (
            "baseline",
            {**good, "containers": [{"name": "c", "securityContext": {"privileged": True}}]},
            "privileged",
        ),
        (
            "baseline",
            {
                **good,
                "containers": [{"name": "c", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}],
            },
            "adds capabilities",
        ),
        ("baseline", {**good, "containers": [{"name": "c", "ports": [{"hostPort": 80}]}]}, "hostPort"),
        ("restricted", {**good, "volumes": [{"name": "n", "nfs": {"server": "x"}}]}, "of type ['nfs']"),
        ("restricted", {**good, "securityContext": {"runAsNonRoot": True}}, "seccomp"),
        ("restricted", {**good, "containers": [{"name": "c"}]}, "allowPrivilegeEscalation"),
        (
            "restricted",
            {**good, "securityContext": {**good["securityContext"], "runAsUser": 0}},
            "runAsUser 0",
        ),
    ]
    for level, spec, problem in broken:
        found = admitted(level, spec)
        assert any(problem in p for p in found), (level, problem, found)
    assert admitted("privileged", broken[0][1]) == []
