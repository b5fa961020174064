"""The settings of Alertmanager (``alertmanager`` in the settings file): its props and their checks, built by
:class:`vaultaio_constructs.alertmanager.construct.Alertmanager`. No jsii here: the settings import it
without starting Node.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.alertmanager.config import (
    AlertmanagerConfigSettings,
)
from vaultaio_constructs.alerts.model import duration_seconds
from vaultaio_constructs.common import (
    PROPS_CONFIG,
    ExternalServiceProps,
    StatefulWorkloadProps,
    check_replacement,
)
from vaultaio_constructs.fielddocs import document_fields


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class AlertmanagerProps(StatefulWorkloadProps):
    """Settings of the Alertmanager component."""

    enabled: bool = Field(
        default=True,
        description=(
            "Run Alertmanager in the stack. ``False``: Prometheus, the Loki ruler and Grafana use "
            "``external`` (required while either of the first two runs: their alerts need somewhere to go)."
        ),
    )
    external: ExternalServiceProps | None = Field(
        default=None,
        description=(
            "An existing Alertmanager used instead of the stack's own (only with ``enabled: false``)."
        ),
    )
    data_retention_hours: Annotated[int, Field(ge=1)] = Field(
        default=120,
        description=(
            "Hours silences and the notification log are kept after they expire; at least "
            "``notifications.repeat_interval`` (a shorter log forgets notifications and repeats them early)."
        ),
    )
    notifications: AlertmanagerConfigSettings = Field(
        default_factory=AlertmanagerConfigSettings,
        description=(
            "Receivers, severity routes and notification timing. The default routes every alert to the "
            "``null`` receiver: nothing leaves the cluster until receivers and routes are declared."
        ),
    )
    replicas: Annotated[int, Field(ge=1, le=5)] = Field(
        default=1,
        description=(
            "Replicas: 1 (no gossip, no cluster port), or 2-5 forming a gossip cluster (3 is the usual "
            "choice: notifications keep flowing, deduplicated, while any one pod or node is down). Every "
            "replica gets every alert; the cluster shares silences and the notification log."
        ),
    )

    def __post_init__(self) -> None:
        check_replacement("Alertmanager", self.enabled, self.external)
        # Alertmanager forgets a notification after the retention, so it would repeat it sooner than asked
        # (it only logs a warning about this).
        repeat = self.notifications.repeat_interval
        if duration_seconds(repeat) > self.data_retention_hours * 3600:
            raise ValueError(
                f"'data_retention_hours' ({self.data_retention_hours}) must cover "
                f"'notifications.repeat_interval' ({repeat!r}): alertmanager forgets sent notifications "
                "after the retention and would repeat them sooner: raise the retention or shorten it"
            )
