"""Bad input never reaches dist/: every bad setting fails before anything is written, naming the setting.

The table runs each bad settings file through the real entry point (``load_settings`` then ``synth``) into
an output folder that already holds a file, and checks that the error names the setting's path and what is
accepted, and that the folder is exactly as it was (no file written, replaced or left behind). Settings a
field validator can judge fail while the file is parsed (:class:`SettingsError`, the key path first);
rules that need the resolved profile or the whole component fail while the chart is built (a plain
``ValueError`` naming the component). Python extensions (duplicate dashboards, scrape targets, policies)
fail in ``VaultAioChart.extend`` the same way, and a few cases run ``app.py`` as the user does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cdk8s
import pytest
import yaml

from tests.stack import Stack  # first: silences the jsii Node.js warning before cdk8s is imported
from vaultaio_constructs.chart import VaultAioChart
from vaultaio_constructs.grafana.dashboards import GrafanaDashboard
from vaultaio_constructs.output import Manifest, render, synth, write
from vaultaio_constructs.placement import Area
from vaultaio_constructs.scrape import ScrapeTarget
from vaultaio_constructs.settings import SettingsError, VaultAioProps, load_settings, parse_settings
from vaultaio_constructs.vault.policies import Capability, PathRule, Policy

REPO = Path(__file__).resolve().parent.parent
MARKER = "marker.yaml"
MARKER_TEXT = "# written before the failed synth; must survive it\nkept: true\n"

RESOURCES = {"cpu_request_millicores": 100, "memory_request_mib": 256, "memory_limit_mib": 512}
TRANSIT = {
    "type": "transit",
    "address": "https://vault-unseal.example.com:8200",
    "key_name": "vault-aio-unseal",
    "token": {"name": "vault-transit-seal", "key": "token"},
    "egress_cidrs": ["203.0.113.10/32"],
}
GCPCKMS = {
    "type": "gcpckms",
    "project": "acme",
    "key_ring": "vault",
    "crypto_key": "unseal",
    "gcp_service_account": "vault@acme.iam.gserviceaccount.com",
    "egress_cidrs": ["199.36.153.8/30"],
}
WEBHOOK = {"name": "ops", "url": "https://hooks.example.com/alerts", "cidrs": ["198.51.100.0/24"]}
POSTGRES = {
    "type": "postgres",
    "host": "grafana-db.example.internal",
    "user": {"name": "grafana-db", "key": "user"},
    "password": {"name": "grafana-db", "key": "password"},
    "cidrs": ["10.20.0.0/24"],
}
REMOTE_WRITE = {
    "name": "mimir",
    "url": "https://mimir.example.com/api/v1/push",
    "cidrs": ["203.0.113.0/24"],
    "auth": {"type": "bearer", "token": {"name": "prometheus-remote-write", "key": "token"}},
}
NTP = {"name": "corp", "address": "ntp.example.com", "cidrs": ["192.0.2.0/24"]}
#: A valid S3-compatible store; cases below break one field at a time.
S3 = {
    "type": "s3",
    "bucket": "loki-chunks",
    "endpoint": "minio.storage.svc:9000",
    "region": "us-east-1",
    "force_path_style": True,
    "access_key_id": {"name": "object-store", "key": "access-key-id"},
    "secret_access_key": {"name": "object-store", "key": "secret-access-key"},
    "egress_cidrs": ["10.20.0.0/16"],
}
#: Looks like an AWS access key ID (AWS's documented example value): must never be echoed.
LITERAL_KEY = "AKIAIOSFODNN7EXAMPLE"


@dataclass(frozen=True)
class Bad:
    """One bad settings file and the error it must produce."""

    #: The settings as ``yaml.safe_load`` would return them, or the file's text.
    settings: Any
    #: Regex the error message must match (``re.search``): the setting's path and what is accepted.
    match: str
    #: ``False``: refused while the file is parsed (``SettingsError``); ``True``: while the chart is built.
    at_synth: bool = False


def case(id: str, settings: Any, match: str, *, at_synth: bool = False) -> Any:
    return pytest.param(Bad(settings, match, at_synth), id=id)


CASES = [
    # -- unknown keys and wrong types -----------------------------------------------------------
    case(
        "unknown-top-level-key", {"namepsace": "x"}, r"namepsace: unknown setting; accepted keys: namespace,"
    ),
    case(
        "unknown-nested-key",
        {"vault": {"replica": 3}},
        r"vault\.replica: unknown setting; accepted keys: .*\breplicas\b",
    ),
    case(
        "unknown-key-in-seal",
        {"vault": {"seal": {**TRANSIT, "mount": "transit"}}},
        r"vault\.seal\.transit\.mount: unknown setting; accepted keys: type, address, key_name",
    ),
    case(
        "wrong-type-int",
        {"vault": {"replicas": "three"}},
        r"vault\.replicas: Input should be a valid integer.*\(got 'three'\)",
    ),
    case(
        "wrong-type-bool",
        {"vault": {"ui": "maybe"}},
        r"vault\.ui: Input should be true or false \(got 'maybe'\)",
    ),
    case(
        "wrong-type-section",
        {"prometheus": ["retention_days", 3]},
        r"prometheus: should be a mapping of settings \(key: value\)",
    ),
    case(
        "wrong-type-list",
        {"network": {"kube_api": {"cidrs": "10.0.0.0/8"}}},
        r"network\.kube_api\.cidrs: should be a list",
    ),
    # -- strict types: nothing is coerced (issue 14, item 13) ------------------------------------
    case(
        "bool-as-string-no",
        {"vault": {"tls": {"enabled": "no"}}},
        r"vault\.tls\.enabled: Input should be true or false without quotes .*\(got 'no'\)",
    ),
    case(
        "int-as-string",
        {"vault": {"replicas": "3"}},
        r"vault\.replicas: Input should be a valid integer: write it without quotes .*\(got '3'\)",
    ),
    case(
        "float-as-string",
        {"prometheus": {"alerts": {"thresholds": {"clock_offset_seconds": "0.1"}}}},
        r"prometheus\.alerts\.thresholds\.clock_offset_seconds: Input should be a valid number: write it "
        r"without quotes",
    ),
    case(
        "int-as-float",
        {"vault": {"replicas": 3.0}},
        r"vault\.replicas: Input should be a valid integer \(got 3\.0\)",
    ),
    case(
        "bool-as-int",
        {"alloy": {"collect_journal": 1}},
        r"alloy\.collect_journal: Input should be true or false \(got 1\)",
    ),
    case(
        "string-as-number",
        {"chrony": {"image_tag": 4.8}},
        r"chrony\.image_tag: Input should be a valid string: quote it \(got 4\.8\)",
    ),
    case(
        "yaml-date",
        "vault:\n  image_tag: 2026-01-01\n",
        r"vault\.image_tag: datetime\.date\(2026, 1, 1\) is a YAML date: quote it to make it a string",
    ),
    case(
        "yaml-non-string-key",
        "network:\n  dns:\n    pod_labels: {1: kube-dns}\n",
        r"network\.dns\.pod_labels: key 1 is a YAML int, not a string: quote it",
    ),
    case(
        "duplicate-key",
        "vault:\n  replicas: 3\n  ui: true\n  replicas: 1\n",
        r"duplicate key 'replicas' on line 4 \(first on line 2\): remove one of them",
    ),
    case(
        "duplicate-key-nested-flow",
        "network:\n  kube_api: {cidrs: [10.0.0.1/32], cidrs: [0.0.0.0/0]}\n",
        r"duplicate key 'cidrs' on line 2 \(first on line 2\)",
    ),
    # -- values that reached a config and broke it (issue 14, items 3 and 13) ------------------
    case(
        "ntp-server-trailing-newline",
        {"chrony": {"servers": [{**NTP, "address": "ntp.corp.example\n"}]}},
        r"chrony\.servers\.0\.address: 'host' must be a hostname or an ip address, "
        r"got 'ntp\.corp\.example\\n'",
    ),
    case(
        "image-tag-trailing-newline",
        {"vault": {"image_tag": "2.0.4\n"}},
        r"vault\.image_tag: '2\.0\.4\\n' is not an exact version tag",
    ),
    case(
        "pki-role-trailing-newline",
        {"vault": {"pki_role": "vault-aio\n"}},
        r"vault\.pki_role: 'vault-aio\\n' is not a valid name",
    ),
    case(
        "webhook-url-control-character",
        {
            "alertmanager": {
                "notifications": {"webhook_receivers": [{**WEBHOOK, "url": "https://h.example.com/a\nb"}]}
            }
        },
        r"alertmanager\.notifications\.webhook_receivers\.0: 'url' of webhook receiver 'ops' must be an "
        r"http:// or https:// URL without spaces, newlines or control characters",
    ),
    case(
        "runbook-base-url-template",
        {"prometheus": {"alerts": {"runbook_base_url": "https://wiki.example.com/{{ .Runbook }}"}}},
        r"prometheus\.alerts: 'runbook_base_url' must be an http\(s\) URL without '#', '\{\{' or '\}\}'",
    ),
    case(
        "ignored-fstypes-newline",
        {"prometheus": {"alerts": {"thresholds": {"ignored_fstypes_regex": "tmpfs\n|overlay"}}}},
        r"prometheus\.alerts\.thresholds: 'ignored_fstypes_regex' must be a non-empty regex without "
        r".*newlines",
    ),
    case(
        "ignored-fstypes-match-everything",
        {"prometheus": {"alerts": {"thresholds": {"ignored_fstypes_regex": ".*"}}}},
        r"prometheus\.alerts\.thresholds: 'ignored_fstypes_regex' \('\.\*'\) matches the real disk "
        r"filesystem type\(s\) \['ext4', 'xfs', 'btrfs'\]: the node disk alerts would never fire",
    ),
    case(
        "volume-mountpoint-regex-matches-root",
        {"prometheus": {"alerts": {"thresholds": {"kubelet_volume_mountpoint_regex": "/.*"}}}},
        r"prometheus\.alerts\.thresholds: 'kubelet_volume_mountpoint_regex' \('/\.\*'\) matches the node "
        r"mount point\(s\) \['/', ",
    ),
    case(
        "label-key-empty",
        {"network": {"dns": {"pod_labels": {"": "kube-dns"}}}},
        r"network\.dns\.pod_labels: label key '' is invalid: use 'name' or 'prefix/name'",
    ),
    case(
        "label-key-with-space",
        {"network": {"ingress_controller": {"namespace_labels": {"a b": "ingress"}}}},
        r"network\.ingress_controller\.namespace_labels: label key 'a b' is invalid",
    ),
    case(
        "label-value-invalid",
        {"alloy": {"otlp_clients": [{"name": "apps", "namespace_labels": {"team": "apps/web"}}]}},
        r"alloy\.otlp_clients\.0\.namespace_labels: label 'team' has an invalid value 'apps/web'",
    ),
    case(
        "supplemental-group-out-of-range",
        {"alloy": {"supplementary_group_ids": [4, 999999999999]}},
        r"alloy\.supplementary_group_ids\.1: Input should be less than or equal to 2147483647 "
        r"\(got 999999999999\)",
    ),
    case(
        "memory-limit-1mi",
        {"vault": {"resources": {**RESOURCES, "memory_request_mib": 1, "memory_limit_mib": 1}}},
        r"vault\.resources\.memory_request_mib: Input should be greater than or equal to 16"
        r"(.|\n)*vault\.resources\.memory_limit_mib: Input should be greater than or equal to 32 \(got 1\)",
    ),
    case(
        "memory-limit-absurd",
        {"loki": {"resources": {**RESOURCES, "memory_limit_mib": 10**9}}},
        r"loki\.resources\.memory_limit_mib: Input should be less than or equal to 1048576",
    ),
    case(
        "storage-absurd",
        {"loki": {"storage_gib": 100_000_000}},
        r"loki\.storage_gib: Input should be less than or equal to 65536 \(got 100000000\)",
    ),
    case(
        "float-infinite",
        "prometheus:\n  alerts:\n    thresholds:\n      token_creation_per_second: .inf\n",
        r"prometheus\.alerts\.thresholds\.token_creation_per_second: Input should be a finite number",
    ),
    # -- empty selectors select everything (issue 14, item 4) -----------------------------------
    case(
        "ingress-controller-namespace-selector-empty",
        {"network": {"ingress_controller": {"namespace_labels": {}}}},
        r"network\.ingress_controller\.namespace_labels: an empty selector matches everything",
    ),
    case(
        "ingress-controller-pod-selector-empty",
        {"network": {"ingress_controller": {"pod_labels": {}}}},
        r"network\.ingress_controller\.pod_labels: an empty selector matches everything",
    ),
    case(
        "dns-pod-selector-empty",
        {"network": {"dns": {"pod_labels": {}}}},
        r"network\.dns\.pod_labels: an empty selector matches everything",
    ),
    case(
        "otlp-client-namespace-selector-empty",
        {"alloy": {"otlp_clients": [{"name": "apps", "namespace_labels": {}}]}},
        r"alloy\.otlp_clients\.0\.namespace_labels: an empty selector matches everything",
    ),
    case(
        "otlp-client-pod-selector-empty",
        {"alloy": {"otlp_clients": [{"name": "apps", "namespace_labels": {"team": "a"}, "pod_labels": {}}]}},
        r"alloy\.otlp_clients\.0\.pod_labels: an empty selector matches everything",
    ),
    # -- sizes and quantities -------------------------------------------------------------------
    case(
        "storage-zero",
        {"vault": {"storage_gib": 0}},
        r"vault\.storage_gib: Input should be greater than or equal to 1 \(got 0\)",
    ),
    case(
        "storage-negative",
        {"loki": {"storage_gib": -5}},
        r"loki\.storage_gib: Input should be greater than or equal to 1 \(got -5\)",
    ),
    case(
        "storage-quantity-10Gb",
        {"prometheus": {"storage_gib": "10Gb"}},
        r"prometheus\.storage_gib: Input should be a valid integer \(got '10Gb'\)",
    ),
    case(
        "storage-fractional",
        {"grafana": {"storage_gib": 1.5}},
        r"grafana\.storage_gib: Input should be a valid integer \(got 1\.5\)",
    ),
    case(
        "backup-storage-zero",
        {"vault": {"backup": {"storage_gib": 0}}},
        r"vault\.backup\.storage_gib: Input should be greater than or equal to 1 \(got 0\)",
    ),
    case(
        "retention-zero",
        {"tempo": {"retention_hours": 0}},
        r"tempo\.retention_hours: Input should be greater than or equal to 1 \(got 0\)",
    ),
    case(
        "cpu-request-negative",
        {"alloy": {"resources": {**RESOURCES, "cpu_request_millicores": -100}}},
        r"alloy\.resources\.cpu_request_millicores: Input should be greater than or equal to 1 \(got -100\)",
    ),
    case(
        "memory-limit-below-request",
        {"grafana": {"resources": {**RESOURCES, "memory_limit_mib": 128}}},
        r"grafana\.resources: 'memory_limit_mib' \(128\) must be >= 'memory_request_mib' \(256\)",
    ),
    case(
        "cpu-limit-below-request",
        {"vault": {"resources": {**RESOURCES, "cpu_limit_millicores": 50}}},
        r"vault\.resources: 'cpu_limit_millicores' \(50\) must be >= 'cpu_request_millicores' \(100\)",
    ),
    case(
        "ingestion-burst-below-rate",
        {"loki": {"ingestion_rate_mb": 8, "ingestion_burst_size_mb": 4}},
        r"loki: 'ingestion_burst_size_mb' \(4\.0\) must be >= 'ingestion_rate_mb' \(8\.0\)",
    ),
    case(
        "prometheus-retention-size-fills-volume",
        {"prometheus": {"storage_gib": 10, "retention_size_gib": 10}},
        r"prometheus: 'retention_size_gib' \(10\) must be < 'storage_gib' \(10\)",
        at_synth=True,
    ),
    case(
        "prometheus-volume-too-small-for-default-retention-size",
        {"prometheus": {"storage_gib": 1}},
        r"prometheus: 'retention_size_gib' \(1\) must be < 'storage_gib' \(1\)",
        at_synth=True,
    ),
    # -- retention shorter than the interval it must cover --------------------------------------
    case(
        "vault-metrics-retention-shorter-than-scrapes",
        {"vault": {"prometheus_retention_time": "1m"}},
        r"vault\.prometheus_retention_time: 'prometheus_retention_time' \('1m'\) must be at least 10m",
    ),
    case(
        "vault-metrics-retention-zero",
        {"vault": {"prometheus_retention_time": "0s"}},
        r"vault\.prometheus_retention_time: 'prometheus_retention_time' must be a non-zero duration",
    ),
    case(
        "alertmanager-retention-shorter-than-repeat-interval",
        {"alertmanager": {"data_retention_hours": 2}},
        r"alertmanager: 'data_retention_hours' \(2\) must cover 'notifications\.repeat_interval' \('4h'\)",
    ),
    case(
        "loki-accepts-logs-older-than-retention",
        {"loki": {"retention_days": 1, "reject_old_samples_max_age_hours": 48}},
        r"loki: 'reject_old_samples_max_age_hours' \(48\) must be <= 'retention_days' \* 24 \(24\)",
    ),
    # -- Vault: raft and seals ------------------------------------------------------------------
    case(
        "raft-replicas-even",
        {"vault": {"replicas": 2}},
        r"vault\.replicas: 'replicas' \(2\) must be odd for raft: use 1, 3 or 5",
    ),
    case(
        "raft-replicas-unsupported",
        {"vault": {"replicas": 7}},
        r"vault\.replicas: 'replicas' \(7\) is not supported: use 1, 3 or 5",
    ),
    case(
        "seal-unknown-type",
        {"vault": {"seal": {"type": "hsm"}}},
        r"vault\.seal: Input tag 'hsm' .* expected tags: 'shamir', 'transit', 'awskms', 'gcpckms', "
        r"'azurekeyvault'",
    ),
    case(
        "seal-without-type",
        {"vault": {"seal": {"address": "https://vault-unseal.example.com:8200"}}},
        r"vault\.seal: missing 'type'; accepted types: 'shamir', 'transit', 'awskms'",
    ),
    case(
        "seal-awskms-missing-fields",
        {"vault": {"seal": {"type": "awskms"}}},
        r"vault\.seal\.awskms\.region: required setting is missing(.|\n)*"
        r"vault\.seal\.awskms\.kms_key_id: required setting is missing",
    ),
    case(
        "seal-transit-without-egress",
        {"vault": {"seal": {key: v for key, v in TRANSIT.items() if key != "egress_cidrs"}}},
        r"vault\.seal\.transit: 'seal\.egress_cidrs' is required for the transit seal, got none",
    ),
    case(
        "seal-transit-plain-http",
        {"vault": {"seal": {**TRANSIT, "address": "http://vault-unseal.example.com:8200"}}},
        r"vault\.seal\.transit: 'seal\.address' must be an https:// URL",
    ),
    case(
        "seal-gcpckms-two-credential-sources",
        {"vault": {"seal": {**GCPCKMS, "credentials": {"name": "gcp-kms", "key": "key.json"}}}},
        r"vault\.seal\.gcpckms: the gcpckms seal needs exactly one credential source: .* got both",
    ),
    case(
        "seal-extra-egress-reuses-seal-name",
        {
            "vault": {
                "seal": {
                    **GCPCKMS,
                    "extra_egress": [{"name": "seal-gcpckms", "cidrs": ["169.254.169.254/32"], "port": 80}],
                }
            }
        },
        r"vault already has an external endpoint named 'seal-gcpckms': give each external endpoint a unique",
        at_synth=True,
    ),
    case(
        "backup-schedule-hour-25",
        {"vault": {"backup": {"schedule": "0 25 * * *"}}},
        r"vault\.backup\.schedule: 'schedule' '0 25 \* \* \*' has an invalid hour field '25': .*0-23",
    ),
    case(
        "backup-schedule-prose",
        {"vault": {"backup": {"schedule": "every night"}}},
        r"vault\.backup\.schedule: 'schedule' must be a cron schedule of 5 fields",
    ),
    # -- names, addresses, ports ----------------------------------------------------------------
    case(
        "namespace-invalid",
        {"namespace": "Vault_AIO"},
        r"namespace: 'Vault_AIO' is not a valid name: use lowercase letters, digits and '-'",
    ),
    # -- the stack's namespaces are its own (review finding 1) ---------------------------------------
    case(
        "namespace-kube-system",
        {"namespace": "kube-system"},
        r"namespace: 'kube-system' is a namespace of Kubernetes itself .* dedicated to the stack",
    ),
    case(
        "node-namespace-kube-system",
        {"node_namespace": "kube-system"},
        r"node_namespace: 'kube-system' is a namespace of Kubernetes itself",
    ),
    case(
        "namespace-default",
        {"namespace": "default"},
        r"namespace: 'default' is a namespace of Kubernetes itself \(default, kube-node-lease, kube-public, "
        r"kube-system are refused\)",
    ),
    case(
        "node-namespace-kube-public",
        {"node_namespace": "kube-public"},
        r"node_namespace: 'kube-public' is a namespace of Kubernetes itself",
    ),
    case(
        "node-namespace-kube-node-lease",
        {"node_namespace": "kube-node-lease"},
        r"node_namespace: 'kube-node-lease' is a namespace of Kubernetes itself",
    ),
    case(
        "node-namespace-is-the-main-namespace",
        {"namespace": "secrets", "node_namespace": "secrets"},
        r"node_namespace \('secrets'\) is the same as namespace: .* must stay 'restricted'",
    ),
    case(
        "namespace-of-the-cluster-dns",
        {"namespace": "coredns", "network": {"dns": {"namespace": "coredns"}}},
        r"namespace \('coredns'\) is network\.dns\.namespace, where the cluster DNS runs",
    ),
    case(
        "node-namespace-of-the-cluster-dns",
        {"node_namespace": "coredns", "network": {"dns": {"namespace": "coredns"}}},
        r"node_namespace \('coredns'\) is network\.dns\.namespace",
    ),
    case(
        "namespace-of-the-ingress-controller",
        {"namespace": "ingress-nginx"},
        r"namespace \('ingress-nginx'\) is the ingress controller's namespace \(network\.ingress_controller\."
        r"namespace_labels names it",
    ),
    case(
        "node-namespace-of-the-ingress-controller",
        {
            "node_namespace": "traefik",
            "network": {
                "ingress_controller": {"namespace_labels": {"kubernetes.io/metadata.name": "traefik"}}
            },
        },
        r"node_namespace \('traefik'\) is the ingress controller's namespace",
    ),
    case(
        "cidr-invalid",
        {"network": {"kube_api": {"cidrs": ["10.0.0.300/8"]}}},
        r"network\.kube_api\.cidrs\.0: '10\.0\.0\.300/8' is not a valid CIDR \(e\.g\. 192\.0\.2\.0/24\)",
    ),
    case(
        "ntp-server-cidr-with-host-bits",
        {"chrony": {"servers": [{**NTP, "cidrs": ["192.0.2.10/24"]}]}},
        r"chrony\.servers\.0\.cidrs\.0: '192\.0\.2\.10/24' is not a valid CIDR .*has host bits set",
    ),
    case(
        "ntp-server-address-invalid",
        {"chrony": {"servers": [{**NTP, "address": "ntp example com"}]}},
        r"chrony\.servers\.0\.address: 'host' must be a hostname or an ip address, got 'ntp example com'",
    ),
    case(
        "ntp-server-names-duplicate",
        {"chrony": {"servers": [NTP, {**NTP, "address": "ntp2.example.com"}]}},
        r"chrony: 'servers' names must be unique, got corp more than once",
    ),
    case(
        "ntp-min-sources-beyond-servers",
        {"chrony": {"min_sources": 3}},
        r"chrony: 'min_sources' must be between 1 and the number of sources .* \(1\), got 3",
        at_synth=True,
    ),
    case(
        "ingress-host-uppercase",
        {"vault": {"ingress": {"host": "Vault.Example.com"}}},
        r"vault\.ingress\.host: 'Vault\.Example\.com' is not a valid hostname: use dot-separated labels",
    ),
    case(
        "ingress-host-is-a-url",
        {"grafana": {"ingress": {"host": "https://grafana.example.com"}}},
        r"grafana\.ingress\.host: 'https://grafana\.example\.com' is not a valid hostname",
    ),
    case(
        "ingress-annotation-key-invalid",
        {"vault": {"ingress": {"host": "vault.example.com", "annotations": {"proxy body size": "1m"}}}},
        r"vault\.ingress\.annotations: annotation key 'proxy body size' is invalid: use 'name' or "
        r"'prefix/name'",
    ),
    case(
        "port-out-of-range",
        {"network": {"dns": {"port": 70000}}},
        r"network\.dns\.port: Input should be less than or equal to 65535 \(got 70000\)",
    ),
    case(
        "port-zero",
        {"vault": {"seal": {**TRANSIT, "egress_port": 0}}},
        r"vault\.seal\.transit\.egress_port: Input should be greater than or equal to 1 \(got 0\)",
    ),
    case(
        "port-out-of-range-in-url",
        {
            "alertmanager": {
                "notifications": {
                    "webhook_receivers": [{**WEBHOOK, "url": "https://hooks.example.com:70000/a"}]
                }
            }
        },
        r"alertmanager\.notifications\.webhook_receivers\.0: 'url' of webhook receiver 'ops' has a port "
        r"outside 1-65535",
    ),
    case(
        "grafana-root-url-port-out-of-range",
        {"grafana": {"root_url": "https://grafana.example.com:99999/"}},
        r"grafana\.root_url: 'root_url' has a port outside 1-65535, got 'https://grafana\.example\.com:99999/'",
    ),
    case(
        "image-tag-latest",
        {"vault": {"image_tag": "latest"}},
        r"vault\.image_tag: 'latest' is not an exact version tag: use e\.g\. '2\.0\.4'",
    ),
    case(
        "image-tag-floating-major",
        {"prometheus": {"image_tag": "v3"}},
        r"prometheus\.image_tag: 'v3' is not an exact version tag",
    ),
    case(
        "image-digest-short",
        {"vault": {"image_digest": "sha256:abc"}},
        r"vault\.image_digest: 'sha256:abc' is not an image digest: use 'sha256:' and 64 lowercase hex",
    ),
    case(
        "image-tag-with-digest",
        {"vault": {"image_tag": "2.0.4@sha256:" + "a" * 64}},
        r"vault\.image_tag: .* is not an exact version tag: .*put a digest in 'image_digest'",
    ),
    case(
        "image-repository-with-tag",
        {"chrony": {"image_repository": "registry.example.com/chrony:4.8"}},
        r"chrony\.image_repository: 'registry\.example\.com/chrony:4\.8' is not an image repository",
    ),
    case(
        "secret-key-with-slash",
        {"vault": {"backup": {"token_secret": {"name": "vault-backup-token", "key": "a/token"}}}},
        r"vault\.backup\.token_secret\.key: String should match pattern",
    ),
    # -- closed sets ----------------------------------------------------------------------------
    case("profile-unknown", {"profile": "huge"}, r"profile: Input should be 'small' or 'production'"),
    case(
        "log-level-unknown",
        {"vault": {"log_level": "verbose"}},
        r"vault\.log_level: Input should be 'trace', 'debug', 'info', 'warn' or 'error'",
    ),
    case(
        "route-severity-unknown",
        {
            "alertmanager": {
                "notifications": {
                    "webhook_receivers": [WEBHOOK],
                    "routes": [{"severities": ["fatal"], "receiver": "ops"}],
                }
            }
        },
        r"alertmanager\.notifications\.routes\.0\.severities\.0: Input should be 'critical', 'warning' or "
        r"'info'",
    ),
    # -- receivers ------------------------------------------------------------------------------
    case(
        "receiver-without-required-fields",
        {"alertmanager": {"notifications": {"slack_receivers": [{"name": "chat"}]}}},
        r"alertmanager\.notifications\.slack_receivers\.0\.api_url: required setting is missing"
        r"(.|\n)*slack_receivers\.0\.cidrs: required setting is missing",
    ),
    case(
        "receiver-names-duplicate",
        {
            "alertmanager": {
                "notifications": {
                    "webhook_receivers": [WEBHOOK, {**WEBHOOK, "url": "https://b.example.com/"}]
                }
            }
        },
        r"alertmanager\.notifications: receiver names must be unique, got duplicates \['ops'\]",
    ),
    case(
        "route-to-undefined-receiver",
        {"alertmanager": {"notifications": {"routes": [{"severities": ["critical"], "receiver": "pager"}]}}},
        r"alertmanager\.notifications: route for \['critical'\] names receiver 'pager', which is not defined",
    ),
    case(
        "receiver-email-user-without-password",
        {
            "alertmanager": {
                "notifications": {
                    "email_receivers": [
                        {
                            "name": "mail",
                            "to": "ops@example.com",
                            "from_address": "vault@example.com",
                            "smarthost": "smtp.example.com",
                            "cidrs": ["198.51.100.25/32"],
                            "auth_username": "vault",
                        }
                    ]
                }
            }
        },
        r"alertmanager\.notifications\.email_receivers\.0: email receiver 'mail': set both 'auth_username' "
        r"and 'auth_password' or neither",
    ),
    case(
        "receiver-url-with-credentials",
        {
            "alertmanager": {
                "notifications": {"webhook_receivers": [{**WEBHOOK, "url": "https://u:p@hooks.example.com/"}]}
            }
        },
        r"alertmanager\.notifications\.webhook_receivers\.0: 'url' of webhook receiver 'ops' must not "
        r"contain credentials \(user information before '@'.*\): use 'url_secret' .* or 'bearer_token', "
        r"got 'https://\*\*\*@hooks\.example\.com/'",
    ),
    case(
        "vault-clients-duplicate-name",
        {"vault": {"clients": [{"name": "shop", "namespace_labels": {"team": "a"}}] * 2}},
        r"vault: 'clients' names must be unique and not one of the stack's own .* got \['shop'\]",
    ),
    case(
        "vault-clients-reserved-name",
        {"vault": {"clients": [{"name": "ingress-controller", "namespace_labels": {"team": "a"}}]}},
        r"vault: 'clients' names must be unique .* got \['ingress-controller'\]",
    ),
    case(
        "vault-clients-every-namespace",
        {"vault": {"clients": [{"name": "shop", "namespace_labels": {}}]}},
        r"vault\.clients\.0\.namespace_labels: an empty selector matches everything",
    ),
    case(
        "vault-clients-every-pod-as-empty-selector",
        {"vault": {"clients": [{"name": "shop", "namespace_labels": {"team": "a"}, "pod_labels": {}}]}},
        r"vault\.clients\.0\.pod_labels: an empty selector matches everything",
    ),
    case(
        "vault-clients-in-the-stacks-namespace",
        {
            "vault": {
                "clients": [{"name": "own", "namespace_labels": {"kubernetes.io/metadata.name": "vault-aio"}}]
            }
        },
        r"vault\.clients: 'own' selects the stack's own namespace 'vault-aio'",
        at_synth=True,
    ),
    case(
        "alloy-run-as-root-with-the-node-root",
        {"alloy": {"run_as_root": True}},
        r"alloy: 'run_as_root' is true and Alloy mounts the node's root filesystem \('node_filesystems', "
        r"on by default from kubernetes_version 1\.31\): as uid 0.* set 'node_filesystems: false'",
        at_synth=True,
    ),
    case(
        "alloy-run-as-root-and-node-filesystems",
        {"alloy": {"run_as_root": True, "node_filesystems": True}},
        r"alloy: 'run_as_root' is true and Alloy mounts the node's root filesystem",
    ),
    case(
        "loki-deletion-mode-unknown",
        {"loki": {"deletion_mode": "delete"}},
        r"loki\.deletion_mode: Input should be 'disabled', 'filter-only' or 'filter-and-delete'",
    ),
    # -- credentials in URL-typed settings and headers: refused, never echoed (review finding 6) ---------
    case(
        "loki-external-url-userinfo",
        {
            "loki": {
                "enabled": False,
                "external": {
                    "url": "https://admin:s3cr3t-Passw0rd@loki.example.com",
                    "cidrs": ["192.0.2.0/24"],
                },
            }
        },
        r"loki\.external\.url: 'url' must not contain credentials .* got 'https://\*\*\*@loki\.example\.com'",
    ),
    case(
        "remote-write-url-userinfo-and-token",
        {
            "prometheus": {
                "remote_write": [
                    {
                        **REMOTE_WRITE,
                        "url": "https://u:s3cr3t-Passw0rd@mimir.example.com/api/v1/push?token=glc_eyJrIjoiZXhh",
                    }
                ]
            }
        },
        r"prometheus\.remote_write\.0\.url: 'url' must not contain credentials .*"
        r"got 'https://\*\*\*@mimir\.example\.com/api/v1/push\?token=\*\*\*'",
    ),
    case(
        "remote-write-url-api-key-query",
        {
            "prometheus": {
                "remote_write": [
                    {**REMOTE_WRITE, "url": "https://mimir.example.com/api/v1/push?api_key=glc_eyJrIjoiZXhh"}
                ]
            }
        },
        r"prometheus\.remote_write\.0\.url: 'url' must not contain credentials \(the parameter 'api_key'",
    ),
    case(
        "remote-write-credential-header",
        {"prometheus": {"remote_write": [{**REMOTE_WRITE, "headers": {"X-Api-Key": "glc_eyJrIjoiZXhh"}}]}},
        r"prometheus\.remote_write\.0\.headers: header 'X-Api-Key' looks like a credential, and 'headers' "
        r"are written into the ConfigMap: put it in 'secret_headers'",
    ),
    case(
        "seal-transit-address-userinfo",
        {
            "vault": {
                "seal": {**TRANSIT, "address": "https://root:s3cr3t-Passw0rd@vault-unseal.example.com:8200"}
            }
        },
        r"vault\.seal\.transit: 'seal\.address' must not contain credentials .* "
        r"got 'https://\*\*\*@vault-unseal\.example\.com:8200'",
    ),
    case(
        "seal-awskms-endpoint-token-query",
        {
            "vault": {
                "seal": {
                    "type": "awskms",
                    "region": "eu-west-1",
                    "kms_key_id": "alias/vault",
                    "role_arn": "arn:aws:iam::123456789012:role/vault",
                    "endpoint": "https://kms.example.com/?X-Amz-Security-Token=s3cr3t-Passw0rd",
                    "egress_cidrs": ["203.0.113.0/24"],
                }
            }
        },
        r"vault\.seal\.awskms: 'seal\.endpoint' must not contain credentials \(the parameter "
        r"'X-Amz-Security-Token'",
    ),
    case(
        "grafana-root-url-userinfo",
        {"grafana": {"root_url": "https://admin:s3cr3t-Passw0rd@grafana.example.com/"}},
        r"grafana\.root_url: 'root_url' must not contain credentials .* got 'https://\*\*\*@grafana",
    ),
    case(
        "runbook-base-url-token-query",
        {"prometheus": {"alerts": {"runbook_base_url": "https://wiki.example.com/r?token=s3cr3t-Passw0rd"}}},
        r"prometheus\.alerts: 'runbook_base_url' must not contain credentials \(the parameter 'token'",
    ),
    case(
        "webhook-url-token-query",
        {
            "alertmanager": {
                "notifications": {
                    "webhook_receivers": [
                        {**WEBHOOK, "url": "https://hooks.example.com/a?token=s3cr3t-Passw0rd"}
                    ]
                }
            }
        },
        r"'url' of webhook receiver 'ops' must not contain credentials \(the parameter 'token'.*'url_secret'",
    ),
    case(
        "extra-egress-address-userinfo",
        {
            "vault": {
                "seal": {
                    **GCPCKMS,
                    "extra_egress": [
                        {
                            "name": "sts",
                            "cidrs": ["192.0.2.0/24"],
                            "port": 443,
                            "address": "https://u:s3cr3t-Passw0rd@sts.example.com",
                        }
                    ],
                }
            }
        },
        r"vault\.seal\.gcpckms\.extra_egress\.0\.address: 'address' must not contain credentials",
    ),
    # -- Prometheus, Grafana, alerts ------------------------------------------------------------
    case(
        "external-label-name-invalid",
        {"prometheus": {"external_labels": {"k8s-cluster": "prod"}}},
        r"prometheus: 'external_labels' key 'k8s-cluster' is not a valid label name: use letters, digits",
    ),
    case(
        "scrape-interval-too-long",
        {"prometheus": {"scrape_interval_seconds": 600}},
        r"prometheus\.scrape_interval_seconds: Input should be less than or equal to 300 \(got 600\)",
    ),
    case(
        "alert-critical-not-below-warning",
        {"prometheus": {"alerts": {"thresholds": {"tls_cert_critical_days": 30}}}},
        r"prometheus\.alerts\.thresholds: 'tls_cert_critical_days' \(30\) must be < 'tls_cert_warning_days' "
        r"\(30\)",
    ),
    case(
        "duration-in-prose",
        {"alertmanager": {"notifications": {"group_wait": "30 seconds"}}},
        r"alertmanager\.notifications: 'group_wait' must be a duration like '30s', '5m' or '1h', got "
        r"'30 seconds'",
    ),
    case(
        "grafana-home-dashboard-unknown",
        {"grafana": {"home_dashboard": "payments"}},
        r"'home_dashboard' \('payments'\) is not a dashboard of this grafana: use one of \['vault-overview'",
        at_synth=True,
    ),
    case(
        "grafana-home-dashboard-without-builtin-dashboards",
        {"grafana": {"builtin_dashboards": False, "home_dashboard": "vault-overview"}},
        r"'home_dashboard' \('vault-overview'\) is not a dashboard of this grafana: use one of \[\] or None",
        at_synth=True,
    ),
    # -- composition: disabled components, external replacements, what cannot work together ------------
    case(
        "grafana-without-any-prometheus",
        {"prometheus": {"enabled": False}},
        r"grafana\.enabled is true but there is no Prometheus \(prometheus\.enabled is false and "
        r"prometheus\.external is not set\).*set prometheus\.external or grafana\.enabled: false",
    ),
    case(
        "prometheus-alerts-without-alertmanager",
        {"alertmanager": {"enabled": False}},
        r"prometheus\.enabled is true and evaluates the stack's alert rules, but there is no Alertmanager "
        r"\(alertmanager\.enabled is false and alertmanager\.external is not set\)",
    ),
    case(
        "loki-ruler-without-alertmanager",
        {"alertmanager": {"enabled": False}, "prometheus": {"enabled": False}, "grafana": {"enabled": False}},
        r"loki\.enabled is true and runs the audit-log alert rule .* set alertmanager\.external, "
        r"alertmanager\.enabled: true or loki\.enabled: false",
    ),
    case(
        "alloy-log-shipping-without-loki",
        {"loki": {"enabled": False}, "alloy": {"ship_logs": True}},
        r"alloy\.ship_logs is true but there is no loki \(loki\.enabled is false and loki\.external is "
        r"not set\): set loki\.external or alloy\.ship_logs: false",
    ),
    case(
        "alloy-with-nothing-to-ship",
        {"alloy": {"ship_logs": False, "ship_metrics": False, "ship_traces": False}},
        r"alloy\.enabled is true but it has nothing to ship",
    ),
    case(
        "alloy-otlp-clients-without-tempo",
        {
            "tempo": {"enabled": False},
            "alloy": {"otlp_clients": [{"name": "apps", "namespace_labels": {"team": "apps"}}]},
        },
        r"alloy\.otlp_clients is set but Alloy forwards no traces",
    ),
    case(
        "external-while-enabled",
        {"loki": {"external": {"url": "http://loki.logging.svc", "namespace_labels": {"a": "b"}}}},
        r"loki: 'external' replaces the stack's own Loki: set 'enabled: false' to use it",
    ),
    case(
        "external-without-reach",
        {"loki": {"enabled": False, "external": {"url": "http://loki.logging.svc"}}},
        r"loki\.external: external service 'http://loki\.logging\.svc' needs 'namespace_labels' \(inside "
        r"the cluster\) or 'cidrs'",
    ),
    case(
        "external-url-with-credentials",
        {
            "tempo": {
                "enabled": False,
                "external": {"url": "https://u:p@t.example.com", "cidrs": ["192.0.2.0/24"]},
            }
        },
        r"tempo\.external\.url: 'url' must not contain credentials \(user information before '@'",
    ),
    case(
        "external-in-the-stacks-namespace",
        {
            "loki": {
                "enabled": False,
                "external": {
                    "url": "http://l.vault-aio.svc",
                    "namespace_labels": {"kubernetes.io/metadata.name": "vault-aio"},
                },
            }
        },
        r"external service 'loki' selects the stack's own namespace 'vault-aio'",
        at_synth=True,
    ),
    case(
        "loki-tenant-invalid",
        {
            "loki": {
                "enabled": False,
                "external": {"url": "http://l", "cidrs": ["192.0.2.0/24"], "tenant_id": "a b"},
            }
        },
        r"loki\.external\.tenant_id: 'a b' is not a Loki tenant ID",
    ),
    case(
        "loki-tenant-empty",
        {
            "loki": {
                "enabled": False,
                "external": {"url": "http://l", "cidrs": ["192.0.2.0/24"], "tenant_id": ""},
            }
        },
        r"loki\.external\.tenant_id: '' is not a Loki tenant ID: 1-150 letters",
    ),
    case(
        "loki-ca-with-http-url",
        {
            "loki": {
                "enabled": False,
                "external": {
                    "url": "http://l",
                    "cidrs": ["192.0.2.0/24"],
                    "ca": {"name": "c", "key": "ca.crt"},
                },
            }
        },
        r"loki\.external: 'ca' verifies the certificate of an https:// Loki, but 'url' is 'http://l': "
        r"use the https:// URL",
    ),
    case(
        "loki-basic-auth-literal-password",
        {
            "loki": {
                "enabled": False,
                "external": {
                    "url": "https://l",
                    "cidrs": ["192.0.2.0/24"],
                    "basic_auth": {"username": "u", "password": "s3cr3t-Passw0rd"},
                },
            }
        },
        r"loki\.external\.basic_auth\.password: must be a Secret reference \(name: <secret>, key: <key>\), ",
    ),
    case(
        "loki-basic-auth-username-with-colon",
        {
            "loki": {
                "enabled": False,
                "external": {
                    "url": "https://l",
                    "cidrs": ["192.0.2.0/24"],
                    "basic_auth": {"username": "u:p", "password": {"name": "s", "key": "p"}},
                },
            }
        },
        r"loki\.external\.basic_auth\.username: 'basic_auth\.username' must be 1-256 characters without ':'",
    ),
    case(
        "prometheus-ca-with-http-url",
        {
            "prometheus": {
                "enabled": False,
                "external": {
                    "url": "http://p",
                    "cidrs": ["192.0.2.0/24"],
                    "ca": {"name": "c", "key": "ca.crt"},
                },
            }
        },
        r"prometheus\.external: 'ca' verifies the certificate of an https:// Prometheus, but 'url' is "
        r"'http://p': use the https:// URL",
    ),
    case(
        "prometheus-basic-auth-literal-password",
        {
            "prometheus": {
                "enabled": False,
                "external": {
                    "url": "https://p",
                    "cidrs": ["192.0.2.0/24"],
                    "basic_auth": {"username": "u", "password": "s3cr3t-Passw0rd"},
                },
            }
        },
        r"prometheus\.external\.basic_auth\.password: must be a Secret reference "
        r"\(name: <secret>, key: <key>\), ",
    ),
    case(
        "prometheus-basic-auth-username-with-colon",
        {
            "prometheus": {
                "enabled": False,
                "external": {
                    "url": "https://p",
                    "cidrs": ["192.0.2.0/24"],
                    "basic_auth": {"username": "u:p", "password": {"name": "s", "key": "p"}},
                },
            }
        },
        r"prometheus\.external\.basic_auth\.username: 'basic_auth\.username' must be 1-256 characters "
        r"without ':'",
    ),
    case(
        "namespace-too-long-for-the-node-namespace",
        {"namespace": "n" * 60},
        r"'namespace' \('n{60}', 60 characters\) is too long for the node namespace .* set 'node_namespace'",
    ),
    # -- Loki and Tempo storage and replicas ----------------------------------------------------
    case(
        "loki-replicas-on-filesystem",
        {"loki": {"replicas": 3}},
        r"loki: 'replicas' \(3\) needs object storage: set 'storage.type' to s3, gcs or azure",
    ),
    case(
        "tempo-replicas-on-local-storage",
        {"tempo": {"replicas": 2}},
        r"tempo: 'replicas' \(2\) needs object storage: set 'storage.type' to s3, gcs or azure",
    ),
    case(
        "loki-storage-type-unknown",
        {"loki": {"storage": {**S3, "type": "minio"}}},
        r"loki\.storage: Input tag 'minio' .*'filesystem', 's3', 'gcs', 'azure'",
    ),
    case(
        "loki-storage-missing-bucket",
        {"loki": {"storage": {k: v for k, v in S3.items() if k != "bucket"}}},
        r"loki\.storage\.s3\.bucket: required setting is missing",
    ),
    case(
        "tempo-storage-bucket-invalid",
        {"tempo": {"storage": {**S3, "bucket": "Tempo_Traces"}}},
        r"tempo\.storage\.s3\.bucket: 'Tempo_Traces' is not a valid S3 bucket name: 3-63 lowercase",
    ),
    case(
        "loki-storage-literal-access-key",
        {"loki": {"storage": {**S3, "access_key_id": LITERAL_KEY}}},
        r"loki\.storage\.s3\.access_key_id: must be a Secret reference \(name: <secret>, key: <key>\), "
        r"never the value itself: create the Secret outside the manifests",
    ),
    case(
        "tempo-storage-literal-azure-key",
        {
            "tempo": {
                "storage": {
                    "type": "azure",
                    "account_name": "acmetraces",
                    "container": "tempo",
                    "account_key": "c2VjcmV0LWtleS1ieXRlcw==",
                    "egress_cidrs": ["20.60.0.0/16"],
                }
            }
        },
        r"tempo\.storage\.azure\.account_key: must be a Secret reference",
    ),
    case(
        "loki-storage-endpoint-with-credentials",
        {"loki": {"storage": {**S3, "endpoint": "AKIAIOSFODNN7EXAMPLE:secret@minio:9000"}}},
        r"loki\.storage\.s3\.endpoint: the endpoint must not contain credentials \('@'\): use Secret "
        r"references",
    ),
    case(
        "loki-storage-endpoint-with-scheme",
        {"loki": {"storage": {**S3, "endpoint": "http://minio:9000"}}},
        r"loki\.storage\.s3\.endpoint: 'http://minio:9000' must be host\[:port\] without a scheme .*"
        r"'insecure: true'",
    ),
    case(
        "loki-storage-two-credential-sources",
        {"loki": {"storage": {**S3, "role_arn": "arn:aws:iam::123456789012:role/loki"}}},
        r"loki\.storage\.s3: s3 storage needs exactly one credential source: .* got both",
    ),
    case(
        "tempo-storage-no-credentials",
        {
            "tempo": {
                "storage": {k: v for k, v in S3.items() if k not in ("access_key_id", "secret_access_key")}
            }
        },
        r"tempo\.storage\.s3: s3 storage needs exactly one credential source: .* got neither",
    ),
    case(
        "loki-storage-without-egress",
        {"loki": {"storage": {**S3, "egress_cidrs": []}}},
        r"loki\.storage\.s3: 'storage\.egress_cidrs' is required, got none: list the networks",
    ),
    case(
        "loki-storage-aws-without-region",
        {"loki": {"storage": {k: v for k, v in S3.items() if k not in ("endpoint", "region")}}},
        r"loki\.storage\.s3: s3 storage needs 'region' \(AWS S3\) or 'endpoint'",
    ),
    case(
        "tempo-storage-gcs-both-credentials",
        {
            "tempo": {
                "storage": {
                    "type": "gcs",
                    "bucket": "acme-traces",
                    "credentials": {"name": "gcs", "key": "key.json"},
                    "gcp_service_account": "tempo@acme.iam.gserviceaccount.com",
                    "egress_cidrs": ["199.36.153.8/30"],
                }
            }
        },
        r"tempo\.storage\.gcs: gcs storage needs exactly one credential source: .* got both",
    ),
    case(
        "loki-storage-azure-identity-without-client-id",
        {
            "loki": {
                "storage": {
                    "type": "azure",
                    "account_name": "acmelogs",
                    "container": "loki",
                    "workload_identity": True,
                    "egress_cidrs": ["20.60.0.0/16"],
                }
            }
        },
        r"loki\.storage\.azure: 'storage\.client_id' is required with 'workload_identity: true'",
    ),
    case(
        "loki-replicas-too-many",
        {"loki": {"replicas": 12, "storage": S3}},
        r"loki\.replicas: Input should be less than or equal to 9 \(got 12\)",
    ),
    case(
        "alloy-glob-outside-var-log",
        {"alloy": {"varlog_globs": ["../etc/*.conf"]}},
        r"alloy\.varlog_globs\.0: 'varlog_globs' entry '\.\./etc/\*\.conf' must be a normalised, "
        r"non-recursive glob under /var/log",
    ),
    # -- scale-out (issue 13): replicas, remote write, external database -----------------------------
    case(
        "grafana-replicas-on-sqlite",
        {"grafana": {"replicas": 2}},
        r"grafana: 'replicas' \(2\) needs an external 'database': sqlite is a file on one pod's volume; set "
        r"'database\.type' to 'postgres' or 'mysql'",
    ),
    case(
        "grafana-database-without-cidrs",
        {"grafana": {"database": {**POSTGRES, "cidrs": []}}},
        r"grafana\.database\.postgres\.cidrs: list at least one network of the destination \(e\.g\. "
        r"\['203\.0\.113\.0/24'\]\): its egress NetworkPolicy opens to these networks only",
    ),
    case(
        "grafana-database-literal-password",
        {"grafana": {"database": {**POSTGRES, "password": "s3cr3t-Passw0rd"}}},
        r"grafana\.database\.postgres\.password: must be a Secret reference \(name: <secret>, key: <key>\), "
        r"never the value itself",
    ),
    case(
        "grafana-database-unknown-ssl-mode",
        {"grafana": {"database": {**POSTGRES, "ssl_mode": "prefer"}}},
        r"grafana\.database\.postgres\.ssl_mode: Input should be 'disable', 'require' or 'verify-full'",
    ),
    case(
        "alertmanager-replicas-above-range",
        {"alertmanager": {"replicas": 7}},
        r"alertmanager\.replicas: Input should be less than or equal to 5 \(got 7\)",
    ),
    case(
        "alertmanager-replicas-zero",
        {"alertmanager": {"replicas": 0}},
        r"alertmanager\.replicas: Input should be greater than or equal to 1 \(got 0\)",
    ),
    case(
        "prometheus-replicas-above-range",
        {"prometheus": {"replicas": 5}},
        r"prometheus\.replicas: Input should be less than or equal to 3 \(got 5\)",
    ),
    case(
        "prometheus-remote-write-without-cidrs",
        {"prometheus": {"remote_write": [{**REMOTE_WRITE, "cidrs": []}]}},
        r"prometheus\.remote_write\.0\.cidrs: list at least one network of the destination",
    ),
    case(
        "prometheus-remote-write-literal-token",
        {
            "prometheus": {
                "remote_write": [{**REMOTE_WRITE, "auth": {"type": "bearer", "token": "glc_eyJrIjoiZXhh"}}]
            }
        },
        r"prometheus\.remote_write\.0\.auth\.bearer\.token: must be a Secret reference",
    ),
    case(
        "prometheus-remote-write-credentials-over-http",
        {"prometheus": {"remote_write": [{**REMOTE_WRITE, "url": "http://mimir.example.com/api/v1/push"}]}},
        r"prometheus\.remote_write\.0: 'url' of remote_write 'mimir' must be https with 'bearer' "
        r"authentication",
    ),
    case(
        "prometheus-remote-write-unknown-auth",
        {"prometheus": {"remote_write": [{**REMOTE_WRITE, "auth": {"type": "digest"}}]}},
        r"prometheus\.remote_write\.0\.auth: Input tag 'digest' found using 'type' does not match any of the "
        r"expected tags: 'basic', 'bearer', 'oauth2', 'sigv4'",
    ),
    case(
        "prometheus-remote-write-bad-relabel",
        {"prometheus": {"remote_write": [{**REMOTE_WRITE, "write_relabel_configs": [{"action": "drop"}]}]}},
        r"prometheus\.remote_write\.0\.write_relabel_configs\.0: a 'drop' rule needs 'source_labels'",
    ),
    case(
        "prometheus-remote-write-named-like-a-component",
        {"prometheus": {"remote_write": [{**REMOTE_WRITE, "name": "alertmanager"}]}},
        r"two network policies would be named 'allow-prometheus-to-alertmanager'",
        at_synth=True,
    ),
]


def _outdir(tmp_path: Path) -> Path:
    """A dist folder as a previous synth would have left it (here: one marker file)."""
    out = tmp_path / "dist"
    out.mkdir()
    (out / MARKER).write_text(MARKER_TEXT)
    return out


def _assert_untouched(tmp_path: Path, outdir: Path, *expected_siblings: str) -> None:
    """``outdir`` holds exactly the marker, unchanged, and no temporary folder was left beside it."""
    assert sorted(p.name for p in outdir.iterdir()) == [MARKER]
    assert (outdir / MARKER).read_text() == MARKER_TEXT
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["dist", *expected_siblings])


def test_the_table_is_big_and_covers_both_stages() -> None:
    cases: list[Bad] = [p.values[0] for p in CASES]
    assert len(cases) >= 30
    assert len({p.id for p in CASES}) == len(CASES)
    assert sum(c.at_synth for c in cases) >= 5, "construct-time validations need cases too"


@pytest.mark.parametrize("bad", CASES)
def test_fails_bad_setting_before_writing_anything(bad: Bad, tmp_path: Path) -> None:
    settings_file = tmp_path / "vaultaio.yaml"
    text = bad.settings if isinstance(bad.settings, str) else yaml.safe_dump(bad.settings, sort_keys=False)
    settings_file.write_text(text)
    outdir = _outdir(tmp_path)
    with pytest.raises(ValueError, match=bad.match) as raised:
        props = load_settings(settings_file)
        synth(props, outdir)
    # Field rules fail while parsing (the message starts with the file and the key path); rules that need
    # the built chart fail in synth, before write().
    assert isinstance(raised.value, SettingsError) is not bad.at_synth, str(raised.value)
    if not bad.at_synth:
        assert str(raised.value).startswith(f"invalid settings in {settings_file}:")
    for literal in ("s3cr3t-Passw0rd", "glc_eyJrIjoiZXhh"):  # a credential is never repeated
        assert literal not in str(raised.value)
    _assert_untouched(tmp_path, outdir, "vaultaio.yaml")


def test_a_literal_credential_is_never_echoed() -> None:
    """A string where a Secret reference belongs is probably the secret: the error names the key only."""
    for settings in (
        {"loki": {"storage": {**S3, "secret_access_key": LITERAL_KEY}}},
        {"vault": {"seal": {**TRANSIT, "token": LITERAL_KEY}}},
    ):
        with pytest.raises(SettingsError, match=r"must be a Secret reference") as raised:
            parse_settings(settings)
        assert LITERAL_KEY not in str(raised.value)


def test_unknown_key_in_a_seal_lists_the_accepted_keys() -> None:
    with pytest.raises(SettingsError, match=r"vault\.seal\.transit\.mount: unknown setting; accepted keys: "):
        parse_settings({"vault": {"seal": {**TRANSIT, "mount": "transit"}}})


def test_seal_without_type_lists_the_seal_types() -> None:
    with pytest.raises(SettingsError, match=r"vault\.seal: .*'shamir', 'transit', 'awskms'"):
        parse_settings({"vault": {"seal": {"address": "https://vault-unseal.example.com:8200"}}})


# -- Python extensions: duplicates are refused in extend(), before anything is rendered --------------------


def _dashboard(name: str, uid: str) -> GrafanaDashboard:
    return GrafanaDashboard.from_json(name, json.dumps({"title": f"Team {name}", "uid": uid, "panels": []}))


def _policy(name: str) -> Policy:
    return Policy(
        name=name,
        description="read a team's secrets",
        rules=(PathRule(path="secret/data/team/*", capabilities=frozenset({Capability.READ})),),
    )


EXTENSIONS: list[Any] = [
    pytest.param(
        lambda chart: chart.grafana.add_dashboard(_dashboard("vault-overview", "team-overview")),
        r"grafana already has a dashboard named 'vault-overview': choose another name",
        id="duplicate-dashboard-name",
    ),
    pytest.param(
        lambda chart: chart.grafana.add_dashboard(_dashboard("team-overview", "vault-overview")),
        r"dashboard 'team-overview' has uid 'vault-overview', already used by 'vault-overview'",
        id="duplicate-dashboard-uid",
    ),
    pytest.param(
        lambda chart: chart.prometheus.add_scrape_target(chart.vault.metrics_target),
        r"prometheus already scrapes a job named 'vault': choose another job name",
        id="duplicate-scrape-target",
    ),
    pytest.param(
        lambda chart: chart.prometheus.add_scrape_target(
            ScrapeTarget(job="loki", endpoint=chart.grafana.http)
        ),
        r"prometheus already scrapes a job named 'loki': choose another job name",
        id="duplicate-scrape-job-name",
    ),
    pytest.param(
        lambda chart: chart.vault.add_policy(_policy("backup")),
        r"a Vault policy named 'backup' already exists: choose another name",
        id="duplicate-vault-policy",
    ),
    pytest.param(
        lambda chart: chart.loki.add_rules(*chart.prometheus.loki_rule_file),
        r"loki already has a rule file named 'vault-audit\.yaml': choose another name",
        id="duplicate-loki-rule-file",
    ),
]


@pytest.mark.parametrize(("extend", "match"), EXTENSIONS)
def test_fails_duplicate_addition_before_writing_anything(
    extend: Callable[[VaultAioChart], None], match: str, tmp_path: Path
) -> None:
    class Extended(VaultAioChart):
        def extend(self) -> None:
            extend(self)

    outdir = _outdir(tmp_path)
    with pytest.raises(ValueError, match=match):
        write(render(Extended(cdk8s.App(), "vault-aio", VaultAioProps())), outdir)
    _assert_untouched(tmp_path, outdir)


def test_fails_additions_after_the_stack_is_finished(stack: Stack) -> None:
    # the session's default stack: the refused addition changes nothing
    with pytest.raises(RuntimeError, match=r"add_dashboard\('team'\) after the stack was finished"):
        stack.chart.grafana.add_dashboard(_dashboard("team", "team"))


def test_fails_while_writing_leaves_dist_untouched(tmp_path: Path) -> None:
    """A failure half-way through writing (here: an object YAML cannot represent) discards the temporary
    folder; the previous dist/ stays as it was."""
    outdir = _outdir(tmp_path)
    fine = Manifest(Area.SETUP, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}})
    broken = Manifest(
        Area.VAULT, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}, "x": object()}
    )
    with pytest.raises(yaml.representer.RepresenterError):
        write([fine, broken], outdir)
    _assert_untouched(tmp_path, outdir)


# -- the real command line -------------------------------------------------------------------------------

APP_CASES = [
    pytest.param(
        {"vault": {"replicas": 4}}, r"vault\.replicas: 'replicas' \(4\) must be odd for raft", id="even"
    ),
    pytest.param(
        {"vault": {"seal": {"type": "pkcs11"}}},
        r"vault\.seal: Input tag 'pkcs11' .*'shamir', 'transit'",
        id="seal",
    ),
    pytest.param(
        {"prometheus": {"storage_gib": 8, "retention_size_gib": 9}},
        r"prometheus: 'retention_size_gib' \(9\) must be < 'storage_gib' \(8\)",
        id="construct-time",
    ),
    pytest.param(  # the reviewer's reproduction of finding 6: CI logs never see the password
        {
            "loki": {
                "enabled": False,
                "external": {
                    "url": "https://admin:S3cr3tP4ss@loki.example.com",
                    "cidrs": ["198.51.100.0/24"],
                },
            }
        },
        r"loki\.external\.url: 'url' must not contain credentials \(user information before '@'",
        id="credentials",
    ),
]


@pytest.mark.parametrize(("settings", "match"), APP_CASES)
def test_app_exits_2_naming_the_setting_and_writes_nothing(
    settings: dict[str, Any], match: str, tmp_path: Path
) -> None:
    settings_file = tmp_path / "bad.yaml"
    settings_file.write_text(yaml.safe_dump(settings))
    outdir = _outdir(tmp_path)
    env = {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "VAULTAIO_SETTINGS": str(settings_file),
        "CDK8S_OUTDIR": str(outdir),
    }
    result = subprocess.run(
        [sys.executable, str(REPO / "app.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: "), result.stderr
    assert re.search(match, result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert "S3cr3tP4ss" not in result.stdout + result.stderr
    assert result.stdout in ("", f"settings: {settings_file} (from VAULTAIO_SETTINGS)\n"), result.stdout
    _assert_untouched(tmp_path, outdir, "bad.yaml")
