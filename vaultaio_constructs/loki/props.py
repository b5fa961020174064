"""The settings of Loki (``loki`` in the settings file): its props and their checks, built by
:class:`vaultaio_constructs.loki.construct.Loki`. No jsii here: the settings import it without starting
Node.
"""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.common import (
    PROPS_CONFIG,
    ExternalBasicAuth,
    ExternalServiceProps,
    SecretKeyRef,
    SecretRef,
    StatefulWorkloadProps,
    check_ca_needs_https,
    check_replacement,
    client_secret_keys,
)
from vaultaio_constructs.fielddocs import document_fields
from vaultaio_constructs.loki.config import (
    LokiDeletionMode,
    LokiLogLevel,
)
from vaultaio_constructs.objectstore import AzureStorage, GcsStorage, S3Storage
from vaultaio_constructs.replication import AntiAffinity


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class LokiFilesystemStorage:
    """Chunks and index on the pod's PVC (default): one replica only."""

    type: Literal["filesystem"] = Field(
        default="filesystem", description="Selects this type: ``filesystem``."
    )


#: Where Loki keeps chunks and index, by ``type``: ``filesystem`` (default), ``s3``, ``gcs``, ``azure``.
LokiStorage = Annotated[
    LokiFilesystemStorage | S3Storage | GcsStorage | AzureStorage, Field(discriminator="type")
]


#: Characters Loki accepts in a tenant ID (``pkg/tenant``), at most 150 of them.
_TENANT_ID = re.compile(r"^[A-Za-z0-9!\-_.*'()]{1,150}$")


def check_tenant_id(value: str) -> str:
    if not _TENANT_ID.fullmatch(value) or value in (".", ".."):
        raise ValueError(
            f"{value!r} is not a Loki tenant ID: 1-150 letters, digits and !-_.*'() (not '.' or '..')"
        )
    return value


#: Where the Secrets of ``loki.external`` must exist: Secrets are namespaced, and each consumer mounts them in
#: its own namespace.
EXTERNAL_SECRETS_NAMESPACES: Final = (
    "in every namespace whose pods use it: the stack's namespace (Grafana) and the node namespace (Alloy, "
    "``<namespace>-node`` unless ``node_namespace`` says otherwise), under the same name and key"
)


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class LokiExternalProps(ExternalServiceProps):
    """An existing Loki used instead of the stack's own: ``url`` is its base (a gateway that serves both
    push and query, such as the Loki chart's ``loki-gateway``). Alloy (push) and Grafana (queries) use the
    same tenant, credentials and CA; the audit-log alert rule stays with the stack's own Loki's ruler."""

    tenant_id: Annotated[str, AfterValidator(check_tenant_id)] | None = Field(
        default=None,
        description=(
            "Tenant the logs are pushed to and queried from (``X-Scope-OrgID``), for a Loki with "
            "``auth_enabled: true`` (the Loki Helm chart's default). ``None``: no tenant header."
        ),
    )
    basic_auth: ExternalBasicAuth | None = Field(
        default=None,
        description=(
            "HTTP basic authentication (``username`` and a ``password`` Secret reference, "
            + EXTERNAL_SECRETS_NAMESPACES
            + ") for a Loki behind an authenticating gateway; with an ``http://`` URL the password crosses "
            "the network in clear text (prefer ``https://``). ``None``: no credentials are sent."
        ),
    )
    ca: SecretRef | None = Field(
        default=None,
        description=(
            "Secret key holding the PEM CA bundle that verifies an ``https`` ``url`` (a private CA), "
            + EXTERNAL_SECRETS_NAMESPACES
            + ". Needs an ``https://`` URL. ``None``: the consumers' system CAs."
        ),
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_ca_needs_https("Loki", self.url, self.ca)

    def secrets(self) -> tuple[SecretKeyRef, ...]:
        """Every Secret key the consumers read as a file."""
        return client_secret_keys(self.basic_auth, self.ca)


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class LokiProps(StatefulWorkloadProps):
    """Settings of Loki. Defaults keep two weeks of logs on the profile's PVC size."""

    enabled: bool = Field(
        default=True,
        description=(
            "Run Loki in the stack. ``False``: Alloy pushes logs to ``external`` and Grafana queries it; "
            "without one, no logs are shipped and the log dashboards and the audit-log alert are left out."
        ),
    )
    external: LokiExternalProps | None = Field(
        default=None,
        description="An existing Loki used instead of the stack's own (only with ``enabled: false``).",
    )

    retention_days: Annotated[int, Field(ge=1)] = Field(
        default=14,
        description="Days of logs kept; the compactor deletes older chunks.",
    )
    ingestion_rate_mb: Annotated[float, Field(gt=0)] = Field(
        default=8.0,
        description="Sustained push rate per tenant in MB/s (``ingestion_rate_mb``).",
    )
    ingestion_burst_size_mb: Annotated[float, Field(gt=0)] = Field(
        default=16.0,
        description="Burst allowance in MB (``ingestion_burst_size_mb``); must be >= the rate.",
    )
    max_global_streams: Annotated[int, Field(ge=1)] = Field(
        default=5000,
        description="Active streams allowed (``max_global_streams_per_user``).",
    )
    reject_old_samples_max_age_hours: Annotated[int, Field(ge=1)] = Field(
        default=168,
        description="Entries older than this many hours are refused; must fit in the retention.",
    )
    log_level: LokiLogLevel = Field(default=LokiLogLevel.INFO, description="Loki's own log level.")
    deletion_mode: LokiDeletionMode = Field(
        default=LokiDeletionMode.DISABLED,
        description=(
            "The log deletion API (``limits_config.deletion_mode``): ``disabled`` (default) refuses it, so "
            "no pod that reaches Loki (it has no authentication) can erase Vault's audit trail; "
            "``filter-only`` hides the lines a delete request matches, ``filter-and-delete`` also removes "
            "them from storage (Loki's own default). Retention deletes old logs either way."
        ),
    )
    storage: LokiStorage = Field(
        default_factory=LokiFilesystemStorage,
        description=(
            "Chunk and index store: ``filesystem`` (the PVC) or an object store (``s3``, ``gcs``, "
            "``azure``), see :mod:`vaultaio_constructs.objectstore`."
        ),
    )
    replicas: Annotated[int, Field(ge=1, le=9)] = Field(
        default=1,
        description=(
            "Loki pods; more than one shares a memberlist ring, replicates each write to ``min(replicas, "
            "3)`` ingesters and needs object storage. 3 survives one pod down; 2 keeps queries but not "
            "writes."
        ),
    )
    anti_affinity: AntiAffinity = Field(
        default=AntiAffinity.REQUIRED,
        description=(
            "With replicas, how strictly pods are kept on different nodes (``required`` needs as many nodes)."
        ),
    )

    def __post_init__(self) -> None:
        check_replacement("Loki", self.enabled, self.external)
        if self.replicas > 1 and isinstance(self.storage, LokiFilesystemStorage):
            raise ValueError(
                f"'replicas' ({self.replicas}) needs object storage: set 'storage.type' to s3, gcs or azure "
                "(filesystem chunks live on one pod's volume, which no other replica can read)"
            )
        if self.ingestion_burst_size_mb < self.ingestion_rate_mb:
            raise ValueError(
                f"'ingestion_burst_size_mb' ({self.ingestion_burst_size_mb}) must be >= "
                f"'ingestion_rate_mb' ({self.ingestion_rate_mb})"
            )
        if self.reject_old_samples_max_age_hours > self.retention_days * 24:
            raise ValueError(
                f"'reject_old_samples_max_age_hours' ({self.reject_old_samples_max_age_hours}) must be <= "
                f"'retention_days' * 24 ({self.retention_days * 24}): older entries would be accepted and "
                "deleted at once"
            )
