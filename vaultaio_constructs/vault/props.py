"""Settings of the Vault component (``vault:`` in ``vaultaio.yaml``).

Every field has a working default except where only the operator can know the value (an Ingress host, a
KMS key); those live in optional sub-settings that are off until given.
"""

from __future__ import annotations

import itertools
import re
from enum import StrEnum
from typing import Annotated, Final

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.common import (
    PROPS_CONFIG,
    Cidr,
    DnsLabel,
    IngressProps,
    Resources,
    SecretKeyRef,
    Selector,
    StatefulWorkloadProps,
    StorageGib,
    has_control_characters,
)
from vaultaio_constructs.fielddocs import document_fields
from vaultaio_constructs.vault.config import LogLevel, check_replicas, check_retention
from vaultaio_constructs.vault.seals import Seal, ShamirSeal

_CRON_MACROS: Final = ("@hourly", "@daily", "@weekly", "@monthly", "@yearly")
#: The five fields of a standard cron schedule as the API server parses them: bounds and accepted names.
_CRON_FIELDS: Final = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    ("day of week", 0, 6, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
_CRON_ITEM = re.compile(r"^(?:(?P<any>[*?])|(?P<start>\w+)(?:-(?P<end>\w+))?)(?:/(?P<step>\d+))?$")
#: Prometheus scrapes at most every 300 s, and Vault refreshes its usage gauges (token, entity and secret
#: counts) every ``usage_gauge_period`` (10m, which this stack keeps).
_MIN_RETENTION_SECONDS: Final = 600


def _cron_value(value: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if value.lower() in names:
        return names.index(value.lower()) + low
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValueError(str(value))
    return int(value)


def check_schedule(value: str) -> str:
    """A cron schedule the Kubernetes API server accepts for a CronJob (five fields or an ``@`` macro)."""
    if value in _CRON_MACROS:
        return value
    fields = value.split()
    if len(fields) != 5 or has_control_characters(value):
        raise ValueError(
            f"'schedule' must be a cron schedule of 5 fields (minute hour day-of-month month day-of-week, "
            f"e.g. '0 3 * * *') or one of {', '.join(_CRON_MACROS)}, got {value!r}"
        )
    for text, (what, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for item in text.split(","):
            match = _CRON_ITEM.fullmatch(item)
            try:
                if match is None or match["step"] == "0":
                    raise ValueError(item)
                if match["start"] is not None:
                    start = _cron_value(match["start"], low, high, names)
                    end = _cron_value(match["end"], low, high, names) if match["end"] else start
                    if end < start:
                        raise ValueError(item)
            except ValueError:
                raise ValueError(
                    f"'schedule' {value!r} has an invalid {what} field {text!r}: use '*', numbers "
                    f"{low}-{high}{' or names' if names else ''}, ranges 'a-b', lists 'a,b' and steps '/n'"
                ) from None
    return value


#: The macros as the five fields they stand for.
_CRON_MACRO_FIELDS: Final = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
}


def _cron_values(text: str, low: int, high: int, names: tuple[str, ...]) -> frozenset[int]:
    """The values one (valid) cron field matches: lists, ranges, ``*`` and steps."""
    values: set[int] = set()
    for item in text.split(","):
        match = _CRON_ITEM.fullmatch(item)
        assert match is not None  # check_schedule accepted it
        step = int(match["step"] or 1)
        if match["any"]:
            start, end = low, high
        else:
            start = _cron_value(match["start"], low, high, names)
            end = (
                _cron_value(match["end"], low, high, names)
                if match["end"]
                else (high if match["step"] else start)
            )
        values.update(range(start, end + 1, step))
    return frozenset(values)


def cron_max_gap_minutes(schedule: str) -> int | None:
    """The longest time between two runs of a valid cron schedule, in minutes (``None``: runs less than
    twice in 8 years, e.g. only on February 29).

    Days follow the cron rule Kubernetes uses: when day of month and day of week are both restricted, a day
    matching either runs. Computed over 2024-2031 (two leap-year cycles), so every month length and weekday
    combination is seen.
    """
    import datetime

    fields = _CRON_MACRO_FIELDS.get(schedule, schedule).split()
    sets = [
        _cron_values(text, low, high, names)
        for text, (_, low, high, names) in zip(fields, _CRON_FIELDS, strict=True)
    ]
    minutes, hours, doms, months, dows = sets
    dom_any, dow_any = fields[2] in ("*", "?"), fields[4] in ("*", "?")
    times = sorted(h * 60 + m for h in hours for m in minutes)
    day = datetime.date(2024, 1, 1)
    days: list[int] = []
    for ordinal in range(day.toordinal(), datetime.date(2032, 1, 1).toordinal()):
        day = datetime.date.fromordinal(ordinal)
        if day.month not in months:
            continue
        dom_ok, dow_ok = day.day in doms, (day.isoweekday() % 7) in dows
        if (dom_ok and dow_ok) if (dom_any or dow_any) else (dom_ok or dow_ok):
            days.append(ordinal)
    if len(days) < 2 and not (days and len(times) > 1):
        return None
    within = max((b - a for a, b in itertools.pairwise(times)), default=0)
    between = (
        max((b - a) * 1440 - times[-1] + times[0] for a, b in itertools.pairwise(days))
        if len(days) > 1
        else 0
    )
    return max(within, between)


def check_retention_covers_scrapes(value: str) -> str:
    """At least :data:`_MIN_RETENTION_SECONDS`: Vault drops a series that was not updated for that long."""
    seconds = int(value[:-1]) * {"s": 1, "m": 60, "h": 3600}[value[-1]]
    if seconds < _MIN_RETENTION_SECONDS:
        raise ValueError(
            f"'prometheus_retention_time' ({value!r}) must be at least 10m: vault drops series not updated "
            "within it, and it updates its usage gauges every 10m (prometheus scrapes up to every 5m), so a "
            "shorter retention leaves gaps; use e.g. '24h'"
        )
    return value


class AntiAffinity(StrEnum):
    """How strictly HA pods are kept on different nodes."""

    #: Never two Vault pods on one node (a node failure costs at most one raft voter). Needs as many
    #: schedulable nodes as replicas.
    REQUIRED = "required"
    #: Spread when possible, co-locate when not (test clusters with fewer nodes than replicas).
    PREFERRED = "preferred"


class IssuerKind(StrEnum):
    """Which kind of cert-manager issuer signs Vault's certificate."""

    #: An Issuer in the stack's namespace.
    ISSUER = "Issuer"
    #: A cluster-wide ClusterIssuer.
    CLUSTER_ISSUER = "ClusterIssuer"


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class VaultTlsIssuerProps:
    """cert-manager issues Vault's certificate: a ``Certificate`` (named like the Secret) writes ``tls.crt``
    (chain, server certificate first), ``tls.key`` and ``ca.crt`` with exactly the names Vault's
    configuration uses (:func:`vaultaio_constructs.vault.config.tls_dns_names` and ``127.0.0.1``).

    The issuer must fill ``ca.crt`` (a CA, Vault or similar issuer; ACME issuers cannot issue ``.svc``
    names): Vault's ``retry_join``, Prometheus and Alloy verify Vault with it. With ``bootstrap`` the
    manifests carry the whole chain (self-signed Issuer ``vault-selfsigned`` -> CA Certificate ``vault-ca``
    -> CA Issuer ``name``), so no script is needed for TLS. cert-manager renews the certificate
    ``renew_before_hours`` before it expires; Vault 2.0 serves the new one after a ``SIGHUP`` (see
    docs/RUNBOOK.md, "Renew the Vault TLS certificate").
    """

    kind: IssuerKind = Field(default=IssuerKind.ISSUER, description="Kind of the issuer.")
    name: DnsLabel | None = Field(
        default=None,
        description=(
            "Name of the issuer (required unless ``bootstrap``; with ``bootstrap``: the CA Issuer created, "
            "default ``vault-ca``)."
        ),
    )
    bootstrap: bool = Field(
        default=False,
        description=(
            "Create a self-signed CA and an Issuer for it in the stack's namespace (``kind`` must be "
            "``Issuer``)."
        ),
    )
    duration_hours: Annotated[int, Field(ge=24, le=87600)] = Field(
        default=2160,
        description="Validity of Vault's certificate in hours (default 90 days).",
    )
    renew_before_hours: Annotated[int, Field(ge=1)] = Field(
        default=1080,
        description=(
            "Renew this many hours before expiry (default 45 days): more than the TLS expiry warning "
            "(``prometheus.alerts.thresholds.tls_cert_warning_days``), so an unreloaded Vault is caught in "
            "time."
        ),
    )

    def __post_init__(self) -> None:
        if self.bootstrap and self.kind is not IssuerKind.ISSUER:
            raise ValueError(
                "'kind' must be 'Issuer' with 'bootstrap' (the bootstrap CA lives in the stack's "
                f"namespace), got {self.kind.value!r}"
            )
        if not self.bootstrap and self.name is None:
            raise ValueError("'name' is required: the Issuer or ClusterIssuer that signs Vault's certificate")
        if self.renew_before_hours >= self.duration_hours:
            raise ValueError(
                f"'renew_before_hours' ({self.renew_before_hours}) must be < 'duration_hours' "
                f"({self.duration_hours})"
            )

    @property
    def issuer_name(self) -> str:
        """The issuer that signs Vault's certificate."""
        return self.name or "vault-ca"


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class VaultTlsProps:
    """TLS of Vault's listeners (on by default).

    Without ``issuer`` the Secret is created outside the manifests, by ``scripts/init-vault.sh
    --tls-self-signed`` (a local CA and a server certificate) or by your own tooling; with ``issuer``,
    cert-manager creates and renews it from a Certificate in the manifests. Pods do not start until it exists.
    """

    enabled: bool = Field(
        default=True,
        description="Serve TLS. ``False`` (plain HTTP on every listener) only for throwaway test clusters.",
    )
    secret_name: DnsLabel = Field(
        default="vault-tls",
        description=(
            "Secret with ``tls.crt`` (full chain, server certificate first), ``tls.key`` and ``ca.crt``."
        ),
    )
    issuer: VaultTlsIssuerProps | None = Field(
        default=None,
        description=(
            "cert-manager issues the certificate (``None``: the Secret comes from outside the manifests)."
        ),
    )

    def __post_init__(self) -> None:
        if self.issuer is not None and not self.enabled:
            raise ValueError("'issuer' needs TLS: remove it or set 'enabled: true'")


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class VaultIngressProps(IngressProps):
    """An Ingress for Vault's API and UI; created only when this block is present (a host is required).

    The Ingress terminates TLS with ``tls_secret_name`` (or the controller's default certificate) and talks
    HTTPS to Vault when Vault's TLS is on: for ingress-nginx the annotation
    ``nginx.ingress.kubernetes.io/backend-protocol: HTTPS`` is added; other controllers need their own
    annotation through ``annotations``. The NetworkPolicy admits the ingress controller (``network.
    ingress_controller``) to port 8200 only; the metrics listener stays unreachable from the Ingress.
    """


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class VaultBackupProps:
    """A CronJob that saves a raft snapshot to a PersistentVolumeClaim; created when this block is present.

    It runs the Vault image with a token that has only the ``backup`` policy, read from
    ``token_secret`` (env ``VAULT_TOKEN`` via ``secretKeyRef``), renews that token (use a periodic token so
    it never expires while the job runs), calls ``vault operator raft snapshot save`` on the active node
    through the ``vault-active`` Service (a standby does not forward snapshot requests: it redirects them),
    writes ``vault-raft-<UTC timestamp>.snap`` with a ``.sha256`` beside it and keeps the newest ``keep``.
    Create the token and Secret once::

        vault token create -policy=backup -period=768h -orphan -field=token \\
          | kubectl -n vault-aio create secret generic vault-backup-token --from-file=token=/dev/stdin

    The snapshot PVC lives beside Vault: copy snapshots off the cluster too (``scripts/backup.sh``).
    """

    schedule: Annotated[str, AfterValidator(check_schedule)] = Field(
        default="0 3 * * *",
        description="Cron schedule (UTC on most clusters).",
    )
    keep: Annotated[int, Field(ge=1, le=365)] = Field(
        default=7,
        description="Snapshots kept on the PVC (older ones are deleted after a successful snapshot).",
    )
    token_secret: SecretKeyRef = Field(
        default_factory=lambda: SecretKeyRef(name="vault-backup-token", key="token"),
        description="Secret key holding a token with the ``backup`` policy.",
    )
    storage_gib: StorageGib | None = Field(
        default=None,
        description="PVC size in GiB, at most 65536 (``None``: the profile's Vault data size).",
    )
    resources: Resources | None = Field(
        default=None,
        description="Container resources (``None``: the profile's ``backup`` row).",
    )


#: Client names the stack's own policies use (``allow-vault-from-<name>``): refused for ``clients``.
RESERVED_CLIENT_NAMES: Final = frozenset(
    {
        "ingress-controller",
        "vault",
        "vault-backup",
        "prometheus",
        "alertmanager",
        "grafana",
        "loki",
        "tempo",
        "alloy",
        "chrony",
    }
)


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class VaultClientProps:
    """Pods in other namespaces that may call Vault's API (port 8200 only, never the metrics listener or
    the cluster port): applications, the Vault Agent injector's agents, External Secrets, CSI providers.

    Each entry is one NetworkPolicy ``allow-vault-from-<name>`` on Vault's pods. Their own namespace's
    policies are theirs: a client namespace with default-deny egress also needs an egress rule to Vault's
    pods on 8200 (and DNS).
    """

    name: DnsLabel = Field(
        description="Short name, used in the NetworkPolicy name (``allow-vault-from-<name>``).",
    )
    namespace_labels: Selector = Field(
        description=(
            "Labels of the namespaces the clients run in (at least one label: never every namespace), e.g. "
            "``{kubernetes.io/metadata.name: shop}``."
        ),
    )
    pod_labels: Selector | None = Field(
        default=None,
        description=(
            "Labels of the client pods in those namespaces (``None``: every pod there; ``{}`` is refused)."
        ),
    )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class VaultProps(StatefulWorkloadProps):
    """Settings of the Vault component.

    Defaults: one raft voter, TLS from Secret ``vault-tls`` (created by ``scripts/init-vault.sh
    --tls-self-signed`` or by cert-manager), Shamir seal, no Ingress, no backup CronJob.
    """

    replicas: Annotated[int, AfterValidator(check_replicas)] = Field(
        default=1,
        description=(
            "Raft voters: 1, or 3/5 for HA (retry_join for every peer, anti-affinity, PodDisruptionBudget)."
        ),
    )
    tls: VaultTlsProps = Field(
        default_factory=VaultTlsProps,
        description="TLS of the listeners: on, from Secret ``vault-tls``.",
    )
    log_level: LogLevel = Field(default=LogLevel.INFO, description="Server log level.")
    prometheus_retention_time: Annotated[
        str, AfterValidator(check_retention), AfterValidator(check_retention_covers_scrapes)
    ] = Field(
        default="24h",
        description=(
            "How long Vault keeps an idle Prometheus series (a Go duration, at least 10m so that series "
            "updated every ``usage_gauge_period`` survive between scrapes)."
        ),
    )
    ui: bool = Field(default=True, description="Serve the web UI at ``/ui``.")
    seal: Seal = Field(
        default_factory=ShamirSeal,
        description=(
            "Seal: ``shamir`` (default) or an auto-unseal backend (``transit``, ``awskms``, ``gcpckms``, "
            "``azurekeyvault``), see :mod:`vaultaio_constructs.vault.seals`."
        ),
    )
    trusted_proxy_cidrs: tuple[Cidr, ...] = Field(
        default=(),
        description=(
            "Source CIDRs of the ingress controller pods whose ``X-Forwarded-For`` Vault trusts, so audit "
            "entries carry the real client address (empty: off)."
        ),
    )
    anti_affinity: AntiAffinity = Field(
        default=AntiAffinity.REQUIRED,
        description="How strictly HA pods are spread over nodes.",
    )
    termination_grace_period_seconds: Annotated[int, Field(ge=10, le=600)] = Field(
        default=30,
        description=(
            "Seconds Kubernetes waits after SIGTERM: Vault seals, steps down (an HA standby takes over) and "
            "flushes raft before exiting; the preStop pause of 5 s lets endpoints drop the pod first."
        ),
    )
    pki_role: DnsLabel = Field(
        default="vault-aio",
        description=(
            "PKI role the ``pki-issuer`` policy may issue from (``scripts/init-vault.sh --pki-role``)."
        ),
    )
    ingress: VaultIngressProps | None = Field(
        default=None,
        description="Optional Ingress for the API and UI.",
    )
    backup: VaultBackupProps | None = Field(
        default=None,
        description="Optional scheduled raft snapshots to a PVC.",
    )
    clients: tuple[VaultClientProps, ...] = Field(
        default=(),
        description=(
            "Pods in other namespaces that may call the API on 8200 (``[]``: only the stack's own components "
            "and, with ``ingress``, the ingress controller); one NetworkPolicy ``allow-vault-from-<name>`` "
            "each."
        ),
    )

    def __post_init__(self) -> None:
        names = [c.name for c in self.clients]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        reserved = sorted(set(names) & RESERVED_CLIENT_NAMES)
        if duplicates or reserved:
            raise ValueError(
                f"'clients' names must be unique and not one of the stack's own "
                f"({', '.join(sorted(RESERVED_CLIENT_NAMES))}): each is the policy allow-vault-from-<name>; "
                f"got {duplicates or reserved}"
            )
