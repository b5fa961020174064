"""The settings of Prometheus (``prometheus`` in the settings file): its props and their checks, built by
:class:`vaultaio_constructs.prometheus.construct.Prometheus`. No jsii here: the settings import it without
starting Node.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.alerts import AlertSettings
from vaultaio_constructs.common import (
    PROPS_CONFIG,
    ExternalBasicAuth,
    ExternalServiceProps,
    SecretKeyRef,
    SecretRef,
    StatefulWorkloadProps,
    StorageGib,
    check_ca_needs_https,
    check_replacement,
    client_secret_keys,
    has_control_characters,
)
from vaultaio_constructs.fielddocs import document_fields
from vaultaio_constructs.prometheus.config import (
    _LABEL_NAME,
    REMOTE_WRITE_PATH,
)
from vaultaio_constructs.prometheus.remote_write import (
    LabelName,
    RemoteWrite,
    check_remote_writes,
)


def _check_absolute_path(value: str) -> str:
    if (
        not value.startswith("/")
        or "?" in value
        or "#" in value
        or has_control_characters(value)
        or " " in value
    ):
        raise ValueError(
            f"must be an absolute URL path such as /api/v1/write, without spaces or control characters, "
            f"got {value!r}"
        )
    return value


#: Where the Secrets of ``prometheus.external`` must exist: Secrets are namespaced, and each client mounts
#: them in its own namespace.
EXTERNAL_SECRETS_NAMESPACE: Final = (
    "in every namespace whose pods use it: the stack's namespace (Grafana's queries, and Tempo's "
    "metrics-generator when ``tempo.metrics_generator`` is on) and, when ``alloy.ship_metrics`` is on, the "
    "node namespace (Alloy, ``<namespace>-node`` unless ``node_namespace`` says otherwise), under the same "
    "name and key; Alloy and Tempo read the files on every remote-write request, Grafana when it starts"
)


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class PrometheusExternalProps(ExternalServiceProps):
    """An existing Prometheus (or a compatible store) used instead of the stack's own. ``url`` is its query
    API base (what Grafana uses); it must accept remote write (Prometheus:
    ``--web.enable-remote-write-receiver``; kube-prometheus-stack: ``enableRemoteWriteReceiver: true``)."""

    remote_write_path: Annotated[str, AfterValidator(_check_absolute_path)] = Field(
        default=REMOTE_WRITE_PATH,
        description="Path of the remote-write receiver on the URL's host and port (Mimir: ``/api/v1/push``).",
    )
    basic_auth: ExternalBasicAuth | None = Field(
        default=None,
        description=(
            "HTTP basic authentication (``username`` and a ``password`` Secret reference, "
            + EXTERNAL_SECRETS_NAMESPACE
            + ") for a Prometheus behind an authenticating gateway (Mimir, Thanos, Cortex, an ingress); "
            "Grafana's queries and the remote-writes of Alloy and Tempo's metrics-generator send it. With an "
            "``http://`` URL the password crosses the network in clear text (prefer ``https://``). ``None``: "
            "no credentials are sent."
        ),
    )
    ca: SecretRef | None = Field(
        default=None,
        description=(
            "Secret key holding the PEM CA bundle that verifies an ``https`` ``url`` (a private CA), "
            + EXTERNAL_SECRETS_NAMESPACE
            + ". Needs an ``https://`` URL; like ``basic_auth``, Grafana's queries and Alloy's and Tempo's "
            "remote-writes use it. ``None``: the clients' system CAs."
        ),
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_ca_needs_https("Prometheus", self.url, self.ca)

    def secrets(self) -> tuple[SecretKeyRef, ...]:
        """Every Secret key the clients (Grafana, Alloy, Tempo) read as a file."""
        return client_secret_keys(self.basic_auth, self.ca)


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class PrometheusProps(StatefulWorkloadProps):
    """Settings of the Prometheus component."""

    enabled: bool = Field(
        default=True,
        description=(
            "Run Prometheus in the stack. ``False``: Alloy and Tempo remote-write to ``external`` and "
            "Grafana queries it (Grafana needs one of the two)."
        ),
    )
    external: PrometheusExternalProps | None = Field(
        default=None,
        description="An existing Prometheus used instead of the stack's own (only with ``enabled: false``).",
    )
    retention_days: Annotated[int, Field(ge=1)] = Field(default=15, description="Days of samples kept.")
    retention_size_gib: StorageGib | None = Field(
        default=None,
        description=(
            "TSDB size in GiB at which the oldest blocks are deleted even before ``retention_days`` "
            "(``None``: 80% of the PVC, leaving room for the WAL and compaction). Must be below "
            "``storage_gib``."
        ),
    )
    scrape_interval_seconds: Annotated[int, Field(ge=5, le=300)] = Field(
        default=30,
        description="Default scrape interval in seconds.",
    )
    evaluation_interval_seconds: Annotated[int, Field(ge=5, le=300)] = Field(
        default=30,
        description="Rule evaluation interval in seconds.",
    )
    external_labels: dict[str, str] = Field(
        default_factory=dict,
        description=(
            'Labels added to every series and alert leaving this Prometheus (e.g. ``{"cluster": "prod"}``).'
        ),
    )
    alerts: AlertSettings = Field(
        default_factory=AlertSettings,
        description="Alert thresholds and the RUNBOOK base URL of every alert's ``runbook_url``.",
    )
    replicas: Annotated[int, Field(ge=1, le=3)] = Field(
        default=1,
        description=(
            "Identical, independent servers: 1, or 2 for an HA pair (3 allowed). Each replica scrapes "
            "everything, receives every agent's samples, evaluates every rule and alerts every Alertmanager; "
            "see the module docstring for what the pair adds."
        ),
    )
    replica_label: LabelName = Field(
        default="replica",
        description=(
            "External label holding the pod name when ``replicas`` > 1 (what Thanos deduplicates on; Mimir's "
            "HA tracker expects ``__replica__``). Dropped from alerts so Alertmanager sees one alert, not "
            "two."
        ),
    )
    remote_write: tuple[RemoteWrite, ...] = Field(
        default=(),
        description="Long-term stores every sample is also sent to (``[]``: none); see :mod:`.remote_write`.",
    )

    def __post_init__(self) -> None:
        check_replacement("Prometheus", self.enabled, self.external)
        for name in self.external_labels:
            if not _LABEL_NAME.fullmatch(name):
                raise ValueError(
                    f"'external_labels' key {name!r} is not a valid label name: use letters, digits and '_', "
                    "not starting with a digit"
                )
        for name, value in self.external_labels.items():
            if not value or has_control_characters(value):
                raise ValueError(
                    f"'external_labels' value of {name!r} must be non-empty text without newlines or other "
                    f"control characters, got {value!r}"
                )
        if self.replicas > 1 and self.replica_label in self.external_labels:
            raise ValueError(
                f"'replica_label' ({self.replica_label!r}) is also a key of 'external_labels': with "
                f"{self.replicas} replicas it holds each pod's name, choose another 'replica_label'"
            )
        check_remote_writes(self.remote_write)
