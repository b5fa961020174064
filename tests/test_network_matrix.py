"""Proof of the NetworkPolicies: the full connectivity matrix of the synthesized stack, computed by the
independent evaluator (:mod:`vaultaio_constructs.analysis`, Kubernetes NetworkPolicy semantics: a
connection needs the source's egress *and* the destination's ingress), must equal the table below.

Anything the policies allow that is not in the table fails, and so does anything in the table they do not
allow. Variants prove that each optional feature adds exactly its own connections and nothing else. The
committed diagram (docs/network.dot) must be what the current policies give.

Rows are ``(source, destination, port, protocol, reason)``. Destinations outside the stack are written as
the evaluator reports them: an IP block (``0.0.0.0/0``) or ``<namespace labels>/<pod labels>``.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from tests.stack import Stack, scenario_settings, scenario_stack, synth_stack
from vaultaio_constructs.analysis import Matrix, connectivity, pods_of

REPO = Path(__file__).resolve().parent.parent

Row = tuple[str, str, int, str]

# -- peers outside the stack, as the evaluator names them (defaults of the ``network`` settings) ------------
#: ``network.dns``: CoreDNS pods in kube-system.
KUBE_DNS = "kubernetes.io/metadata.name=kube-system/k8s-app=kube-dns"
#: ``network.kube_api.cidrs``: any address, IPv4 and IPv6 (the API server is not a pod); ports 443 and 6443.
KUBE_API = "0.0.0.0/0"
KUBE_API_V6 = "::/0"
#: ``network.ingress_controller``: any pod of namespace ingress-nginx.
INGRESS_CONTROLLER = "kubernetes.io/metadata.name=ingress-nginx/*"
#: ``chrony.servers`` default: time.google.com (IPv4 and IPv6 networks).
NTP_V4 = "216.239.35.0/28"
NTP_V6 = "2001:4860:4806::/48"

#: Every workload of the default stack (each gets DNS).
WORKLOADS = ("alertmanager", "alloy", "chrony", "grafana", "loki", "prometheus", "tempo", "vault")
#: Where each lives: the node agents (host access) in their own namespace, everything else in the main one.
#: Moving them there changes no connection: the table below is the one from before the split, and every
#: row between the two namespaces must now pass a namespaceSelector on both sides.
MAIN_NAMESPACE, NODE_NAMESPACE = "vault-aio", "vault-aio-node"
NAMESPACES = {w: NODE_NAMESPACE if w in ("alloy", "chrony") else MAIN_NAMESPACE for w in WORKLOADS}

EXPECTED: list[tuple[str, str, int, str, str]] = [
    # -- metrics: Prometheus scrapes every component that serves metrics -----------------------------------
    (
        "prometheus",
        "vault",
        8202,
        "TCP",
        "scrape Vault's metrics listener, every pod (spec: Vault <- Prometheus)",
    ),
    (
        "prometheus",
        "alertmanager",
        9093,
        "TCP",
        "scrape Alertmanager and send alerts (spec: -> Alertmanager)",
    ),
    ("prometheus", "grafana", 3000, "TCP", "scrape Grafana's /metrics"),
    ("prometheus", "loki", 3100, "TCP", "scrape Loki's /metrics"),
    ("prometheus", "tempo", 3200, "TCP", "scrape Tempo's /metrics"),
    ("prometheus", "prometheus", 9090, "TCP", "scrape itself through its Service"),
    # -- logs, traces, node metrics: Alloy -----------------------------------------------------------------
    ("alloy", "loki", 3100, "TCP", "ship pod, node and Vault audit logs (spec: Alloy -> Loki)"),
    ("alloy", "tempo", 4317, "TCP", "forward OTLP traces over gRPC (spec: Alloy -> Tempo)"),
    ("alloy", "prometheus", 9090, "TCP", "remote-write node, probe and agent metrics"),
    ("tempo", "prometheus", 9090, "TCP", "remote-write service-graph and span metrics (metrics-generator)"),
    ("alloy", "vault", 8200, "TCP", "probe Vault's TLS certificate for expiry"),
    # -- alerts --------------------------------------------------------------------------------------------
    ("loki", "alertmanager", 9093, "TCP", "log-based alerts from Loki's ruler"),
    # -- Grafana reads every store -------------------------------------------------------------------------
    ("grafana", "prometheus", 9090, "TCP", "metric queries (spec: Prometheus <- Grafana)"),
    ("grafana", "loki", 3100, "TCP", "log queries (spec: Loki <- Grafana)"),
    ("grafana", "tempo", 3200, "TCP", "trace queries (spec: Tempo <- Grafana)"),
    ("grafana", "alertmanager", 9093, "TCP", "alert and silence views"),
    # -- cluster DNS: every pod, kube-dns in kube-system only, UDP and TCP 53 ------------------------------
    *[(w, KUBE_DNS, 53, proto, "name resolution") for w in WORKLOADS for proto in ("UDP", "TCP")],
    # -- Kubernetes API: only the two workloads that call it -----------------------------------------------
    *[
        ("vault", api, port, "TCP", "service registration labels Vault's own pod")
        for api in (KUBE_API, KUBE_API_V6)
        for port in (443, 6443)
    ],
    *[
        ("alloy", api, port, "TCP", "discover the stack's pods on the node (their log files)")
        for api in (KUBE_API, KUBE_API_V6)
        for port in (443, 6443)
    ],
    # -- outside the cluster: NTP only (no receiver, no auto-unseal, no Ingress by default) ----------------
    ("chrony", NTP_V4, 123, "UDP", "NTP to time.google.com (spec: Chrony <-> NTP servers)"),
    ("chrony", NTP_V6, 123, "UDP", "NTP to time.google.com over IPv6 (spec: Chrony <-> NTP servers)"),
    # -- from other namespaces: only the ingress controller's spans into Alloy's OTLP receiver -------------
    (INGRESS_CONTROLLER, "alloy", 4317, "TCP", "edge spans of calls to Vault (OTLP gRPC); Vault emits none"),
    (INGRESS_CONTROLLER, "alloy", 4318, "TCP", "edge spans of calls to Vault (OTLP HTTP)"),
]

# -- variants: settings, and exactly the connections each adds to the default -------------------------------
RECEIVER_CIDR = "192.0.2.0/24"
TRANSIT_CIDR = "203.0.113.10/32"
KMS_CIDR = "198.51.100.0/24"
REMOTE_WRITE_CIDR = "203.0.113.0/24"
TOKEN_CIDR = "198.51.100.128/25"
DATABASE_CIDR = "10.20.0.0/24"
STORE_CIDR = "10.30.0.0/24"


def _object_storage(bucket: str) -> dict[str, Any]:
    return {
        "type": "s3",
        "bucket": bucket,
        "endpoint": "minio.example.com:9000",
        "region": "us-east-1",
        "force_path_style": True,
        "access_key_id": {"name": "object-store", "key": "access-key-id"},
        "secret_access_key": {"name": "object-store", "key": "secret-access-key"},
        "egress_cidrs": [STORE_CIDR],
    }


VARIANTS: dict[str, dict[str, Any]] = {
    "ha": {"vault": {"replicas": 3}},
    "vault-ingress": {"vault": {"ingress": {"host": "vault.example.com"}}},
    "grafana-ingress": {"grafana": {"ingress": {"host": "grafana.example.com"}}},
    "transit-seal": {
        "vault": {
            "seal": {
                "type": "transit",
                "address": "https://transit.example.com:8200",
                "key_name": "vault-aio-unseal",
                "token": {"name": "vault-transit-token", "key": "token"},
                "egress_cidrs": [TRANSIT_CIDR],
            }
        }
    },
    "awskms-seal": {
        "vault": {
            "seal": {
                "type": "awskms",
                "region": "eu-west-1",
                "kms_key_id": "alias/vault-aio",
                "role_arn": "arn:aws:iam::123456789012:role/vault-aio-unseal",
                "egress_cidrs": [KMS_CIDR],
            }
        }
    },
    "receiver": {
        "alertmanager": {
            "notifications": {
                "webhook_receivers": [
                    {"name": "ops", "url": "https://alerts.example.com/hook", "cidrs": [RECEIVER_CIDR]}
                ],
                "routes": [{"severities": ["critical"], "receiver": "ops"}],
            }
        }
    },
    "backup": {"vault": {"backup": {}}},
    # applications and a secrets operator in other namespaces call Vault's API (review finding 8)
    "vault-clients": {
        "vault": {
            "clients": [
                {
                    "name": "shop",
                    "namespace_labels": {"kubernetes.io/metadata.name": "shop"},
                    "pod_labels": {"app.kubernetes.io/part-of": "shop"},
                },
                {"name": "eso", "namespace_labels": {"kubernetes.io/metadata.name": "external-secrets"}},
            ]
        }
    },
    # composition: a store switched off, or replaced by one running elsewhere in the cluster
    "no-loki": {"loki": {"enabled": False}},
    "external-loki": {
        "loki": {
            "enabled": False,
            "external": {
                "url": "http://loki-gateway.logging.svc",
                "namespace_labels": {"kubernetes.io/metadata.name": "logging"},
                "pod_labels": {"app.kubernetes.io/component": "gateway"},
                "ports": [8080],
            },
        }
    },
    "object-storage-replicas": {
        "loki": {"replicas": 3, "storage": _object_storage("loki-chunks")},
        "tempo": {"replicas": 3, "storage": _object_storage("tempo-traces")},
    },
    "alertmanager-cluster": {"alertmanager": {"replicas": 3}},
    "prometheus-pair": {"prometheus": {"replicas": 2}},
    "remote-write": {
        "prometheus": {
            "remote_write": [
                {
                    "name": "mimir",
                    "url": "https://mimir.example.com/api/v1/push",
                    "cidrs": [REMOTE_WRITE_CIDR],
                    "auth": {"type": "bearer", "token": {"name": "rw", "key": "token"}},
                },
                {
                    "name": "cloud",
                    "url": "https://metrics.example.net/push",
                    "cidrs": [KMS_CIDR],
                    "auth": {
                        "type": "oauth2",
                        "client_id": "vault-aio",
                        "client_secret": {"name": "rw", "key": "client-secret"},
                        "token_url": "https://auth.example.net:8443/token",
                        "token_cidrs": [TOKEN_CIDR],
                    },
                },
            ]
        }
    },
    "grafana-postgres-pair": {
        "grafana": {
            "replicas": 2,
            "database": {
                "type": "postgres",
                "host": "grafana-db.example.internal",
                "user": {"name": "grafana-db", "key": "user"},
                "password": {"name": "grafana-db", "key": "password"},
                "cidrs": [DATABASE_CIDR],
            },
        }
    },
    # the HA scenario (examples/settings/ha.yaml): every replicated component at once
    "scenario-ha": scenario_settings("ha"),
    # examples/settings/full.yaml (today's stack, spelled out) and external-loki.yaml (logs elsewhere)
    "scenario-full": scenario_settings("full"),
    "scenario-external-loki": scenario_settings("external-loki"),
    # examples/settings/operator.yaml: kube-prometheus-stack's Prometheus scrapes Vault (PodMonitor)
    "scenario-operator": scenario_settings("operator"),
    # examples/settings/cert-manager.yaml: cert-manager issues Vault's TLS; three raft voters
    "scenario-cert-manager": scenario_settings("cert-manager"),
}

#: The evaluator's notation for the external Loki of the variant above, and for the grafana/loki chart's
#: gateway pods of examples/settings/external-loki.yaml.
LOKI_GATEWAY = "kubernetes.io/metadata.name=logging/app.kubernetes.io/component=gateway"
CHART_LOKI_GATEWAY = (
    "kubernetes.io/metadata.name=logging/"
    "app.kubernetes.io/component=gateway,app.kubernetes.io/instance=loki,app.kubernetes.io/name=loki"
)
#: Every connection that exists only because the stack runs its own Loki: its clients, its scrape, its
#: ruler's alerts, its DNS, and Alloy's pod discovery (which exists only to find log files).
OWN_LOKI: set[Row] = {
    ("alloy", "loki", 3100, "TCP"),
    ("grafana", "loki", 3100, "TCP"),
    ("prometheus", "loki", 3100, "TCP"),
    ("loki", "alertmanager", 9093, "TCP"),
    ("loki", KUBE_DNS, 53, "UDP"),
    ("loki", KUBE_DNS, 53, "TCP"),
}
ALLOY_DISCOVERY: set[Row] = {
    ("alloy", api, port, "TCP") for api in (KUBE_API, KUBE_API_V6) for port in (443, 6443)
}

#: The clients of the ``vault-clients`` variant, as the evaluator names them.
SHOP_CLIENTS = "kubernetes.io/metadata.name=shop/app.kubernetes.io/part-of=shop"
ESO_CLIENTS = "kubernetes.io/metadata.name=external-secrets/*"
#: ``examples/settings/operator.yaml``: kube-prometheus-stack's Prometheus pods in namespace monitoring.
CLUSTER_PROMETHEUS = "kubernetes.io/metadata.name=monitoring/app.kubernetes.io/name=prometheus"
CLUSTER_ALERTMANAGER = "kubernetes.io/metadata.name=monitoring/app.kubernetes.io/name=alertmanager"

ADDED: dict[str, set[Row]] = {
    # raft replication and request forwarding between Vault pods only, on the API and cluster ports
    "ha": {("vault", "vault", 8200, "TCP"), ("vault", "vault", 8201, "TCP")},
    # the ingress controller reaches Vault's API only (not its metrics listener, nothing else)
    "vault-ingress": {(INGRESS_CONTROLLER, "vault", 8200, "TCP")},
    "grafana-ingress": {(INGRESS_CONTROLLER, "grafana", 3000, "TCP")},
    # one egress to the auto-unseal backend, for Vault only
    "transit-seal": {("vault", TRANSIT_CIDR, 8200, "TCP")},
    "awskms-seal": {("vault", KMS_CIDR, 443, "TCP")},
    # one egress to the receiver, for Alertmanager only
    "receiver": {("alertmanager", RECEIVER_CIDR, 443, "TCP")},
    # the backup job's pods reach Vault's API through its Service (and, like every pod, the cluster DNS)
    # replicas gossip their rings (memberlist 7946) and call each other's gRPC 9095 (distributor to
    # ingesters, queriers to ingesters and frontends, ruler sharding), each among its own pods only; and each
    # writes to the object store, on the endpoint's port, and nowhere else outside
    "object-storage-replicas": {
        ("loki", "loki", 7946, "TCP"),
        ("loki", "loki", 9095, "TCP"),
        ("tempo", "tempo", 7946, "TCP"),
        ("tempo", "tempo", 9095, "TCP"),
        ("loki", STORE_CIDR, 9000, "TCP"),
        ("tempo", STORE_CIDR, 9000, "TCP"),
    },
    "backup": {
        ("vault-backup", "vault", 8200, "TCP"),
        ("vault-backup", KUBE_DNS, 53, "UDP"),
        ("vault-backup", KUBE_DNS, 53, "TCP"),
    },
    # each client reaches Vault's API port and nothing else: not the metrics listener (8202, Prometheus
    # only), not the cluster port (8201, raft peers only), no other component; the shop's other pods
    # (without the label) reach nothing; nothing new leaves the stack (the clients' own egress is theirs)
    "vault-clients": {(SHOP_CLIENTS, "vault", 8200, "TCP"), (ESO_CLIENTS, "vault", 8200, "TCP")},
    "no-loki": set(),
    # the two clients of logs reach the gateway's pod port, nothing else does
    "external-loki": {("alloy", LOKI_GATEWAY, 8080, "TCP"), ("grafana", LOKI_GATEWAY, 8080, "TCP")},
    # gossip between Alertmanager pods only, over both memberlist protocols; the alert senders reach
    # the pods on 9093 already (same pods, same port as through the Service)
    "alertmanager-cluster": {
        ("alertmanager", "alertmanager", 9094, "TCP"),
        ("alertmanager", "alertmanager", 9094, "UDP"),
    },
    # an HA pair needs no new connection: writers, Grafana and scraping already reach Prometheus pods on 9090
    "prometheus-pair": set(),
    # one egress per destination, to its CIDRs on its URL's port; the OAuth2 token endpoint lives elsewhere
    "remote-write": {
        ("prometheus", REMOTE_WRITE_CIDR, 443, "TCP"),
        ("prometheus", KMS_CIDR, 443, "TCP"),
        ("prometheus", TOKEN_CIDR, 8443, "TCP"),
    },
    # Grafana's alerting HA gossip between Grafana pods only, and the database (its CIDRs and port)
    "grafana-postgres-pair": {
        ("grafana", "grafana", 9094, "TCP"),
        ("grafana", "grafana", 9094, "UDP"),
        ("grafana", DATABASE_CIDR, 5432, "TCP"),
    },
    # the union: raft peers, both gossip meshes, remote write to Mimir, the Grafana database
    "scenario-ha": {
        ("vault", "vault", 8200, "TCP"),
        ("vault", "vault", 8201, "TCP"),
        ("alertmanager", "alertmanager", 9094, "TCP"),
        ("alertmanager", "alertmanager", 9094, "UDP"),
        ("grafana", "grafana", 9094, "TCP"),
        ("grafana", "grafana", 9094, "UDP"),
        ("prometheus", REMOTE_WRITE_CIDR, 443, "TCP"),
        ("grafana", DATABASE_CIDR, 5432, "TCP"),
        # Loki and Tempo at 3 on the S3-compatible store (the same network as the variant above)
        ("loki", "loki", 7946, "TCP"),
        ("loki", "loki", 9095, "TCP"),
        ("tempo", "tempo", 7946, "TCP"),
        ("tempo", "tempo", 9095, "TCP"),
        ("loki", STORE_CIDR, 9000, "TCP"),
        ("tempo", STORE_CIDR, 9000, "TCP"),
    },
    # kube-prometheus-stack instead of the own monitoring: its Prometheus scrapes Vault's metrics listener
    # (and nothing else), Alloy and Tempo's metrics-generator remote-write to it, Loki's ruler alerts its
    # Alertmanager
    "scenario-operator": {
        (CLUSTER_PROMETHEUS, "vault", 8202, "TCP"),
        ("alloy", CLUSTER_PROMETHEUS, 9090, "TCP"),
        ("tempo", CLUSTER_PROMETHEUS, 9090, "TCP"),
        ("loki", CLUSTER_ALERTMANAGER, 9093, "TCP"),
    },
    # raft peers only: cert-manager talks to the API server, never to the stack's pods
    "scenario-cert-manager": {("vault", "vault", 8200, "TCP"), ("vault", "vault", 8201, "TCP")},
    # today's stack: nothing more
    "scenario-full": set(),
    # the two readers and writers of logs reach the gateway's pod port (the Service maps 80 to it), only them
    "scenario-external-loki": {
        ("alloy", CHART_LOKI_GATEWAY, 8080, "TCP"),
        ("grafana", CHART_LOKI_GATEWAY, 8080, "TCP"),
    },
}

#: What each variant takes away from the default (nothing unless listed).
REMOVED: dict[str, set[Row]] = {
    # no Prometheus, Alertmanager or Grafana of its own: every connection of theirs, to and from them
    "scenario-operator": {
        *((c, KUBE_DNS, 53, p) for c in ("prometheus", "alertmanager", "grafana") for p in ("TCP", "UDP")),
        ("prometheus", "vault", 8202, "TCP"),
        ("prometheus", "prometheus", 9090, "TCP"),
        ("prometheus", "alertmanager", 9093, "TCP"),
        ("prometheus", "grafana", 3000, "TCP"),
        ("prometheus", "loki", 3100, "TCP"),
        ("prometheus", "tempo", 3200, "TCP"),
        ("alloy", "prometheus", 9090, "TCP"),
        ("tempo", "prometheus", 9090, "TCP"),
        ("loki", "alertmanager", 9093, "TCP"),
        ("grafana", "prometheus", 9090, "TCP"),
        ("grafana", "loki", 3100, "TCP"),
        ("grafana", "tempo", 3200, "TCP"),
        ("grafana", "alertmanager", 9093, "TCP"),
    },
    # no Loki of its own: its clients, its scrape, its ruler's alerts, its DNS, and Alloy's pod discovery
    # (which exists only to find log files to ship)
    "no-loki": OWN_LOKI | ALLOY_DISCOVERY,
    # no Loki of its own either, but Alloy still discovers pods: it ships their logs to the other Loki
    "external-loki": OWN_LOKI,
    "scenario-external-loki": OWN_LOKI,
}

#: The specification's allow list ("Network Policies" section), each with the variant where it applies.
#: "Alloy -> VM host (node logs via hostPath)" is a volume, not a connection (tests/test_hardening.py).
#: "Chrony <-> NTP servers": answers come back on the allowed egress connection (policies are stateful).
SPEC_ALLOW_LIST: list[tuple[str, str, Row]] = [
    ("Vault <- Prometheus (metrics scraping)", "default", ("prometheus", "vault", 8202, "TCP")),
    ("Vault <- Ingress (API access)", "vault-ingress", (INGRESS_CONTROLLER, "vault", 8200, "TCP")),
    ("Prometheus <- Grafana (queries)", "default", ("grafana", "prometheus", 9090, "TCP")),
    ("Loki <- Grafana (log queries)", "default", ("grafana", "loki", 3100, "TCP")),
    ("Tempo <- Grafana (trace queries)", "default", ("grafana", "tempo", 3200, "TCP")),
    ("Alloy -> Loki (log shipping)", "default", ("alloy", "loki", 3100, "TCP")),
    ("Alloy -> Tempo (trace shipping)", "default", ("alloy", "tempo", 4317, "TCP")),
    ("Prometheus -> Alertmanager (alerts)", "default", ("prometheus", "alertmanager", 9093, "TCP")),
    ("Chrony <-> external NTP servers", "default", ("chrony", NTP_V4, 123, "UDP")),
    ("Alertmanager -> external (notifications)", "receiver", ("alertmanager", RECEIVER_CIDR, 443, "TCP")),
]


def rows(matrix: Matrix) -> set[Row]:
    """Every allowed connection as ``(source, destination, port, protocol)``."""
    return {
        (c.source, c.destination, c.port, c.protocol)
        for c in matrix.internal
        | matrix.egress_external
        | matrix.egress_other_namespaces
        | matrix.ingress_other_namespaces
    }


def _fmt(row: Iterable[object]) -> str:
    source, destination, port, protocol, *reason = row
    text = f"  {source} -> {destination} {port}/{protocol}"
    return f"{text:<78} {reason[0]}" if reason else text


def diff(expected: Iterable[tuple[str, str, int, str, str]], allowed: set[Row]) -> str:
    """A readable difference between the table and what the policies allow ("" when equal)."""
    table = {row[:4]: row for row in expected}
    extra = sorted(allowed - set(table))
    missing = sorted(set(table) - allowed)
    out = []
    if extra:
        out.append(
            "allowed by the policies but not in the table (add a row with a reason, or remove the edge):"
        )
        out += [_fmt(r) for r in extra]
    if missing:
        out.append("in the table but not allowed by the policies:")
        out += [_fmt(table[r]) for r in missing]
    return "\n".join(out)


@pytest.fixture(scope="module")
def variant() -> Callable[[str], Stack]:
    """Synthesize each variant at most once in this module (scenarios once per session)."""
    cache: dict[str, Stack] = {}

    def get(name: str) -> Stack:
        if name.startswith("scenario-"):
            return scenario_stack(name.removeprefix("scenario-"))
        if name not in cache:
            cache[name] = synth_stack(VARIANTS[name])
        return cache[name]

    return get


@pytest.fixture(scope="module")
def default_rows(stack: Stack) -> set[Row]:
    return rows(connectivity(stack.objects))


def _rows_of(name: str, stack: Stack, variant: Callable[[str], Stack]) -> set[Row]:
    return rows(connectivity((stack if name == "default" else variant(name)).objects))


# -- the default stack -------------------------------------------------------------------------------------


def test_expected_table_is_well_formed() -> None:
    keys = [row[:4] for row in EXPECTED]
    assert len(keys) == len(set(keys)), "a row appears twice in EXPECTED"
    assert all(row[4].strip() for row in EXPECTED), "every row needs a reason"


def test_default_matrix_is_exactly_the_table(default_rows: set[Row]) -> None:
    problems = diff(EXPECTED, default_rows)
    if problems:
        pytest.fail("the default stack's policies differ from EXPECTED:\n" + problems, pytrace=False)


def test_table_names_every_workload_of_the_stack(stack: Stack) -> None:
    """A new workload must show up in WORKLOADS (and so in the DNS rows and the review of its edges)."""
    assert {p.workload for p in pods_of(stack.objects)} == set(WORKLOADS)


def test_workloads_live_in_their_namespaces(stack: Stack) -> None:
    assert {p.workload: p.namespace for p in pods_of(stack.objects)} == NAMESPACES
    assert connectivity(stack.objects).namespaces == NAMESPACES


def test_rows_across_the_two_namespaces(default_rows: set[Row]) -> None:
    """The connections between the namespaces are exactly Alloy's (Chrony talks to nobody in the stack)."""
    inside = {r for r in default_rows if r[0] in NAMESPACES and r[1] in NAMESPACES}
    across = {r for r in inside if NAMESPACES[r[0]] != NAMESPACES[r[1]]}
    assert across == {
        ("alloy", "loki", 3100, "TCP"),
        ("alloy", "tempo", 4317, "TCP"),
        ("alloy", "prometheus", 9090, "TCP"),
        ("alloy", "vault", 8200, "TCP"),
    }


def test_a_peer_without_namespace_selector_does_not_reach_across(stack: Stack) -> None:
    """Kubernetes semantics the evaluator applies: without a namespaceSelector a peer selects pods of the
    policy's own namespace only, so dropping it from Loki's ingress policy cuts Alloy off."""
    objects = json.loads(json.dumps(stack.objects))
    (policy,) = [o for o in objects if o["metadata"]["name"] == "allow-loki-from-alloy"]
    for peer in policy["spec"]["ingress"][0]["from"]:
        del peer["namespaceSelector"]
    assert ("alloy", "loki", 3100, "TCP") not in rows(connectivity(objects))


def test_default_admits_from_other_namespaces_only_otlp_into_alloy(stack: Stack) -> None:
    matrix = connectivity(stack.objects)
    assert {(c.destination, c.port) for c in matrix.ingress_other_namespaces} == {
        ("alloy", 4317),
        ("alloy", 4318),
    }
    assert {c.destination for c in matrix.egress_other_namespaces} == {KUBE_DNS}


def test_diff_reports_both_directions() -> None:
    """The comparison itself can fail: an extra and a missing row are both reported, with the reason."""
    table = [("a", "b", 1, "TCP", "why a talks to b")]
    text = diff(table, {("a", "c", 2, "UDP")})
    assert "allowed by the policies but not in the table" in text and "a -> c 2/UDP" in text
    assert "in the table but not allowed" in text and "why a talks to b" in text
    assert diff(table, {("a", "b", 1, "TCP")}) == ""


def test_own_namespace_selector_is_not_another_namespace(stack: Stack) -> None:
    """The evaluator reports only peers that can lie outside the stack's namespace as outside peers."""
    ns = stack.chart.stack_namespace
    peer = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "loki"}},
    }
    extra = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "extra", "namespace": ns},
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "chrony"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [peer], "ports": [{"port": 3100}]}],
        },
    }
    matrix = connectivity([*stack.objects, extra])
    assert {c.destination for c in matrix.egress_other_namespaces} == {KUBE_DNS}
    # egress alone: Loki's ingress does not admit chrony, so nothing new inside either
    assert rows(matrix) == rows(connectivity(stack.objects))


@pytest.mark.parametrize(("item", "where", "row"), SPEC_ALLOW_LIST, ids=[s[0] for s in SPEC_ALLOW_LIST])
def test_specification_allow_list_is_covered(
    item: str, where: str, row: Row, stack: Stack, variant: Callable[[str], Stack]
) -> None:
    assert row in _rows_of(where, stack, variant), f"{item}: {_fmt(row)} is not allowed ({where} stack)"
    if where == "default":
        assert row in {r[:4] for r in EXPECTED}, f"{item} is missing from EXPECTED"


# -- variants ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_adds_exactly_its_connections(
    name: str, default_rows: set[Row], variant: Callable[[str], Stack]
) -> None:
    allowed = rows(connectivity(variant(name).objects))
    added, removed = allowed - default_rows, default_rows - allowed
    expected_removed = REMOVED.get(name, set())
    message = [f"variant {name} ({VARIANTS[name]}):"]
    if added != ADDED[name]:
        message.append("added: " + ", ".join(_fmt(r).strip() for r in sorted(added)))
        message.append("expected added: " + ", ".join(_fmt(r).strip() for r in sorted(ADDED[name])))
    if removed != expected_removed:
        message.append("removed: " + ", ".join(_fmt(r).strip() for r in sorted(removed)))
        message.append("expected removed: " + ", ".join(_fmt(r).strip() for r in sorted(expected_removed)))
    assert added == ADDED[name] and removed == expected_removed, "\n".join(message)


def test_ha_peer_edges_connect_vault_pods_only(variant: Callable[[str], Stack]) -> None:
    """Vault's peer policies select Vault's pods on both sides (no other pod gains 8201)."""
    matrix = connectivity(variant("ha").objects)
    to_8201 = {c for c in matrix.internal if c.port == 8201}
    assert to_8201 == {c for c in to_8201 if c.source == "vault" and c.destination == "vault"} != set()


def test_ring_ports_connect_each_component_to_itself_only(variant: Callable[[str], Stack]) -> None:
    """Memberlist and gRPC between replicas: Loki to Loki and Tempo to Tempo, never across or from others."""
    matrix = connectivity(variant("object-storage-replicas").objects)
    ring = {(c.source, c.destination, c.port) for c in matrix.internal if c.port in (7946, 9095)}
    assert ring == {(w, w, port) for w in ("loki", "tempo") for port in (7946, 9095)}


@pytest.mark.parametrize("name", ["alertmanager-cluster", "grafana-postgres-pair"])
def test_gossip_connects_peers_of_one_workload_only(name: str, variant: Callable[[str], Stack]) -> None:
    """Port 9094 opens between pods of the same workload, never across workloads."""
    matrix = connectivity(variant(name).objects)
    mesh = {c for c in matrix.internal if c.port == 9094}
    assert mesh and all(c.source == c.destination for c in mesh)
    assert {c.protocol for c in mesh} == {"TCP", "UDP"}


def test_ingress_controller_selector_comes_from_settings() -> None:
    stack = synth_stack(
        {
            "vault": {"ingress": {"host": "vault.example.com"}},
            "network": {
                "ingress_controller": {
                    "namespace_labels": {"kubernetes.io/metadata.name": "traefik"},
                    "pod_labels": {"app.kubernetes.io/name": "traefik"},
                }
            },
        }
    )
    matrix = connectivity(stack.objects)
    traefik = "kubernetes.io/metadata.name=traefik/app.kubernetes.io/name=traefik"
    assert {(c.source, c.destination, c.port) for c in matrix.ingress_other_namespaces} == {
        (traefik, "vault", 8200),
        (traefik, "alloy", 4317),
        (traefik, "alloy", 4318),
    }


def test_otlp_clients_from_settings_and_none_without_the_ingress_controller() -> None:
    stack = synth_stack(
        {
            "alloy": {
                "otlp_from_ingress_controller": False,
                "otlp_clients": [{"name": "payments", "namespace_labels": {"team": "payments"}}],
            }
        }
    )
    matrix = connectivity(stack.objects)
    assert {(c.source, c.destination, c.port) for c in matrix.ingress_other_namespaces} == {
        ("team=payments/*", "alloy", 4317),
        ("team=payments/*", "alloy", 4318),
    }
    assert stack.has("NetworkPolicy", "allow-alloy-from-payments")


# -- the picture -------------------------------------------------------------------------------------------


def _diagram_module() -> Any:
    spec = importlib.util.spec_from_file_location("vaultaio_diagram", REPO / "tools" / "diagram.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_diagram_matches_the_policies() -> None:
    committed = (REPO / "docs" / "network.dot").read_text(encoding="utf-8")
    current: str = _diagram_module().network_dot()
    assert committed == current, "docs/network.dot is stale: run `make diagram` and commit both files"


def test_diagram_shows_every_connection_of_the_default_stack(stack: Stack) -> None:
    """Each internal edge is drawn with its ports; DNS is one edge from each namespace's box."""
    dot = (REPO / "docs" / "network.dot").read_text(encoding="utf-8")
    matrix = connectivity(stack.objects)
    pairs: dict[tuple[str, str], list[str]] = {}
    for c in sorted(matrix.internal):
        pairs.setdefault((c.source, c.destination), []).append(f"{c.port}/{c.protocol}")
    for (source, destination), ports in pairs.items():
        assert f'"{source}" -> "{destination}" [label="{", ".join(ports)}"];' in dot
    # one DNS edge per namespace box (every pod of it), not one per workload
    assert dot.count(f'-> "{KUBE_DNS}"') == 2
    for namespace in (MAIN_NAMESPACE, NODE_NAMESPACE):
        assert f'subgraph "cluster_{namespace}"' in dot
    assert (REPO / "docs" / "network.svg").is_file()
