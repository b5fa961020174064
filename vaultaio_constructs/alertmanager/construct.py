"""Alertmanager: one instance on a PVC (silences and notification log survive restarts) that routes the
stack's alerts by severity to the receivers declared in settings.

Receiver credentials are Secret keys mounted as files (the config names the files, never the values); each
receiver's endpoint becomes an explicit egress rule to its CIDRs, the only traffic Alertmanager may send out
of the cluster. High-availability gossip is switched off (single replica): no cluster port is opened.

``alertmanager.enabled: false`` leaves it out; ``alertmanager.external`` names an existing Alertmanager
(:class:`ExternalAlertmanager`) that Prometheus, the Loki ruler and Grafana use instead.
"""

from __future__ import annotations

from typing import Annotated, Final, Protocol

from constructs import Construct
from pydantic import Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.alertmanager.config import (
    AlertmanagerConfigSettings,
    render_alertmanager_config,
)
from vaultaio_constructs.alerts import default_inhibit_rules
from vaultaio_constructs.alerts.model import duration_seconds
from vaultaio_constructs.common import PROPS_CONFIG, ExternalServiceProps, StatefulWorkloadProps
from vaultaio_constructs.component import Area, Component, refuse_disabled
from vaultaio_constructs.scrape import ScrapeTarget
from vaultaio_constructs.wiring import Endpoint, ExternalService, Target
from vaultaio_constructs.workload import (
    CONFIG_CHECKSUM_ANNOTATION,
    config_checksum,
    config_map,
    config_map_volume,
    container,
    http_probe,
    mount,
    pod_security_context,
    pod_template,
    secret_volume,
    service,
    service_account,
    stateful_set,
    storage_claim,
)

ALERTMANAGER_PORT: Final = 9093
#: The image's ``nobody`` user.
ALERTMANAGER_UID: Final = 65534
CONFIG_DIR: Final = "/etc/alertmanager"
CONFIG_FILE: Final = "alertmanager.yml"
SECRETS_DIR: Final = "/etc/alertmanager/secrets"
DATA_DIR: Final = "/alertmanager"
CONFIG_MAP_NAME: Final = "alertmanager-config"


@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class AlertmanagerProps(StatefulWorkloadProps):
    """Settings of the Alertmanager component."""

    #: Run Alertmanager in the stack. ``False``: Prometheus, the Loki ruler and Grafana use ``external``
    #: (required while either of the first two runs: their alerts need somewhere to go).
    enabled: bool = True
    #: An existing Alertmanager used instead of the stack's own (only with ``enabled: false``).
    external: ExternalServiceProps | None = None
    #: Hours silences and the notification log are kept after they expire; at least
    #: ``notifications.repeat_interval`` (a shorter log forgets notifications and repeats them early).
    data_retention_hours: Annotated[int, Field(ge=1)] = 120
    #: Receivers, severity routes and notification timing. The default routes every alert to the ``null``
    #: receiver: nothing leaves the cluster until receivers and routes are declared.
    notifications: AlertmanagerConfigSettings = Field(default_factory=AlertmanagerConfigSettings)

    def __post_init__(self) -> None:
        if self.enabled and self.external is not None:
            raise ValueError(
                "'external' replaces the stack's own Alertmanager: set 'enabled: false' to use it"
            )
        # Alertmanager forgets a notification after the retention, so it would repeat it sooner than asked
        # (it only logs a warning about this).
        repeat = self.notifications.repeat_interval
        if duration_seconds(repeat) > self.data_retention_hours * 3600:
            raise ValueError(
                f"'data_retention_hours' ({self.data_retention_hours}) must cover "
                f"'notifications.repeat_interval' ({repeat!r}): alertmanager forgets sent notifications "
                "after the retention and would repeat them sooner: raise the retention or shorten it"
            )


class AlertmanagerApi(Protocol):
    """What senders of alerts and Grafana need: the stack's :class:`Alertmanager` or an
    :class:`ExternalAlertmanager`."""

    @property
    def web(self) -> Target: ...


class ExternalAlertmanager:
    """An existing Alertmanager (``alertmanager.external``): its API is at the URL's path."""

    def __init__(self, props: ExternalServiceProps) -> None:
        #: API and UI; alerts are posted to ``<url>/api/v2/alerts``.
        self.web = ExternalService.from_props("alertmanager", props)


def _secret_volume_name(secret: str) -> str:
    return f"secret-{secret}"[:63].rstrip("-")


class Alertmanager(Component):
    """Alertmanager (alerting): StatefulSet on a PVC, severity routing, receivers from Secret files."""

    area = Area.MONITORING

    def __init__(self, scope: Construct, id: str, props: AlertmanagerProps | None = None) -> None:
        props = props or AlertmanagerProps()
        refuse_disabled("alertmanager", props.enabled)
        super().__init__(
            scope,
            id,
            name="alertmanager",
            role="alerting",
            image_tag=props.image_tag,
        )
        self.resources = self.resolve_resources(props.resources)
        self.storage_gib = self.resolve_storage_gib(props.storage_gib)
        self.data_retention_hours = props.data_retention_hours
        self.notifications = props.notifications

        #: API and UI, ``/metrics``; Prometheus and the Loki ruler send alerts here.
        self.web = self.endpoint(port_name="web", port=ALERTMANAGER_PORT)
        service_account(self)
        service(self, [self.web])
        for endpoint in self.notifications.endpoints():
            self.connect_external(endpoint, reason=f"send notifications to receiver {endpoint.name}")

    @property
    def web_endpoint(self) -> Endpoint:
        """Where alerts are sent and people open the UI."""
        return self.web

    @property
    def metrics_target(self) -> ScrapeTarget:
        return ScrapeTarget(job="alertmanager", endpoint=self.web)

    @property
    def config_text(self) -> str:
        """The rendered ``alertmanager.yml`` (no secret values: receivers read mounted files)."""
        return render_alertmanager_config(self.notifications, default_inhibit_rules(), SECRETS_DIR)

    def _secret_keys(self) -> dict[str, tuple[str, ...]]:
        keys: dict[str, set[str]] = {}
        for ref in self.notifications.secrets():
            keys.setdefault(ref.name, set()).add(ref.key)
        return {secret: tuple(sorted(keys[secret])) for secret in sorted(keys)}

    def finalize(self) -> None:
        """Render the configuration and create the StatefulSet."""
        config_text = self.config_text
        self.config_map = config_map(self, CONFIG_MAP_NAME, {CONFIG_FILE: config_text})
        checksum = config_checksum(config_text)
        secrets = self._secret_keys()
        alertmanager = container(
            name="alertmanager",
            image=self.image,
            resources=self.resources,
            ports=[self.web],
            args=[
                f"--config.file={CONFIG_DIR}/{CONFIG_FILE}",
                f"--storage.path={DATA_DIR}",
                f"--data.retention={self.data_retention_hours}h",
                f"--web.listen-address=:{ALERTMANAGER_PORT}",
                # Single replica: no gossip mesh, so no cluster port to open or protect.
                "--cluster.listen-address=",
            ],
            volume_mounts=[
                mount("config", CONFIG_DIR, read_only=True),
                mount("data", DATA_DIR),
                *(
                    mount(_secret_volume_name(secret), f"{SECRETS_DIR}/{secret}", read_only=True)
                    for secret in secrets
                ),
            ],
            readiness=http_probe("/-/ready", self.web.port_name),
            liveness=http_probe("/-/healthy", self.web.port_name, period_seconds=30, failure_threshold=5),
        )
        template = pod_template(
            self,
            containers=[alertmanager],
            security_context=pod_security_context(
                user=ALERTMANAGER_UID, group=ALERTMANAGER_UID, fs_group=ALERTMANAGER_UID
            ),
            volumes=[
                config_map_volume("config", CONFIG_MAP_NAME),
                *(
                    secret_volume(_secret_volume_name(secret), secret, {key: key for key in keys})
                    for secret, keys in secrets.items()
                ),
            ],
            annotations={CONFIG_CHECKSUM_ANNOTATION: checksum},
        )
        self.stateful_set = stateful_set(
            self,
            template=template,
            claims=[storage_claim(self, "data", self.storage_gib)],
            service_name=self.name,
        )
