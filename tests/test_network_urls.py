"""Every in-cluster address in the generated configuration resolves, and the NetworkPolicies let it through.

The scan covers the text a workload reads: the data of every ConfigMap it mounts (per key: YAML and JSON are
parsed and walked, other formats scanned as text) and its containers' env values, command and args. Every
``<service>.<namespace>.svc[.<cluster domain>]`` and ``<pod>.<service>.<namespace>.svc...`` name, and every
short Service name used as ``<service>:<port>`` or ``scheme://<service>``, is a reference:

* a connection (``host:port``, a URL, or Prometheus' ``dns_sd_configs`` ``names`` + ``port``): the Service
  exists in that namespace of the stack with that port (a short name is resolved in the reader's own
  namespace, as DNS search domains do), its target port is a container port of the pods it
  selects (a headless Service does no port mapping, so there port == container port), a per-pod name is a
  pod of the StatefulSet governed by that headless Service, and the connectivity matrix allows **every**
  workload that reads the text to reach those pods on that port;
* an address a workload advertises for itself (``$(POD_NAME).<headless service>...:port``, Vault's
  ``VAULT_API_ADDR``/``VAULT_CLUSTER_ADDR``): the Service selects that workload's own pods on that port,
  and with more than one replica the peers may reach each other on it;
* a ring member's gRPC address (Loki, Tempo with replicas): a config that joins a memberlist ring through
  ``memberlist.join_members`` (``dns+<headless service>:<port>``) advertises its pod's
  ``server.grpc_listen_port`` in the ring, and its peers dial the addresses the ring gossips, which no
  config text names; the Service must select the reader's own pods on that port, and with more than one
  replica the peers may reach each other on it;
* a TLS server name (keys ending in ``server_name``): the Service exists. Any other name without a port
  fails, since it cannot be checked.

A name in a namespace outside the stack must be an external service declared in the settings
(``<component>.external``, in the cluster): the policies must let every reader reach the pods it is
described by on its declared ports (``network.*``-style notation, ``<namespace labels>/<pod labels>``).

Conversely, every connection the policies allow between the stack's pods, and every one they allow to a
declared external service, is used by some reference: a policy that no configuration needs is an
over-broad allowance.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest
import yaml

from tests.stack import SAME_AS_DEFAULT, Stack, scenario_stack, selector_matches, synth_stack
from tests.test_network_matrix import VARIANTS
from vaultaio_constructs.analysis import (
    Connection,
    Matrix,
    Pod,
    connectivity,
    describe_peer,
    pod_template,
    pods_of,
)

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
SCHEME_PORTS = {"http": 80, "https": 443}
#: Keys whose value is a host name to verify a certificate against, not a connection.
SERVER_NAME_KEY = re.compile(r"(^|_)server_name$", re.IGNORECASE)


@dataclass(frozen=True)
class Reference:
    """One in-cluster name found in text that ``readers`` (workloads) use."""

    where: str
    readers: tuple[str, ...]
    host: str
    port: int | None
    #: ``connect``: the readers open connections to it; ``self``: a reader advertises its own pod address;
    #: ``ring``: a reader advertises its own gRPC port to ring peers; ``name``: a TLS server name (no
    #: connection).
    kind: Literal["connect", "self", "ring", "name"]
    pod_var: str | None = None

    def __str__(self) -> str:
        target = f"$({self.pod_var}).{self.host}" if self.pod_var else self.host
        return (
            f"{self.where}: {target}{'' if self.port is None else f':{self.port}'} (read by {self.readers})"
        )


def _host_pattern(cluster_domain: str) -> re.Pattern[str]:
    label = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
    return re.compile(
        r"(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?"
        r"(?:\$\((?P<var>[A-Za-z_][A-Za-z0-9_]*)\)\.|(?<![-A-Za-z0-9_.$]))"
        rf"(?P<host>(?:{label}\.)+svc(?P<domain>\.[a-z0-9.-]*[a-z0-9])?)(?![-A-Za-z0-9_])"
        r"(?::(?P<port>\d+))?"
    )


def _short_pattern(services: list[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(s) for s in sorted(services, key=len, reverse=True))
    return re.compile(
        rf"(?:(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<h1>{names})(?=[/:\"'\s]|$)(?::(?P<p1>\d+))?)"
        rf"|(?<![-A-Za-z0-9_.$/])(?P<h2>{names}):(?P<p2>\d+)\b"
    )


class Scanner:
    """Finds references in one stack's text."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.cluster_domain = stack.chart.props.cluster_domain
        self.hosts = _host_pattern(self.cluster_domain)
        self.short = _short_pattern([s["metadata"]["name"] for s in stack.all("Service")])
        self.problems: list[str] = []

    # -- text sources ------------------------------------------------------------------------------------
    def sources(self) -> Iterator[tuple[str, tuple[str, ...], str, str, str | None, str]]:
        """``(where, readers, key, text, file name, namespace)`` for every ConfigMap key and container
        string. A pod reads ConfigMaps of its own namespace only."""
        readers: dict[tuple[str, str, str], set[str]] = {}
        config_maps = {
            (cm["metadata"]["namespace"], cm["metadata"]["name"]): cm for cm in self.stack.all("ConfigMap")
        }
        for workload in self.stack.objects:
            if workload["kind"] not in WORKLOAD_KINDS:
                continue
            name, namespace = workload["metadata"]["name"], workload["metadata"]["namespace"]
            spec = pod_template(workload)["spec"]
            for cm_name, keys in _config_maps_read(spec):
                data = (config_maps.get((namespace, cm_name)) or {}).get("data") or {}
                for key in keys if keys is not None else list(data):
                    readers.setdefault((namespace, cm_name, key), set()).add(name)
            for c in [*spec.get("initContainers", []), *spec["containers"]]:
                where = f"{workload['kind']} {name}, container {c['name']}"
                for env in c.get("env") or []:
                    if "value" in env:
                        yield (
                            f"{where}, env {env['name']}",
                            (name,),
                            env["name"],
                            env["value"],
                            None,
                            namespace,
                        )
                for field in ("command", "args"):
                    for i, arg in enumerate(c.get(field) or []):
                        yield f"{where}, {field}[{i}]", (name,), "", arg, None, namespace
        for (namespace, cm_name), cm in config_maps.items():
            for key, text in sorted((cm.get("data") or {}).items()):
                who = tuple(sorted(readers.get((namespace, cm_name, key), ())))
                yield f"ConfigMap {cm_name}, key {key}", who, "", text, key, namespace

    # -- extraction ----------------------------------------------------------------------------------------
    def references(self) -> list[Reference]:
        refs: list[Reference] = []
        for where, readers, key, text, file_name, namespace in self.sources():
            tree = _parse(file_name, text) if file_name else None
            if tree is not None:
                for path, leaf_key, value, port in _walk(tree):
                    refs += self._scan(f"{where}: {path}", readers, leaf_key, value, port, namespace)
                refs += self._ring(where, readers, tree)
            else:
                refs += self._scan(where, readers, key, text, None, namespace)
        return refs

    def _ring(self, where: str, readers: tuple[str, ...], tree: Any) -> list[Reference]:
        """The gRPC address ring members advertise to the peers behind their memberlist seed."""
        if not isinstance(tree, Mapping):
            return []
        seeds = (tree.get("memberlist") or {}).get("join_members") or []
        port = (tree.get("server") or {}).get("grpc_listen_port")
        refs = []
        for seed in seeds:
            m = self.hosts.search(str(seed))
            if m is not None and isinstance(port, int):
                host = m["host"].removesuffix(m["domain"] or "")
                path = f"{where}: server.grpc_listen_port of the ring joined through {seed}"
                refs.append(Reference(path, readers, host, port, "ring"))
        return refs

    def _scan(
        self,
        where: str,
        readers: tuple[str, ...],
        key: str,
        text: str,
        context_port: int | None,
        namespace: str,
    ) -> list[Reference]:
        if ":" not in text and "svc" not in text:
            return []  # both patterns need one of them: most strings of a config (dashboards) are skipped
        refs: list[Reference] = []
        for m in self.hosts.finditer(text):
            host = m["host"].removesuffix(m["domain"] or "")
            if m["domain"] and m["domain"] != f".{self.cluster_domain}":
                self.problems.append(
                    f"{where}: {m[0]} uses cluster domain {m['domain'][1:]!r}, "
                    f"the stack's is {self.cluster_domain!r}"
                )
                continue
            line_key = key or _line_key(text, m.start())
            refs.append(
                self._reference(
                    where, readers, line_key, host, m["scheme"], m["port"], m["var"], context_port
                )
            )
        for m in self.short.finditer(text):
            service = m["h1"] or m["h2"]
            host = f"{service}.{namespace}.svc"
            refs.append(
                self._reference(
                    f"{where} (short name {m[0]!r})",
                    readers,
                    key,
                    host,
                    m["scheme"],
                    m["p1"] or m["p2"],
                    None,
                    None,
                )
            )
        return refs

    def _reference(
        self,
        where: str,
        readers: tuple[str, ...],
        key: str,
        host: str,
        scheme: str | None,
        port_text: str | None,
        var: str | None,
        context_port: int | None,
    ) -> Reference:
        port = int(port_text) if port_text else context_port
        if port is None and scheme in SCHEME_PORTS:
            port = SCHEME_PORTS[scheme]
        if var is not None:
            return Reference(where, readers, host, port, "self", var)
        if port is None and SERVER_NAME_KEY.search(key):
            return Reference(where, readers, host, None, "name")
        return Reference(where, readers, host, port, "connect")


def pod_name_vars(stack: Stack, workload: str) -> set[str]:
    """Env vars of ``workload`` that hold its pod's name (``fieldRef: metadata.name``)."""
    found = set()
    for o in stack.objects:
        if o["metadata"]["name"] == workload and o["kind"] in WORKLOAD_KINDS:
            for c in pod_template(o)["spec"]["containers"]:
                for env in c.get("env") or []:
                    ref = (env.get("valueFrom") or {}).get("fieldRef") or {}
                    if ref.get("fieldPath") == "metadata.name":
                        found.add(env["name"])
    return found


def _config_maps_read(spec: Mapping[str, Any]) -> Iterator[tuple[str, list[str] | None]]:
    """``(ConfigMap, keys or None for all)`` a pod reads through volumes, envFrom or configMapKeyRef."""
    for volume in spec.get("volumes") or []:
        sources = [volume] if "configMap" in volume else (volume.get("projected") or {}).get("sources", [])
        for source in sources:
            if "configMap" in source:
                items = source["configMap"].get("items")
                yield source["configMap"]["name"], [i["key"] for i in items] if items else None
    for c in [*spec.get("initContainers", []), *spec["containers"]]:
        for env_from in c.get("envFrom") or []:
            if "configMapRef" in env_from:
                yield env_from["configMapRef"]["name"], None
        for env in c.get("env") or []:
            ref = (env.get("valueFrom") or {}).get("configMapKeyRef")
            if ref:
                yield ref["name"], [ref["key"]]


def _parse(file_name: str, text: str) -> Any:
    if file_name.endswith((".yaml", ".yml")):
        return yaml.load(text, getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # safe_load's data, via libyaml
    if file_name.endswith(".json"):
        return json.loads(text)
    return None


def _walk(node: Any, path: str = "", key: str = "") -> Iterator[tuple[str, str, str, int | None]]:
    """``(path, key, string, port)`` for every string in a parsed document. ``port`` is the sibling
    ``port`` of a ``names`` list (Prometheus ``dns_sd_configs``: the names carry no port)."""
    if isinstance(node, Mapping):
        for k, v in node.items():
            sub = f"{path}.{k}" if path else str(k)
            if k == "names" and isinstance(v, list) and isinstance(node.get("port"), int):
                for i, name in enumerate(v):
                    yield f"{sub}[{i}]", str(k), str(name), node["port"]
                continue
            if isinstance(k, str):
                yield from _walk(k, f"{sub} (key)", str(k))
            yield from _walk(v, sub, str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}[{i}]", key)
    elif isinstance(node, str):
        yield path, key, node, None


def _line_key(text: str, offset: int) -> str:
    """The ``key`` of a ``key = value`` / ``key: value`` line holding ``offset`` (raw-text formats)."""
    line = text[text.rfind("\n", 0, offset) + 1 : offset]
    m = re.match(r"\s*([A-Za-z_][\w.-]*)\s*[=:]", line)
    return m[1] if m else ""


# -- resolution ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a reference lands: the workloads behind it and the container port it reaches."""

    workloads: tuple[str, ...]
    port: int
    protocol: str
    #: Further protocols the Service serves on the same port (gossip: memberlist uses TCP and UDP).
    also: tuple[str, ...] = ()

    @property
    def protocols(self) -> tuple[str, ...]:
        return (self.protocol, *self.also)


def _selects(selector: Mapping[str, str], pod: Pod) -> bool:
    return selector_matches(selector, pod.workload, pod.labels)


def resolve(stack: Stack, ref: Reference) -> tuple[Target | None, list[str]]:
    """Resolve ``ref`` against the stack's Services, StatefulSets and pods; problems if it does not."""
    labels = ref.host.removesuffix(".svc").split(".")
    namespaces = set(stack.chart.namespaces)
    pod_name: str | None = None
    if len(labels) == 3 and ref.pod_var is None:
        pod_name, service_name, ns = labels
    elif len(labels) == 2:
        service_name, ns = labels
    else:
        return None, [f"{ref}: not <service>.<namespace>.svc or <pod>.<service>.<namespace>.svc"]
    if ns not in namespaces:
        return None, [f"{ref}: namespace {ns!r} is not one of the stack's ({sorted(namespaces)})"]
    found = [s for s in stack.all("Service") if s["metadata"]["name"] == service_name]
    found = [s for s in found if s["metadata"]["namespace"] == ns]
    if not found:
        return None, [f"{ref}: no Service {service_name!r} in namespace {ns!r}"]
    service = found[0]["spec"]
    headless = service.get("clusterIP") == "None"
    pods = [
        p for p in pods_of(stack.objects) if p.namespace == ns and _selects(service.get("selector") or {}, p)
    ]
    if not pods:
        return None, [f"{ref}: Service {service_name!r} selects no pod of the stack"]
    if pod_name is not None or ref.pod_var is not None:
        if not headless:
            return None, [f"{ref}: per-pod names need a headless Service, {service_name!r} is not"]
        governed = [s for s in stack.all("StatefulSet") if s["spec"].get("serviceName") == service_name]
        if not governed:
            return None, [f"{ref}: no StatefulSet has serviceName {service_name!r}, pods get no DNS names"]
        if pod_name is not None:
            names = {
                f"{s['metadata']['name']}-{i}": s["metadata"]["name"]
                for s in governed
                for i in range(s["spec"].get("replicas", 1))
            }
            if pod_name not in names:
                return None, [f"{ref}: no pod {pod_name!r}; the StatefulSet has {sorted(names)}"]
            pods = [p for p in pods if p.workload == names[pod_name]]
    if ref.port is None:
        return Target(tuple(sorted({p.workload for p in pods})), 0, ""), []
    service_ports = [sp for sp in service.get("ports") or [] if sp["port"] == ref.port]
    if not service_ports:
        ports = [sp["port"] for sp in service.get("ports") or []]
        return None, [f"{ref}: Service {service_name!r} has no port {ref.port} (ports: {ports})"]
    problems = []
    numbers = set()
    for sp in service_ports:
        protocol = sp.get("protocol", "TCP")
        target = sp.get("targetPort", sp["port"])
        for pod in pods:
            match = [
                p
                for p in pod.ports
                if p.protocol == protocol
                and (p.name == target if isinstance(target, str) else p.number == target)
            ]
            if not match:
                problems.append(
                    f"{ref}: target port {target!r} of {service_name!r} is not a port of {pod.workload}"
                )
            numbers |= {p.number for p in match}
    if len(numbers) > 1:
        problems.append(f"{ref}: target port {target!r} resolves to several numbers {sorted(numbers)}")
    if problems:
        return None, problems
    number = numbers.pop()
    if headless and number != ref.port:
        return None, [
            f"{ref}: headless Service {service_name!r} maps {ref.port} to {number}, which DNS cannot"
        ]
    protocols = [sp.get("protocol", "TCP") for sp in service_ports]
    return Target(tuple(sorted({p.workload for p in pods})), number, protocols[0], tuple(protocols[1:])), []


def replicas(stack: Stack, workload: str) -> int:
    return max(
        (
            int(o["spec"].get("replicas", 1))
            for o in stack.all("StatefulSet")
            if o["metadata"]["name"] == workload
        ),
        default=1,
    )


@dataclass(frozen=True)
class ExternalPeer:
    """An external service the settings declare inside the cluster: its pods as the evaluator names them
    (``<namespace labels>/<pod labels>``) and the ports its traffic arrives on there."""

    peer: str
    ports: tuple[int, ...]


def declared_externals(stack: Stack) -> dict[tuple[str, int], ExternalPeer]:
    """``(host, port)`` of each in-cluster external service in the settings -> where its traffic goes.

    Read from the settings as the user wrote them (not from the wiring), with the defaults the settings
    documentation gives: the URL's port (80/443 without one) and, for Tempo without ``otlp_grpc``, the
    query host on 4317.
    """
    props = stack.chart.props
    found: dict[tuple[str, int], ExternalPeer] = {}

    def add(url: str, ns_labels: Mapping[str, str] | None, pod_labels: Mapping[str, str], ports: Any) -> None:
        if ns_labels is None:
            return
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}[parts.scheme]
        peer = {"namespaceSelector": {"matchLabels": dict(ns_labels)}}
        if pod_labels:
            peer["podSelector"] = {"matchLabels": dict(pod_labels)}
        found[(parts.hostname or "", port)] = ExternalPeer(describe_peer(peer), tuple(ports) or (port,))

    for name in ("prometheus", "alertmanager", "loki", "tempo"):
        ext = getattr(props, name).external
        if ext is None:
            continue
        add(ext.url, ext.namespace_labels, ext.pod_labels, ext.ports)
        if name == "tempo":
            otlp = ext.otlp_grpc
            if otlp is not None:
                add(otlp.url, otlp.namespace_labels, otlp.pod_labels, otlp.ports)
            else:
                host = urlsplit(ext.url).hostname
                add(f"http://{host}:4317", ext.namespace_labels, ext.pod_labels, (4317,))
    return found


def check(stack: Stack, matrix: Matrix, refs: list[Reference]) -> tuple[list[str], set[Connection]]:
    """Problems of ``refs``, and the connections they need (to compare with the matrix): between the
    stack's pods, and to the declared external services (``matrix.egress_other_namespaces``)."""
    problems: list[str] = []
    needed: set[Connection] = set()
    externals = declared_externals(stack)
    namespaces = set(stack.chart.namespaces)
    for ref in refs:
        namespace = ref.host.removesuffix(".svc").split(".")[-1]
        if namespace not in namespaces and ref.kind == "connect" and ref.port is not None:
            external = externals.get((ref.host, ref.port))
            if external is None:
                problems.append(
                    f"{ref}: namespace {namespace!r} is not one of the stack's and no external service of "
                    "the settings is at that address"
                )
                continue
            for reader in ref.readers:
                for port in external.ports:
                    needed.add(Connection(reader, external.peer, port, "TCP"))
            continue
        target, found = resolve(stack, ref)
        problems += found
        if target is None:
            continue
        if ref.kind == "name":
            continue
        if ref.port is None:
            problems.append(f"{ref}: no port and not a TLS server name, cannot be checked")
            continue
        if not ref.readers:
            problems.append(f"{ref}: no workload reads this, so the address is unused")
            continue
        if ref.kind == "ring":
            for reader in ref.readers:
                if reader not in target.workloads:
                    problems.append(f"{ref}: {reader} joins a ring whose Service selects {target.workloads}")
                elif replicas(stack, reader) > 1:
                    needed.add(Connection(reader, reader, target.port, target.protocol))
            continue
        if ref.kind == "self":
            for reader in ref.readers:
                if ref.pod_var not in pod_name_vars(stack, reader):
                    problems.append(
                        f"{ref}: $({ref.pod_var}) is not {reader}'s pod name (fieldRef metadata.name)"
                    )
                if reader not in target.workloads:
                    problems.append(f"{ref}: advertised by {reader}, but the name selects {target.workloads}")
                elif replicas(stack, reader) > 1:
                    needed |= {Connection(reader, reader, target.port, p) for p in target.protocols}
            continue
        for reader in ref.readers:
            for workload in target.workloads:
                needed |= {Connection(reader, workload, target.port, p) for p in target.protocols}
    for c in sorted(needed - matrix.internal - matrix.egress_other_namespaces):
        problems.append(
            f"the policies do not allow {c.source} -> {c.destination} {c.port}/{c.protocol}, "
            f"which {c.source}'s configuration needs"
        )
    return problems, needed


# -- fixtures ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def variant(stack: Stack) -> Callable[[str], Stack]:
    """The default stack (session fixture) or a variant, each synthesized at most once in this module."""
    cache: dict[str, Stack] = {"default": stack}

    def get(name: str) -> Stack:
        if name.startswith("scenario-"):
            return scenario_stack(name.removeprefix("scenario-"))
        if name not in cache:
            cache[name] = synth_stack(VARIANTS[name])
        return cache[name]

    return get


def _analyse(stack: Stack) -> tuple[Scanner, list[Reference], Matrix]:
    scanner = Scanner(stack)
    refs = scanner.references()
    return scanner, refs, connectivity(stack.objects)


# -- tests ---------------------------------------------------------------------------------------------------


ALL = ["default", *sorted(v for v in VARIANTS if v.removeprefix("scenario-") not in SAME_AS_DEFAULT)]


@pytest.mark.parametrize("name", ALL)
def test_every_in_cluster_address_resolves_and_is_allowed(name: str, variant: Callable[[str], Stack]) -> None:
    stack = variant(name)
    scanner, refs, matrix = _analyse(stack)
    problems, _ = check(stack, matrix, refs)
    problems = scanner.problems + problems
    if problems:
        pytest.fail(f"{name} stack:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.mark.parametrize("name", ALL)
def test_every_allowed_connection_is_used_by_some_configuration(
    name: str, variant: Callable[[str], Stack]
) -> None:
    stack = variant(name)
    _, refs, matrix = _analyse(stack)
    _, needed = check(stack, matrix, refs)
    peers = {e.peer for e in declared_externals(stack).values()}
    to_externals = {c for c in matrix.egress_other_namespaces if c.destination in peers}
    unused = sorted((matrix.internal | to_externals) - needed)
    assert not unused, f"{name} stack: policies allow connections no configuration uses: " + ", ".join(
        f"{c.source} -> {c.destination} {c.port}/{c.protocol}" for c in unused
    )


def test_scan_finds_the_known_addresses(stack: Stack, variant: Callable[[str], Stack]) -> None:
    """The scan is not vacuous: the addresses each config is known to hold are found, with their readers."""
    found = {(r.readers, r.host, r.port, r.kind) for r in Scanner(stack).references()}
    ns = stack.chart.stack_namespace
    for expected in [
        (("grafana",), f"prometheus.{ns}.svc", 9090, "connect"),  # datasource
        (("grafana",), f"tempo.{ns}.svc", 3200, "connect"),
        (("loki",), f"alertmanager.{ns}.svc", 9093, "connect"),  # ruler alertmanager_url
        (("alloy",), f"tempo.{ns}.svc", 4317, "connect"),  # OTLP exporter, host:port without scheme
        (("alloy",), f"vault.{ns}.svc", 8200, "connect"),  # TLS probe
        (("prometheus",), f"vault-internal.{ns}.svc", 8202, "connect"),  # dns_sd_configs names + port
        (("prometheus",), f"vault.{ns}.svc", None, "name"),  # tls_config.server_name
        (("vault",), f"vault-internal.{ns}.svc", 8201, "self"),  # VAULT_CLUSTER_ADDR
    ]:
        assert expected in found, f"{expected} not found; found {sorted(found, key=str)}"
    ha = {(r.readers, r.host, r.port) for r in Scanner(variant("ha")).references()}
    assert (("vault",), f"vault-2.vault-internal.{ns}.svc", 8200) in ha  # retry_join leader_api_addr
    backup = {(r.readers, r.host, r.port) for r in Scanner(variant("backup")).references()}
    assert (("vault-backup",), f"vault-active.{ns}.svc", 8200) in backup  # VAULT_ADDR of the CronJob
    rings = {
        (r.readers, r.host, r.port, r.kind) for r in Scanner(variant("object-storage-replicas")).references()
    }
    for component in ("loki", "tempo"):
        assert ((component,), f"{component}-peers.{ns}.svc", 7946, "connect") in rings  # memberlist seed
        assert ((component,), f"{component}-peers.{ns}.svc", 9095, "ring") in rings  # advertised gRPC
    assert (("tempo",), f"tempo-peers.{ns}.svc", 9095, "connect") in rings  # querier frontend_address
    assert (("prometheus",), f"loki-peers.{ns}.svc", 3100, "connect") in rings  # scrapes every replica


def _mutated(stack: Stack, config_map: str, key: str, old: str, new: str) -> Stack:
    """A copy of ``stack`` with one string replaced in one ConfigMap key (the synthesized objects only)."""
    manifests = []
    for m in stack.manifests:
        body = m.body
        if body["kind"] == "ConfigMap" and body["metadata"]["name"] == config_map:
            assert old in body["data"][key], f"{old!r} not in {config_map}/{key}"
            body = json.loads(json.dumps(body))
            body["data"][key] = body["data"][key].replace(old, new)
        manifests.append(type(m)(m.area, body, m.main_namespace))
    return Stack(stack.chart, manifests)


@pytest.mark.parametrize(
    ("config_map", "key", "old", "new", "problem"),
    [
        (
            "loki-config",
            "loki.yaml",
            "alertmanager.vault-aio.svc:9093",
            "alertmanager.vault-aio.svc:9094",
            "no port 9094",
        ),
        (
            "alloy-config",
            "config.alloy",
            "tempo.vault-aio.svc:4317",
            "tempo.vault-aio.svc:4318",
            "do not allow alloy -> tempo 4318",
        ),
        (
            "alloy-config",
            "config.alloy",
            "http://loki.vault-aio.svc:3100",
            "http://lokki.vault-aio.svc:3100",
            "no Service 'lokki'",
        ),
        (
            "grafana-provisioning",
            "datasources.yaml",
            "http://tempo.vault-aio.svc:3200",
            "http://tempo:3201",
            "(short name 'http://tempo:3201'): tempo.vault-aio.svc:3201 (read by ('grafana',)): "
            "Service 'tempo' has no port 3201",
        ),
        (
            "grafana-provisioning",
            "datasources.yaml",
            "http://loki.vault-aio.svc:3100",
            "http://vault.vault-aio.svc:8200",
            "do not allow grafana -> vault 8200",
        ),
        ("prometheus-config", "prometheus.yml", "port: 8202", "port: 8203", "no port 8203"),
        (
            "prometheus-config",
            "prometheus.yml",
            "vault-internal.vault-aio.svc.cluster.local",
            "vault-internal.vault-aio.svc.cluster.example",
            "cluster domain",
        ),
        (
            "loki-config",
            "loki.yaml",
            "http://alertmanager.vault-aio.svc:9093",
            "http://alertmanager.other.svc:9093",
            "namespace 'other'",
        ),
        (
            "alloy-config",
            "config.alloy",
            '"tempo.vault-aio.svc:4317"',
            '"tempo.vault-aio.svc"',
            "no port and not a TLS server name",
        ),
    ],
)
def test_fails_on_a_broken_address(
    stack: Stack, config_map: str, key: str, old: str, new: str, problem: str
) -> None:
    """The check can fail: each mutation of one address in the default stack is reported."""
    broken = _mutated(stack, config_map, key, old, new)
    scanner, refs, matrix = _analyse(broken)
    problems = scanner.problems + check(broken, matrix, refs)[0]
    assert any(problem in p for p in problems), f"{problem!r} not reported; problems: {problems}"


def test_fails_on_a_per_pod_name_beyond_the_replicas(variant: Callable[[str], Stack]) -> None:
    ha = variant("ha")
    broken = _mutated(ha, "vault-config", "config.json", "vault-2.vault-internal", "vault-3.vault-internal")
    _, refs, matrix = _analyse(broken)
    problems = check(broken, matrix, refs)[0]
    assert any("no pod 'vault-3'" in p for p in problems), problems


def test_fails_when_a_policy_is_missing(stack: Stack) -> None:
    """Dropping the ingress half of one edge breaks the connection Alloy's config needs."""
    kept = [m for m in stack.manifests if m.body["metadata"]["name"] != "allow-loki-from-alloy"]
    assert len(kept) == len(stack.manifests) - 1
    broken = Stack(stack.chart, kept)
    _, refs, matrix = _analyse(broken)
    problems = check(broken, matrix, refs)[0]
    assert any("do not allow alloy -> loki 3100/TCP" in p for p in problems), problems


def test_fails_when_a_policy_is_not_needed(stack: Stack) -> None:
    """An allowed connection that no configuration uses is found (here: the ruler's URL is gone)."""
    broken = _mutated(
        stack, "loki-config", "loki.yaml", "http://alertmanager.vault-aio.svc:9093", "http://127.0.0.1:9093"
    )
    _, refs, matrix = _analyse(broken)
    _, needed = check(broken, matrix, refs)
    assert Connection("loki", "alertmanager", 9093, "TCP") in matrix.internal - needed


def test_every_ingress_backend_resolves_and_the_controller_is_allowed(
    variant: Callable[[str], Stack],
) -> None:
    for name in ("vault-ingress", "grafana-ingress"):
        stack = variant(name)
        matrix = connectivity(stack.objects)
        ingresses = stack.all("Ingress")
        assert ingresses, f"{name}: no Ingress"
        for ingress in ingresses:
            for rule in ingress["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    backend = path["backend"]["service"]
                    service = stack.get("Service", backend["name"])["spec"]
                    port = [
                        sp
                        for sp in service["ports"]
                        if sp.get("name") == backend["port"].get("name")
                        or sp["port"] == backend["port"].get("number")
                    ]
                    assert len(port) == 1, f"{name}: Ingress backend {backend} is not a port of the Service"
                    ref = Reference(
                        "Ingress",
                        ("ingress-controller",),
                        f"{backend['name']}.{stack.chart.stack_namespace}.svc",
                        port[0]["port"],
                        "connect",
                    )
                    target, problems = resolve(stack, ref)
                    assert target is not None, problems
                    allowed = {(c.destination, c.port, c.protocol) for c in matrix.ingress_other_namespaces}
                    for workload in target.workloads:
                        assert (workload, target.port, target.protocol) in allowed, (
                            f"{name}: the ingress controller may not reach {workload}:{target.port}"
                        )


def test_fails_when_an_external_service_is_not_allowed(variant: Callable[[str], Stack]) -> None:
    """Dropping Grafana's egress to the external Loki breaks the data source URL the settings declare."""
    stack = variant("external-loki")
    kept = [m for m in stack.manifests if m.body["metadata"]["name"] != "allow-grafana-to-loki"]
    broken = Stack(stack.chart, kept)
    _, refs, matrix = _analyse(broken)
    problems = check(broken, matrix, refs)[0]
    assert any(
        "do not allow grafana -> kubernetes.io/metadata.name=logging/app.kubernetes.io/component=gateway 8080"
        in p
        for p in problems
    ), problems


def test_external_references_are_found(variant: Callable[[str], Stack]) -> None:
    refs = {(r.readers, r.host, r.port) for r in Scanner(variant("external-loki")).references()}
    assert (("alloy",), "loki-gateway.logging.svc", 80) in refs
    assert (("grafana",), "loki-gateway.logging.svc", 80) in refs
