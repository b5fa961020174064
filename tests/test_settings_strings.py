"""Every string setting refuses a trailing newline (which a ``$``-anchored ``re.match`` lets through).

``re.match(r"^...$", "x\\n")`` matches, and ``urlsplit`` silently drops newlines, so a value such as
``"ntp.corp.example\\n"`` once reached chrony.conf as two lines. The test walks the settings model
(:class:`VaultAioProps`, every nested props class and every tagged-union member) for each field that
holds a string (plain, optional, in a tuple, or a mapping's key or value), takes a valid value for it
from :data:`SAMPLES`, appends ``"\\n"`` and expects the settings to be refused, naming the setting and
showing the value. A string field added to the model without a sample fails
:func:`test_samples_cover_every_string_setting`, so the guarantee grows with the model.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import functools
import json
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vaultaio_constructs import versions
from vaultaio_constructs.settings import SettingsError, VaultAioProps, parse_settings


@functools.cache
def type_hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints`` of a props class, evaluated once (the walks below ask for the same
    classes at every leaf of every sample)."""
    return typing.get_type_hints(cls, include_extras=True)


#: Fields whose strings are free text by design and may hold newlines: annotation values are stored by
#: Kubernetes verbatim and some controllers read multi-line snippets from them.
FREE_TEXT = {"vault.ingress.annotations.{value}", "grafana.ingress.annotations.{value}"}

SECRET = {"name": "some-secret", "key": "some-key"}
CIDRS = ["198.51.100.0/24"]
INGRESS = {
    "host": "ui.example.com",
    "class_name": "nginx",
    "tls_secret_name": "ui-tls",
    "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "1m"},
}
EXTRA_EGRESS = [
    {"name": "metadata", "cidrs": ["169.254.169.254/32"], "port": 80, "address": "metadata.internal"}
]

#: Valid settings documents that together give every string field of the model a value (each tagged-union
#: member needs its own document, and so do mutually exclusive fields).
SAMPLES: list[dict[str, Any]] = [
    {
        "namespace": "vault-aio",
        "instance": "vault-aio",
        "cluster_domain": "cluster.local",
        "storage_class": "local-path",
        "kubernetes_version": "1.33",
        "network": {
            "dns": {"namespace": "kube-system", "pod_labels": {"k8s-app": "kube-dns"}},
            "kube_api": {"cidrs": ["10.0.0.1/32"]},
            "ingress_controller": {
                "namespace_labels": {"kubernetes.io/metadata.name": "ingress-nginx"},
                "pod_labels": {"app.kubernetes.io/name": "ingress-nginx"},
            },
        },
        "vault": {
            "image_tag": "2.0.4",
            "tls": {"secret_name": "vault-tls"},
            "prometheus_retention_time": "24h",
            "seal": {
                "type": "transit",
                "address": "https://unseal.example.com:8200",
                "key_name": "vault-aio",
                "mount_path": "transit/",
                "namespace": "ops",
                "token": SECRET,
                "tls_ca_cert": SECRET,
                "tls_server_name": "unseal.example.com",
                "egress_cidrs": CIDRS,
            },
            "trusted_proxy_cidrs": ["10.42.0.0/16"],
            "pki_role": "vault-aio",
            "clients": [
                {"name": "shop", "namespace_labels": {"team": "shop"}, "pod_labels": {"vault-client": "true"}}
            ],
            "ingress": INGRESS,
            "backup": {"schedule": "0 3 * * *", "token_secret": SECRET},
        },
        "prometheus": {
            "image_tag": "v3.14.0",
            "external_labels": {"cluster": "prod"},
            "alerts": {
                "thresholds": {
                    "sealed_for": "1m",
                    "no_active_node_for": "2m",
                    "target_down_for": "5m",
                    "ignored_fstypes_regex": "tmpfs|overlay",
                    "kubelet_volume_mountpoint_regex": "/var/lib/kubelet/pods/.+/volumes/.+",
                },
                "runbook_base_url": "https://wiki.example.com/vault/RUNBOOK.md",
            },
        },
        "alertmanager": {
            "image_tag": "v0.34.0",
            "notifications": {
                "webhook_receivers": [
                    {
                        "name": "hook",
                        "url": "https://hooks.example.com/a",
                        "cidrs": CIDRS,
                        "bearer_token": SECRET,
                    },
                    {"name": "chat-hook", "url_secret": SECRET, "host": "chat.example.com", "cidrs": CIDRS},
                ],
                "email_receivers": [
                    {
                        "name": "mail",
                        "to": "ops@example.com",
                        "from_address": "vault@example.com",
                        "smarthost": "smtp.example.com",
                        "cidrs": CIDRS,
                        "auth_username": "vault",
                        "auth_password": SECRET,
                    }
                ],
                "slack_receivers": [
                    {
                        "name": "chat",
                        "api_url": SECRET,
                        "cidrs": CIDRS,
                        "channel": "#vault",
                        "host": "hooks.slack.com",
                    }
                ],
                "pagerduty_receivers": [
                    {"name": "pager", "routing_key": SECRET, "cidrs": CIDRS, "host": "events.pagerduty.com"}
                ],
                "routes": [{"severities": ["critical"], "receiver": "pager"}],
                "group_wait": "30s",
                "group_interval": "5m",
                "repeat_interval": "4h",
                "resolve_timeout": "5m",
            },
        },
        "grafana": {
            "image_tag": "13.2.0",
            "admin_secret_name": "grafana-admin",
            "root_url": "https://grafana.example.com/",
            "ingress": INGRESS,
            "home_dashboard": "vault-overview",
        },
        "loki": {"image_tag": "3.7.6"},
        "tempo": {"image_tag": "2.10.8"},
        "alloy": {
            "image_tag": "v1.18.1",
            "otlp_clients": [
                {"name": "apps", "namespace_labels": {"team": "apps"}, "pod_labels": {"traced": "true"}}
            ],
            "varlog_globs": ["/var/log/*.log"],
        },
        "chrony": {
            "image_tag": "4.8",
            "servers": [{"name": "corp", "address": "ntp.example.com", "cidrs": ["192.0.2.0/24"]}],
        },
    },
    {
        "vault": {
            "seal": {
                "type": "awskms",
                "region": "eu-west-1",
                "kms_key_id": "alias/vault",
                "endpoint": "https://vpce-1.kms.eu-west-1.vpce.amazonaws.com",
                "access_key_id": SECRET,
                "secret_access_key": SECRET,
                "egress_cidrs": CIDRS,
                "extra_egress": EXTRA_EGRESS,
            }
        }
    },
    {
        "vault": {
            "seal": {
                "type": "awskms",
                "region": "eu-west-1",
                "kms_key_id": "alias/vault",
                "role_arn": "arn:aws:iam::123456789012:role/vault",
                "egress_cidrs": CIDRS,
            }
        }
    },
    {
        "vault": {
            "seal": {
                "type": "gcpckms",
                "project": "acme",
                "region": "europe-west1",
                "key_ring": "vault",
                "crypto_key": "unseal",
                "credentials": SECRET,
                "egress_cidrs": CIDRS,
                "extra_egress": EXTRA_EGRESS,
            }
        }
    },
    {
        "vault": {
            "seal": {
                "type": "gcpckms",
                "project": "acme",
                "key_ring": "vault",
                "crypto_key": "unseal",
                "gcp_service_account": "vault@acme.iam.gserviceaccount.com",
                "egress_cidrs": CIDRS,
            }
        }
    },
    {
        "vault": {
            "seal": {
                "type": "azurekeyvault",
                "tenant_id": "00000000-0000-0000-0000-000000000001",
                "vault_name": "acme-vault",
                "key_name": "unseal",
                "client_id": "00000000-0000-0000-0000-000000000002",
                "client_secret": SECRET,
                "environment": "AZUREPUBLICCLOUD",
                "resource": "vault.azure.net",
                "egress_cidrs": CIDRS,
                "extra_egress": EXTRA_EGRESS,
            }
        }
    },
]


DATABASE = {
    "host": "grafana-db.example.internal",
    "name": "grafana",
    "user": SECRET,
    "password": SECRET,
    "ca": SECRET,
    "client_cert": SECRET,
    "client_key": SECRET,
    "cidrs": CIDRS,
}
SAMPLES[0]["node_namespace"] = "vault-aio-node"


def _external(url: str, *, inside: bool) -> dict[str, Any]:
    """An external service's settings, reached inside the cluster (labels) or outside it (CIDRs)."""
    if inside:
        return {
            "url": url,
            "namespace_labels": {"kubernetes.io/metadata.name": "monitoring"},
            "pod_labels": {"app.kubernetes.io/name": "store"},
        }
    return {"url": url, "cidrs": CIDRS}


#: Every component replaced by an existing one, reached inside the cluster and then outside it.
SAMPLES += [
    {
        "prometheus": {
            "enabled": False,
            "external": {
                **_external("http://prom.monitoring.svc:9090", inside=inside),
                "remote_write_path": "/api/v1/push",
            },
        },
        "alertmanager": {
            "enabled": False,
            "external": _external("http://am.monitoring.svc:9093", inside=inside),
        },
        "loki": {
            "enabled": False,
            "external": {
                **_external("https://loki.monitoring.svc", inside=inside),
                "tenant_id": "vault-aio",
                "basic_auth": {"username": "vault-aio", "password": SECRET},
                "ca": SECRET,
            },
        },
        "tempo": {
            "enabled": False,
            "external": {
                **_external("http://tempo.monitoring.svc:3200", inside=inside),
                "otlp_grpc": _external("https://tempo-distributor.monitoring.svc:4317", inside=inside),
            },
        },
    }
    for inside in (True, False)
]
#: A Prometheus with credentials and a CA, which Grafana queries and Alloy and Tempo remote-write to.
SAMPLES.append(
    {
        "prometheus": {
            "enabled": False,
            "external": {
                **_external("https://prom.monitoring.svc:8443", inside=True),
                "basic_auth": {"username": "vault-aio", "password": SECRET},
                "ca": SECRET,
            },
        },
    }
)
SAMPLES[0]["grafana"].update(database={"type": "postgres", **DATABASE}, secret_key=SECRET)
SAMPLES.append({"grafana": {"database": {"type": "mysql", **DATABASE}, "secret_key": SECRET}})
# cert-manager for Vault's TLS, the dashboards' sidecar labels, and custom resources for a cluster Prometheus
MONITORING_NS = {"kubernetes.io/metadata.name": "monitoring"}
SAMPLES.append(
    {
        "vault": {"tls": {"issuer": {"kind": "ClusterIssuer", "name": "corp-ca"}}},
        "grafana": {
            "dashboard_sidecar": {
                "label_key": "grafana_dashboard",
                "label_value": "1",
                "folder_annotation": "k8s-sidecar-target-directory",
                "folder": "Platform/Vault",
            }
        },
        "monitoring": {
            "prometheus_operator": {
                "name": "cluster-prometheus",
                "resource_labels": {"release": "kube-prometheus-stack"},
                "prometheus_namespace_labels": MONITORING_NS,
                "prometheus_pod_labels": {"app.kubernetes.io/name": "prometheus"},
                "blackbox_probe": {
                    "prober_url": "blackbox-exporter.monitoring.svc:9115",
                    "module": "vault_tls",
                    "namespace_labels": MONITORING_NS,
                    "pod_labels": {"app.kubernetes.io/name": "prometheus-blackbox-exporter"},
                },
            }
        },
    }
)
SAMPLES[0]["prometheus"].update(
    replicas=2,
    replica_label="prometheus_replica",
    remote_write=[
        {
            "name": "mimir",
            "url": "https://mimir.example.com/api/v1/push",
            "cidrs": CIDRS,
            "headers": {"X-Scope-OrgID": "vault-aio"},
            "secret_headers": {"X-Api-Key": SECRET},
            "tls": {"ca": SECRET, "cert": SECRET, "key": SECRET, "server_name": "mimir.example.com"},
            "write_relabel_configs": [
                {
                    "action": "replace",
                    "source_labels": ["__name__"],
                    "separator": ";",
                    "regex": "go_(.*)",
                    "target_label": "runtime",
                    "replacement": "$1",
                }
            ],
        }
    ],
)

# Loki's and Tempo's object stores: one document per tagged-union member and credential source
OBJECT_STORES: list[dict[str, Any]] = [
    {
        "type": "s3",
        "bucket": "observability",
        "region": "us-east-1",
        "endpoint": "minio.example.com:9000",
        "force_path_style": True,
        "ca": SECRET,
        "access_key_id": SECRET,
        "secret_access_key": SECRET,
        "egress_cidrs": CIDRS,
        "extra_egress": EXTRA_EGRESS,
    },
    {
        "type": "s3",
        "bucket": "observability",
        "region": "eu-west-1",
        "role_arn": "arn:aws:iam::123456789012:role/observability",
        "egress_cidrs": CIDRS,
    },
    {
        "type": "gcs",
        "bucket": "observability",
        "credentials": SECRET,
        "egress_cidrs": CIDRS,
        "extra_egress": EXTRA_EGRESS,
    },
    {
        "type": "gcs",
        "bucket": "observability",
        "gcp_service_account": "observability@acme.iam.gserviceaccount.com",
        "egress_cidrs": CIDRS,
    },
    {
        "type": "azure",
        "account_name": "acmeobs",
        "container": "observability",
        "account_key": SECRET,
        "endpoint_suffix": "blob.core.windows.net",
        "egress_cidrs": CIDRS,
        "extra_egress": EXTRA_EGRESS,
    },
    {
        "type": "azure",
        "account_name": "acmeobs",
        "container": "observability",
        "workload_identity": True,
        "client_id": "00000000-0000-0000-0000-000000000001",
        "egress_cidrs": CIDRS,
    },
]
SAMPLES += [{"loki": {"storage": store}, "tempo": {"storage": store}} for store in OBJECT_STORES]

# every component's image can be pinned by digest and pulled from another repository
for _component in versions.IMAGES:
    SAMPLES[0][_component].update(
        image_digest="sha256:" + "0" * 64, image_repository=f"registry.example.com/mirror/{_component}"
    )


@dataclasses.dataclass(frozen=True)
class Leaf:
    """One string in a settings document: where it is in the model and in the data."""

    #: Model path: field names, ``<tag>`` members named by their ``type``, ``[]`` for items, ``{key}`` or
    #: ``{value}`` for mapping entries (what :func:`model_string_paths` yields).
    model_path: str
    #: Path of keys and indexes into the document.
    data_path: tuple[str | int, ...]
    #: ``True``: the string is a mapping key (the entry's key is replaced), else a value.
    is_key: bool
    #: The containing settings object (dot path, as error messages print it) and the field name.
    owner: str
    field: str


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _members(tp: Any) -> list[Any]:
    """The non-None alternatives of a union (or ``[tp]``)."""
    tp = _unwrap(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [_unwrap(a) for a in typing.get_args(tp) if a is not type(None)]
    return [tp]


def _tag(cls: Any) -> str | None:
    field = getattr(cls, "__pydantic_fields__", {}).get("type")  # dataclasses.fields() holds the FieldInfo
    return field.default if field is not None and isinstance(field.default, str) else None


def _is_str(tp: Any) -> bool:
    tp = _unwrap(tp)
    return tp is str


def model_string_paths(tp: Any, path: str = "") -> Iterator[str]:
    """Every place in the model that holds a string."""
    for member in _members(tp):
        origin = typing.get_origin(member)
        if dataclasses.is_dataclass(member):
            tag = _tag(member)
            base = f"{path}.<{tag}>" if tag and len(_members(tp)) > 1 else path
            hints = type_hints(member)
            for f in dataclasses.fields(member):
                yield from model_string_paths(hints[f.name], f"{base}.{f.name}".lstrip("."))
        elif origin in (tuple, list):
            for item in typing.get_args(member):
                if item is not Ellipsis:
                    yield from model_string_paths(item, f"{path}.[]")
        elif origin is dict:
            key, value = typing.get_args(member)
            yield from model_string_paths(key, f"{path}.{{key}}")
            yield from model_string_paths(value, f"{path}.{{value}}")
        elif isinstance(member, type) and issubclass(member, enum.Enum):
            continue
        elif _is_str(member):
            yield path


def string_leaves(
    data: Any,
    tp: Any,
    path: str = "",
    data_path: tuple[str | int, ...] = (),
    shown: tuple[str, ...] = (),
    owner: tuple[str, str] = ("", ""),
) -> Iterator[Leaf]:
    """Every string in ``data`` (a settings document for ``tp``), with its place in the model.

    ``shown`` is the location as error messages print it (a tagged-union member adds its tag).
    """
    for member in _members(tp):
        origin = typing.get_origin(member)
        if dataclasses.is_dataclass(member) and isinstance(data, dict):
            tag = _tag(member)
            if tag is not None and data.get("type", tag) != tag:
                continue  # another member of the tagged union
            several = tag is not None and len(_members(tp)) > 1
            base = f"{path}.<{tag}>" if several else path
            here = (*shown, str(tag)) if several else shown
            hints = type_hints(member)
            for f in dataclasses.fields(member):
                if f.name in data:
                    yield from string_leaves(
                        data[f.name],
                        hints[f.name],
                        f"{base}.{f.name}".lstrip("."),
                        (*data_path, f.name),
                        (*here, f.name),
                        (".".join(here), f.name),
                    )
            return
        if origin in (tuple, list) and isinstance(data, list):
            (item,) = [a for a in typing.get_args(member) if a is not Ellipsis]
            for i, value in enumerate(data):
                yield from string_leaves(value, item, f"{path}.[]", (*data_path, i), (*shown, str(i)), owner)
            return
        if origin is dict and isinstance(data, dict):
            _, value_type = typing.get_args(member)
            for key, value in data.items():
                yield Leaf(f"{path}.{{key}}", (*data_path, key), True, *owner)
                yield from string_leaves(
                    value, value_type, f"{path}.{{value}}", (*data_path, key), (*shown, key), owner
                )
            return
        if _is_str(member) and isinstance(data, str):
            yield Leaf(path, data_path, False, *owner)
            return


def _leaves() -> list[tuple[int, Leaf]]:
    return [(i, leaf) for i, doc in enumerate(SAMPLES) for leaf in string_leaves(doc, VaultAioProps)]


def _with_newline(doc: dict[str, Any], leaf: Leaf) -> tuple[dict[str, Any], str]:
    """A copy of ``doc`` with ``"\\n"`` appended to the leaf's string; returns it and the bad string."""
    bad = json.loads(json.dumps(doc))  # a copy without shared sub-objects (deepcopy keeps them shared)
    parent: Any = bad
    for part in leaf.data_path[:-1]:
        parent = parent[part]
    last = leaf.data_path[-1]
    if leaf.is_key:
        assert isinstance(last, str)
        parent[last + "\n"] = parent.pop(last)
        return bad, last + "\n"
    parent[last] = parent[last] + "\n"
    return bad, parent[last]


def test_samples_are_valid() -> None:
    for doc in SAMPLES:
        parse_settings(doc, "sample")


def test_samples_cover_every_string_setting() -> None:
    wanted = set(model_string_paths(VaultAioProps))
    covered = {leaf.model_path for _, leaf in _leaves()}
    missing = sorted(wanted - covered - FREE_TEXT)
    assert len(wanted) > 100, "the model walk found too few string settings"
    assert not missing, f"give these string settings a valid value in SAMPLES: {missing}"


@pytest.mark.parametrize(
    ("index", "leaf"),
    [
        pytest.param(i, leaf, id=f"{i}:{leaf.model_path}")
        for i, leaf in _leaves()
        if leaf.model_path not in FREE_TEXT
    ],
)
def test_trailing_newline_is_refused_naming_the_setting(index: int, leaf: Leaf) -> None:
    bad, value = _with_newline(SAMPLES[index], leaf)
    with pytest.raises(SettingsError) as raised:
        parse_settings(bad, "sample")
    message = str(raised.value)
    assert leaf.field in message, message
    if leaf.owner:
        assert f"  {leaf.owner}" in message, message
    # the value is shown (as its repr, so the newline is visible)
    assert json.dumps(value)[1:-1].replace('"', "'") in message or repr(value)[1:-1] in message, message


def test_free_text_fields_still_accept_newlines() -> None:
    doc = copy.deepcopy(SAMPLES[0])
    doc["vault"]["ingress"]["annotations"]["nginx.ingress.kubernetes.io/configuration-snippet"] = "a;\nb;\n"
    parse_settings(doc, "sample")


def test_no_validator_uses_a_prefix_match() -> None:
    """``re.match`` and ``pattern.match`` stop at the end of the pattern, and ``$`` also matches before a
    final newline: validators use ``fullmatch`` (pydantic's ``pattern=`` runs Rust's regex engine, whose
    ``$`` is the end of the text)."""
    package = Path(__file__).resolve().parent.parent / "vaultaio_constructs"
    found = [
        f"{path.relative_to(package)}:{number}: {line.strip()}"
        for path in sorted(package.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\.match\(", line)
    ]
    assert not found, found
