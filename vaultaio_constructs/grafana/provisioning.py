"""Grafana provisioning, rendered from typed inputs: data sources, the dashboard provider and ``grafana.ini``.

Pure renderers (no cdk8s): the construct passes the URLs of the endpoints it connected to (never string
literals), mounts the results and the dashboards. Keys follow Grafana's provisioning reference
(``docs/sources/administration/provisioning``) and the data source pages for Tempo (trace to logs / metrics,
service map), Loki (derived fields) and Alertmanager (``implementation``).

Provisioning files expand environment variables (``$NAME`` / ``${NAME}``) in values, so every literal ``$``
(Grafana's ``${__value.raw}`` and ``${__trace.traceId}`` macros) is written as ``$$``. The same expansion
(``pkg/services/provisioning/values``: every value goes through ``setting.ExpandVar``) reads
``$__file{<path>}`` as the file's content, whitespace trimmed: an external Loki's or Prometheus' password
(``secureJsonData.basicAuthPassword``) and CA (``secureJsonData.tlsCACert`` with
``jsonData.tlsAuthWithCACert``) are written as such references to the mounted Secret files, never as values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from vaultaio_constructs import versions
from vaultaio_constructs.grafana.dashboards.datasources import DatasourceUid
from vaultaio_constructs.loglabels import JOB_PODS
from vaultaio_constructs.rendering import dump_yaml

#: Grafana's HTTP port (container and Service).
HTTP_PORT: Final = 3000
#: Mount path of the data PersistentVolumeClaim (SQLite database, plugins, logs).
DATA_DIR: Final = "/var/lib/grafana"
#: Directory Grafana reads provisioning files from (``datasources/``, ``dashboards/`` below it).
PROVISIONING_DIR: Final = "/etc/grafana/provisioning"
#: Path of the main configuration file in the official image.
CONFIG_FILE: Final = "/etc/grafana/grafana.ini"
#: Directory the dashboard provider loads every ``*.json`` from (recursively).
DASHBOARDS_DIR: Final = "/var/lib/grafana/dashboards"
#: Folder the stack's dashboards appear in.
DASHBOARD_FOLDER: Final = "vault-aio"
#: File names inside the provisioning directories.
DATASOURCES_FILE: Final = "datasources.yaml"
DASHBOARD_PROVIDERS_FILE: Final = "dashboards.yaml"
#: Label on dashboard ConfigMaps, understood by the common Grafana dashboard sidecar.
DASHBOARD_CONFIGMAP_LABEL: Final = ("grafana_dashboard", "1")

#: Secret holding the admin credentials; created outside the manifests (documented command / init script).
ADMIN_SECRET_NAME: Final = "grafana-admin"
ADMIN_USER_KEY: Final = "admin-user"
ADMIN_PASSWORD_KEY: Final = "admin-password"
#: Where the construct mounts that Secret (read-only); ``grafana.ini`` reads the files with ``$__file{}``.
ADMIN_SECRET_DIR: Final = "/etc/grafana/secrets"

#: Trace-to-metrics links from a span: Vault's request rate and mean latency around the span's time.
TRACE_TO_METRICS_QUERIES: Final = (
    ("Vault request rate", 'sum(rate(vault_core_handle_request_count{job="vault"}[5m]))'),
    (
        "Vault mean request latency (ms)",
        'sum(rate(vault_core_handle_request_sum{job="vault"}[5m]))'
        ' / sum(rate(vault_core_handle_request_count{job="vault"}[5m]))',
    ),
)

#: Trace-to-logs query: every pod log line of the stack that contains the trace id (Vault audit entries
#: carry it in an audited ``traceparent`` header). Grafana fills in ``${__trace.traceId}``.
TRACE_TO_LOGS_QUERY: Final = f'{{job="{JOB_PODS}"}} |= "${{__trace.traceId}}"'

#: Loki derived fields: (name, regex with one capture group = the trace id). Grafana evaluates them in the
#: browser (JavaScript regular expressions); both patterns are also valid Python ``re`` syntax.
DERIVED_FIELDS: Final = (
    # W3C trace context, e.g. an audited header in a Vault audit entry:
    # "traceparent":["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]
    ("TraceParent", r'traceparent"?\s*[:=]\s*\[?\s*"?[0-9a-f]{2}-([0-9a-f]{32})-'),
    # trace_id=..., traceId: ..., "traceID":"..." in logfmt or JSON application logs.
    ("TraceID", r'[tT]race_?[iI][dD]"?\s*[:=]\s*"?([0-9a-fA-F]{16,32})\b'),
)

_DURATION = re.compile(r"^[1-9][0-9]*(ms|s|m|h)$")


def _check_url(setting: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{setting!r} must be an http:// or https:// URL with a host, got {value!r}")
    return value


def _escape(value: str) -> str:
    """Escape ``$`` for provisioning files, which expand environment variables in values."""
    return value.replace("$", "$$")


@dataclass(frozen=True, kw_only=True)
class DatasourceUrls:
    """Base URLs of the data sources, taken from the endpoints the construct connected to.

    A data source whose URL is ``None`` is left out, and so are the correlations that point at it (a stack
    composed without Tempo gets no trace links). At least one URL is required.
    """

    #: Prometheus web endpoint (``http://prometheus.<ns>.svc:9090``); ``None``: no Prometheus data source.
    prometheus: str | None = None
    #: Loki HTTP endpoint (``http://loki.<ns>.svc:3100``); ``None``: no Loki data source.
    loki: str | None = None
    #: Tempo HTTP (query) endpoint (``http://tempo.<ns>.svc:3200``); ``None``: no Tempo data source.
    tempo: str | None = None
    #: Alertmanager web endpoint (``http://alertmanager.<ns>.svc:9093``); ``None``: no Alertmanager.
    alertmanager: str | None = None
    #: Loki tenant (``X-Scope-OrgID`` header on every Loki query) for a multi-tenant Loki; ``None``: none.
    loki_tenant_id: str | None = None
    #: Basic authentication to Loki: the user name and the in-pod file holding the password (read at
    #: provisioning with ``$__file{}``); both or neither.
    loki_basic_auth_user: str | None = None
    loki_basic_auth_password_file: str | None = None
    #: In-pod file of the PEM CA bundle that verifies Loki's https certificate; ``None``: system CAs.
    loki_ca_file: str | None = None
    #: The same for an external Prometheus: basic-auth user and password file (both or neither), CA file.
    prometheus_basic_auth_user: str | None = None
    prometheus_basic_auth_password_file: str | None = None
    prometheus_ca_file: str | None = None

    def __post_init__(self) -> None:
        present = 0
        for name in ("prometheus", "loki", "tempo", "alertmanager"):
            value = getattr(self, name)
            if value is not None:
                _check_url(f"{name}_url", value)
                present += 1
        if not present:
            raise ValueError(
                "grafana needs at least one data source: set 'prometheus_url', 'loki_url', 'tempo_url' "
                "or 'alertmanager_url'"
            )
        for source in ("loki", "prometheus"):
            user = getattr(self, f"{source}_basic_auth_user")
            if (user is None) != (getattr(self, f"{source}_basic_auth_password_file") is None):
                raise ValueError(
                    f"'{source}_basic_auth_user' and '{source}_basic_auth_password_file' go together"
                )
            for name in (f"{source}_basic_auth_password_file", f"{source}_ca_file"):
                path = getattr(self, name)
                if path is not None and not _FILE_PATH.fullmatch(path):
                    raise ValueError(
                        f"{name!r} must be an absolute path of letters, digits, '/', '-', '_' and '.', "
                        f"got {path!r}"
                    )
            url = getattr(self, source)
            if getattr(self, f"{source}_ca_file") is not None and not (url or "").startswith("https://"):
                raise ValueError(
                    f"'{source}_ca_file' verifies an https:// {source}, but the {source} URL is {url!r}"
                )


#: A path ``$__file{...}`` can name: nothing Grafana's expansion or YAML would read differently.
_FILE_PATH: Final = re.compile(r"/[-_./a-zA-Z0-9]+")


def file_reference(path: str) -> str:
    """The provisioning value that Grafana replaces with the content of ``path`` when it reads the file
    (``$__file{<path>}``, whitespace around the content trimmed): a secret reaches the data source without
    ever being in the ConfigMap."""
    if not _FILE_PATH.fullmatch(path):
        raise ValueError(f"{path!r} is not an absolute path of letters, digits, '/', '-', '_' and '.'")
    return f"$__file{{{path}}}"


_COMMON: Final[dict[str, object]] = {"access": "proxy", "orgId": 1, "editable": False, "version": 1}


def _client(
    json_data: dict[str, object],
    secure: dict[str, object],
    *,
    user: str | None,
    password_file: str | None,
    ca_file: str | None,
) -> dict[str, object]:
    """Add basic authentication and a CA to a data source (``json_data``/``secure`` in place; the secrets
    as ``$__file{}`` references) and return its top-level ``basicAuth``/``basicAuthUser`` keys."""
    auth: dict[str, object] = {}
    if user is not None and password_file is not None:
        auth = {"basicAuth": True, "basicAuthUser": _escape(user)}
        secure["basicAuthPassword"] = file_reference(password_file)
    if ca_file is not None:
        json_data["tlsAuthWithCACert"] = True
        secure["tlsCACert"] = file_reference(ca_file)
    return auth


def _prometheus(
    urls: DatasourceUrls, *, scrape_interval: str, version: str | None, alertmanager: bool
) -> dict[str, object]:
    assert urls.prometheus is not None
    json_data: dict[str, object] = {
        "httpMethod": "POST",
        "timeInterval": scrape_interval,
        "prometheusType": "Prometheus",
    }
    secure: dict[str, object] = {}
    auth = _client(
        json_data,
        secure,
        user=urls.prometheus_basic_auth_user,
        password_file=urls.prometheus_basic_auth_password_file,
        ca_file=urls.prometheus_ca_file,
    )
    if version is not None:
        json_data["prometheusVersion"] = version
    if alertmanager:
        json_data |= {"manageAlerts": True, "alertmanagerUid": str(DatasourceUid.ALERTMANAGER)}
    return {
        **_COMMON,
        "name": "Prometheus",
        "type": "prometheus",
        "uid": str(DatasourceUid.PROMETHEUS),
        "url": urls.prometheus,
        "isDefault": True,
        **auth,
        "jsonData": json_data,
        **({"secureJsonData": secure} if secure else {}),
    }


#: The header that selects a Loki tenant.
TENANT_HEADER: Final = "X-Scope-OrgID"


def _loki(urls: DatasourceUrls, *, default: bool) -> dict[str, object]:
    assert urls.loki is not None
    json_data: dict[str, object] = {"maxLines": 1000}
    secure: dict[str, object] = {}
    tempo, alertmanager = urls.tempo is not None, urls.alertmanager is not None
    if urls.loki_tenant_id is not None:
        # Grafana sends custom headers only from secureJsonData; a tenant ID is not a secret
        json_data["httpHeaderName1"] = TENANT_HEADER
        secure["httpHeaderValue1"] = _escape(urls.loki_tenant_id)
    auth = _client(
        json_data,
        secure,
        user=urls.loki_basic_auth_user,
        password_file=urls.loki_basic_auth_password_file,
        ca_file=urls.loki_ca_file,
    )
    if alertmanager:
        json_data |= {"manageAlerts": True, "alertmanagerUid": str(DatasourceUid.ALERTMANAGER)}
    if tempo:
        json_data["derivedFields"] = [
            {
                "name": name,
                "matcherType": "regex",
                "matcherRegex": _escape(regex),
                "datasourceUid": str(DatasourceUid.TEMPO),
                "url": _escape("${__value.raw}"),
                "urlDisplayLabel": "Open trace",
            }
            for name, regex in DERIVED_FIELDS
        ]
    return {
        **_COMMON,
        "name": "Loki",
        "type": "loki",
        "uid": str(DatasourceUid.LOKI),
        "url": urls.loki,
        "isDefault": default,
        **auth,
        "jsonData": json_data,
        **({"secureJsonData": secure} if secure else {}),
    }


def _tempo(url: str, *, loki: bool, prometheus: bool, service_graph: bool) -> dict[str, object]:
    json_data: dict[str, object] = {
        "nodeGraph": {"enabled": True},
        "search": {"hide": False},
        "traceQuery": {"timeShiftEnabled": True, "spanStartTimeShift": "-30m", "spanEndTimeShift": "30m"},
    }
    if loki:
        json_data["tracesToLogsV2"] = {
            "datasourceUid": str(DatasourceUid.LOKI),
            "spanStartTimeShift": "-5m",
            "spanEndTimeShift": "5m",
            "filterByTraceID": True,
            "filterBySpanID": False,
            "customQuery": True,
            "query": _escape(TRACE_TO_LOGS_QUERY),
        }
    if prometheus:
        json_data["tracesToMetrics"] = {
            "datasourceUid": str(DatasourceUid.PROMETHEUS),
            "spanStartTimeShift": "-5m",
            "spanEndTimeShift": "5m",
            "queries": [{"name": name, "query": _escape(query)} for name, query in TRACE_TO_METRICS_QUERIES],
        }
        if service_graph:
            json_data["serviceMap"] = {"datasourceUid": str(DatasourceUid.PROMETHEUS)}
    return {
        **_COMMON,
        "name": "Tempo",
        "type": "tempo",
        "uid": str(DatasourceUid.TEMPO),
        "url": url,
        "isDefault": False,
        "jsonData": json_data,
    }


def _alertmanager(url: str) -> dict[str, object]:
    return {
        **_COMMON,
        "name": "Alertmanager",
        "type": "alertmanager",
        "uid": str(DatasourceUid.ALERTMANAGER),
        "url": url,
        "isDefault": False,
        "jsonData": {"implementation": "prometheus", "handleGrafanaManagedAlerts": False},
    }


def datasources(
    urls: DatasourceUrls,
    *,
    scrape_interval: str = "30s",
    tempo_service_graph: bool = False,
    prometheus_version: str | None = versions.version("prometheus"),
) -> dict[str, object]:
    """The data source provisioning document (``apiVersion: 1``).

    No ``prune``: with it Grafana deletes provisioned data sources missing from the file, and reports show
    it deleting them right after inserting them on Kubernetes (grafana/grafana#97051) and Grafana 13
    failing to start with "data source not found"; the stack's data sources only change with its
    settings, so a data source switched off stays in the database until deleted in the UI.

    Prometheus is the default data source (Loki when there is no Prometheus). Correlations: Tempo spans
    link to the stack's pod logs containing the trace id (trace to logs) and to Vault's request metrics
    (trace to metrics); Loki lines with a ``trace_id`` or ``traceparent`` link to the trace in Tempo
    (derived fields); Prometheus and Loki rules are shown in Grafana's alerting UI with Alertmanager.

    ``scrape_interval`` is Prometheus' scrape interval (Grafana's ``$__rate_interval`` is at least four
    times it); default ``30s``. ``tempo_service_graph`` turns on Tempo's service map, which needs Tempo's
    metrics-generator to remote-write ``traces_service_graph_*`` series to Prometheus; default off.
    ``prometheus_version``: the stack's pinned version; ``None`` (a Prometheus it does not run) leaves
    Grafana to detect it.
    """
    if not _DURATION.fullmatch(scrape_interval):
        raise ValueError(
            f"'scrape_interval' must be a positive duration such as 15s or 1m, got {scrape_interval!r}"
        )
    if tempo_service_graph and (urls.tempo is None or urls.prometheus is None):
        raise ValueError("'tempo_service_graph' needs both the Tempo and the Prometheus data source")
    sources: list[dict[str, object]] = []
    if urls.prometheus is not None:
        sources.append(
            _prometheus(
                urls,
                scrape_interval=scrape_interval,
                version=prometheus_version,
                alertmanager=urls.alertmanager is not None,
            )
        )
    if urls.loki is not None:
        sources.append(_loki(urls, default=urls.prometheus is None))
    if urls.tempo is not None:
        sources.append(
            _tempo(
                urls.tempo,
                loki=urls.loki is not None,
                prometheus=urls.prometheus is not None,
                service_graph=tempo_service_graph,
            )
        )
    if urls.alertmanager is not None:
        sources.append(_alertmanager(urls.alertmanager))
    return {"apiVersion": 1, "datasources": sources}


def dashboard_providers(
    *,
    path: str = DASHBOARDS_DIR,
    folder: str = DASHBOARD_FOLDER,
    update_interval_seconds: int = 30,
) -> dict[str, object]:
    """The dashboard provider document: one file provider loading every dashboard JSON under ``path``
    into ``folder``. Provisioned dashboards cannot be saved from the UI (``allowUiUpdates: false``): the
    ConfigMaps are the source of truth. Defaults: :data:`DASHBOARDS_DIR`, folder ``vault-aio``, 30 s."""
    if not path.startswith("/"):
        raise ValueError(f"'path' must be an absolute directory, got {path!r}")
    if not folder.strip():
        raise ValueError(f"'folder' must be a non-empty folder name, got {folder!r}")
    if update_interval_seconds < 10:
        raise ValueError(f"'update_interval_seconds' must be >= 10, got {update_interval_seconds}")
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": DASHBOARD_FOLDER,
                "orgId": 1,
                "type": "file",
                "folder": folder,
                "folderUid": DASHBOARD_FOLDER,
                "disableDeletion": False,
                "allowUiUpdates": False,
                "updateIntervalSeconds": update_interval_seconds,
                "options": {"path": path, "foldersFromFilesStructure": False},
            }
        ],
    }


def grafana_ini(
    *,
    root_url: str,
    admin_secret_dir: str = ADMIN_SECRET_DIR,
    secret_key_file: str | None = None,
    home_dashboard_path: str | None = None,
) -> dict[str, dict[str, str]]:
    """The ``grafana.ini`` settings as sections of string values.

    Admin user and password are read from the files of the ``grafana-admin`` Secret mounted at
    ``admin_secret_dir`` through Grafana's ``$__file{...}`` expander (Grafana trims surrounding whitespace),
    so no credential is in the config. They apply when Grafana creates its database on first start; later
    changes go through ``grafana cli admin reset-admin-password``. ``secret_key_file`` optionally points
    ``security.secret_key`` (which encrypts data source secrets) at a mounted file as well. Default: Grafana's
    built-in key, acceptable because no provisioned data source stores a secret.

    Nothing phones home: usage reporting, update and plugin-update checks, the news feed, plugin
    preinstallation, signing-key retrieval, Gravatar and external snapshots are off. Anonymous access and
    sign-up are off.
    """
    parts = urlsplit(_check_url("root_url", root_url))
    for setting, value in (("admin_secret_dir", admin_secret_dir), ("secret_key_file", secret_key_file)):
        if value is not None and not value.startswith("/"):
            raise ValueError(f"{setting!r} must be an absolute path, got {value!r}")
    if home_dashboard_path is not None and not (
        home_dashboard_path.startswith("/") and home_dashboard_path.endswith(".json")
    ):
        raise ValueError(
            f"'home_dashboard_path' must be an absolute path to a .json file, got {home_dashboard_path!r}"
        )
    secret_dir = admin_secret_dir.rstrip("/")
    sub_path = parts.path not in ("", "/")
    security = {
        "admin_user": f"$__file{{{secret_dir}/{ADMIN_USER_KEY}}}",
        "admin_password": f"$__file{{{secret_dir}/{ADMIN_PASSWORD_KEY}}}",
        "disable_gravatar": "true",
        "cookie_secure": "true" if parts.scheme == "https" else "false",
    }
    if secret_key_file is not None:
        security["secret_key"] = f"$__file{{{secret_key_file}}}"
    sections: dict[str, dict[str, str]] = {
        "analytics": {
            "reporting_enabled": "false",
            "check_for_updates": "false",
            "check_for_plugin_updates": "false",
            "feedback_links_enabled": "false",
        },
        "auth.anonymous": {"enabled": "false"},
        "log": {"mode": "console", "level": "info"},
        "metrics": {"enabled": "true"},
        "news": {"news_feed_enabled": "false"},
        "paths": {
            "data": DATA_DIR,
            "logs": f"{DATA_DIR}/log",
            "plugins": f"{DATA_DIR}/plugins",
            "provisioning": PROVISIONING_DIR,
        },
        "plugins": {
            # Load-bearing beyond "no phoning home": since 13.x the Loki, Prometheus and Tempo data sources
            # are bundled plugins in /usr/share/grafana/data/plugins-bundled. With preinstall on, the
            # background installer tries to update them in place, fails on the read-only root filesystem
            # after stopping the plugin, and the data source stays unregistered (grafana/grafana#132528).
            "preinstall_disabled": "true",
            "preinstall_auto_update": "false",
            "public_key_retrieval_disabled": "true",
            "plugin_admin_enabled": "false",
        },
        "security": security,
        "server": {
            "http_port": str(HTTP_PORT),
            "root_url": root_url,
            "domain": parts.hostname or "",
            "serve_from_sub_path": "true" if sub_path else "false",
        },
        "snapshots": {"external_enabled": "false"},
        "users": {"allow_sign_up": "false", "allow_org_create": "false"},
    }
    if home_dashboard_path is not None:
        sections["dashboards"] = {"default_home_dashboard_path": home_dashboard_path}
    return sections


def render_yaml(document: Mapping[str, object]) -> str:
    """YAML text with sorted keys (provisioning documents)."""
    return dump_yaml(dict(document), allow_unicode=True)


def render_datasources(
    urls: DatasourceUrls,
    *,
    scrape_interval: str = "30s",
    tempo_service_graph: bool = False,
    prometheus_version: str | None = versions.version("prometheus"),
) -> str:
    """``datasources.yaml`` text; see :func:`datasources`."""
    return render_yaml(
        datasources(
            urls,
            scrape_interval=scrape_interval,
            tempo_service_graph=tempo_service_graph,
            prometheus_version=prometheus_version,
        )
    )


def render_dashboard_providers(
    *, path: str = DASHBOARDS_DIR, folder: str = DASHBOARD_FOLDER, update_interval_seconds: int = 30
) -> str:
    """``dashboards.yaml`` text; see :func:`dashboard_providers`."""
    return render_yaml(
        dashboard_providers(path=path, folder=folder, update_interval_seconds=update_interval_seconds)
    )


def render_ini(sections: Mapping[str, Mapping[str, str]]) -> str:
    """INI text with sections and keys sorted; refuses values that would break a line."""
    lines: list[str] = []
    for section in sorted(sections):
        if lines:
            lines.append("")
        lines.append(f"[{section}]")
        for key in sorted(sections[section]):
            value = sections[section][key]
            if "\n" in value or "\r" in value:
                raise ValueError(f"'{section}.{key}' must be a single line, got {value!r}")
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"
