"""The settings of Grafana (``grafana`` in the settings file): its props and their checks, built by
:class:`vaultaio_constructs.grafana.construct.Grafana`. No jsii here: the settings import it without
starting Node.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.common import (
    PROPS_CONFIG,
    DnsLabel,
    IngressProps,
    SecretRef,
    StatefulWorkloadProps,
    check_annotations,
    check_url,
    redact_url,
)
from vaultaio_constructs.fielddocs import document_fields
from vaultaio_constructs.grafana import provisioning
from vaultaio_constructs.grafana.database import (
    GrafanaDatabase,
    SqliteDatabase,
)


def _check_root_url(value: str) -> str:
    check_url(value, "root_url", credentials="it is the public address of Grafana's UI: remove them")
    parts = urlsplit(value)
    if not parts.path.endswith("/"):
        raise ValueError(f"'root_url' must end with '/', got {redact_url(value)!r}")
    return value


RootUrl = Annotated[str, AfterValidator(_check_root_url)]


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class GrafanaIngressProps(IngressProps):
    """An Ingress for Grafana's UI; created only when this block is present (a host is required).

    The Ingress terminates TLS with ``tls_secret_name`` (or the controller's default certificate) and
    forwards plain HTTP to port 3000 inside the cluster. The NetworkPolicy admits the ingress controller
    (``network.ingress_controller``) to that port only.
    """


_FOLDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]*(/[A-Za-z0-9][A-Za-z0-9 _.-]*)*$")


def _check_folder(value: str) -> str:
    if not _FOLDER.fullmatch(value) or ".." in value.split("/") or len(value) > 200:
        raise ValueError(
            f"'folder' must be a relative folder path of letters, digits, ' ', '_', '.', '-' and '/' "
            f"(e.g. 'vault-aio' or 'Platform/Vault'), got {value!r}"
        )
    return value


def _check_label_value(value: str) -> str:
    if not re.fullmatch(r"(?:[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?", value):
        raise ValueError(
            f"'label_value' must be a label value (at most 63 letters, digits, '-', '_' or '.'), "
            f"got {value!r}"
        )
    return value


def _check_key(value: str) -> str:
    check_annotations({value: ""})
    return value


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class GrafanaDashboardSidecarProps:
    """How the dashboard ConfigMaps present themselves to a Grafana dashboard sidecar (kiwigrid k8s-sidecar,
    used by the Grafana Helm chart and kube-prometheus-stack), so a Grafana you run loads the same
    dashboards as the stack's own.

    The defaults match kube-prometheus-stack (``grafana.sidecar.dashboards``: label
    ``grafana_dashboard: "1"``, ``searchNamespace: ALL``); the folder annotation is the sidecar's default,
    and becomes a Grafana folder when the sidecar's provider sets ``foldersFromFilesStructure: true``. Every
    query names
    its data source through a dashboard variable, so the dashboards work with your data sources too.
    """

    label_key: Annotated[str, AfterValidator(_check_key)] = Field(
        default=provisioning.DASHBOARD_CONFIGMAP_LABEL[0],
        description="Label the sidecar watches (its ``label``).",
    )
    label_value: Annotated[str, AfterValidator(_check_label_value)] = Field(
        default=provisioning.DASHBOARD_CONFIGMAP_LABEL[1],
        description="Value of that label (its ``labelValue``).",
    )
    folder_annotation: Annotated[str, AfterValidator(_check_key)] = Field(
        default="k8s-sidecar-target-directory",
        description=(
            "Annotation naming the folder the sidecar writes a dashboard to (its ``folderAnnotation``)."
        ),
    )
    folder: Annotated[str, AfterValidator(_check_folder)] = Field(
        default=provisioning.DASHBOARD_FOLDER,
        description="Folder of the dashboards in that Grafana.",
    )
    without_grafana: bool = Field(
        default=False,
        description=(
            "With ``grafana.enabled: false``, still emit the built-in dashboards as ConfigMaps for your "
            "Grafana's sidecar: those whose data lives in a store you run (``prometheus.external``, "
            "``loki.external``, ``tempo.external``), which your Grafana can query; panels of other stores "
            "are left out."
        ),
    )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class GrafanaProps(StatefulWorkloadProps):
    """Settings of the Grafana component."""

    enabled: bool = Field(
        default=True,
        description=(
            "Run Grafana in the stack (it needs a Prometheus: the stack's own or ``prometheus.external``). "
            "``False``: no Grafana; the dashboards are not provisioned."
        ),
    )
    admin_secret_name: DnsLabel = Field(
        default=provisioning.ADMIN_SECRET_NAME,
        description=(
            "Secret with keys ``admin-user`` and ``admin-password``, created outside the manifests (see the "
            "module docstring). Its values set the admin account when Grafana first creates its database."
        ),
    )
    root_url: RootUrl | None = Field(
        default=None,
        description=(
            "Public URL of Grafana, ending in ``/`` (links, redirects, cookies). ``None``: "
            "``https://<host>/`` with an Ingress, otherwise ``http://localhost:3000/`` (the port-forward)."
        ),
    )
    ingress: GrafanaIngressProps | None = Field(
        default=None,
        description="Ingress for the UI (``None``: no Ingress; use ``kubectl port-forward``).",
    )
    builtin_dashboards: bool = Field(
        default=True,
        description=(
            "Provision the stack's five dashboards (Vault Overview, Vault Audit Logs, VM System Metrics, "
            "Container Logs, Trace Explorer). ``False``: only dashboards added with ``add_dashboard``."
        ),
    )
    home_dashboard: DnsLabel | None = Field(
        default=None,
        description=(
            "Name of the dashboard shown as the home page. ``None``: ``vault-overview`` when the built-in "
            "dashboards are provisioned, otherwise Grafana's own home page."
        ),
    )
    tempo_service_graph: bool | None = Field(
        default=None,
        description=(
            "Enable Tempo's service map in the Tempo data source. It needs Tempo's metrics-generator to "
            "remote-write ``traces_service_graph_*`` series to Prometheus; without them the map is empty. "
            "``None``: on exactly when the Tempo that Grafana uses writes its metrics to Prometheus."
        ),
    )
    dashboard_sidecar: GrafanaDashboardSidecarProps = Field(
        default_factory=GrafanaDashboardSidecarProps,
        description=(
            "Label and folder annotation of the dashboard ConfigMaps, for another Grafana's dashboard "
            "sidecar."
        ),
    )
    database: GrafanaDatabase = Field(
        default_factory=SqliteDatabase,
        description=(
            "Where Grafana keeps its state: ``sqlite`` on the PVC (default, one replica) or an external "
            "``postgres``/``mysql`` (see :mod:`vaultaio_constructs.grafana.database`)."
        ),
    )
    replicas: Annotated[int, Field(ge=1, le=10)] = Field(
        default=1,
        description=(
            "Replicas; more than one needs an external ``database`` (and forms Grafana's alerting HA "
            "cluster)."
        ),
    )
    secret_key: SecretRef | None = Field(
        default=None,
        description=(
            "Secret key holding ``security.secret_key``, which encrypts data source passwords stored in the "
            "database (``None``: Grafana's built-in, publicly known key; the provisioned data sources store "
            "no secret). Set it before anyone saves a data source with credentials, never change it "
            "afterwards."
        ),
    )

    def __post_init__(self) -> None:
        if self.replicas > 1 and not self.database.external:
            raise ValueError(
                f"'replicas' ({self.replicas}) needs an external 'database': sqlite is a file on one pod's "
                "volume; set 'database.type' to 'postgres' or 'mysql' (with 'host', 'cidrs', 'user' and "
                "'password' Secret references) or keep 'replicas' at 1"
            )
