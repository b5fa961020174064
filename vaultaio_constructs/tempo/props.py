"""The settings of Tempo (``tempo`` in the settings file): its props and their checks, built by
:class:`vaultaio_constructs.tempo.construct.Tempo`. No jsii here: the settings import it without starting
Node.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.common import (
    PROPS_CONFIG,
    ExternalServiceProps,
    StatefulWorkloadProps,
    check_replacement,
)
from vaultaio_constructs.fielddocs import document_fields
from vaultaio_constructs.objectstore import AzureStorage, GcsStorage, S3Storage
from vaultaio_constructs.replication import AntiAffinity
from vaultaio_constructs.tempo.config import (
    TempoLogLevel,
)


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class TempoLocalStorage:
    """Blocks on the pod's PVC (default): one replica only."""

    type: Literal["local"] = Field(default="local", description="Selects this type: ``local``.")


#: Where Tempo keeps trace blocks, chosen by ``type``: ``local`` (default), ``s3``, ``gcs``, ``azure``.
TempoStorage = Annotated[
    TempoLocalStorage | S3Storage | GcsStorage | AzureStorage, Field(discriminator="type")
]


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class TempoExternalProps(ExternalServiceProps):
    """An existing Tempo used instead of the stack's own: ``url`` is its query API (``:3200``, what Grafana
    uses); spans go to ``otlp_grpc``."""

    otlp_grpc: ExternalServiceProps | None = Field(
        default=None,
        description=(
            "Its OTLP/gRPC receiver (a distributor): ``http://`` for plaintext gRPC, ``https://`` for TLS, "
            "with its own reach (labels or CIDRs, ports). ``None``: the host and reach of ``url`` on port "
            "4317, plaintext."
        ),
    )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class TempoProps(StatefulWorkloadProps):
    """Settings of Tempo. Defaults keep a week of traces on the profile's PVC size."""

    enabled: bool = Field(
        default=True,
        description=(
            "Run Tempo in the stack. ``False``: Alloy forwards spans to ``external`` and Grafana queries it; "
            "without one, Alloy's OTLP receiver and the Trace Explorer dashboard are left out."
        ),
    )
    external: TempoExternalProps | None = Field(
        default=None,
        description="An existing Tempo used instead of the stack's own (only with ``enabled: false``).",
    )

    retention_hours: Annotated[int, Field(ge=1)] = Field(
        default=168,
        description="Hours of traces kept (``compactor.compaction.block_retention``).",
    )
    metrics_generator: bool = Field(
        default=True,
        description=(
            "Generate service-graph and span-metric series when the stack wires Tempo to Prometheus "
            "(:meth:`Tempo.remote_write_to`); ``False`` keeps the metrics-generator off regardless."
        ),
    )
    log_level: TempoLogLevel = Field(default=TempoLogLevel.INFO, description="Tempo's own log level.")
    storage: TempoStorage = Field(
        default_factory=TempoLocalStorage,
        description=(
            "Block store: ``local`` (the PVC) or an object store (``s3``, ``gcs``, ``azure``), see "
            ":mod:`vaultaio_constructs.objectstore`."
        ),
    )
    replicas: Annotated[int, Field(ge=1, le=9)] = Field(
        default=1,
        description=(
            "Tempo pods; more than one runs ``scalable-single-binary`` with memberlist rings, keeps each "
            "span on ``min(replicas, 3)`` ingesters and needs object storage."
        ),
    )
    anti_affinity: AntiAffinity = Field(
        default=AntiAffinity.REQUIRED,
        description=(
            "With replicas, how strictly pods are kept on different nodes (``required`` needs as many nodes)."
        ),
    )

    def __post_init__(self) -> None:
        check_replacement("Tempo", self.enabled, self.external)
        if self.replicas > 1 and isinstance(self.storage, TempoLocalStorage):
            raise ValueError(
                f"'replicas' ({self.replicas}) needs object storage: set 'storage.type' to s3, gcs or azure "
                "(local blocks live on one pod's volume, which no other replica can read)"
            )
