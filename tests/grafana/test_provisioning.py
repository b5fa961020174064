"""Grafana provisioning: data sources from URLs, correlations, the dashboard provider and grafana.ini."""

from __future__ import annotations

import configparser
import json
import re
from typing import Any

import pytest
import yaml

from vaultaio_constructs.grafana import provisioning
from vaultaio_constructs.grafana.provisioning import DatasourceUrls

URLS = DatasourceUrls(
    prometheus="http://prometheus.vault-aio.svc:9090",
    loki="http://loki.vault-aio.svc:3100",
    tempo="http://tempo.vault-aio.svc:3200",
    alertmanager="http://alertmanager.vault-aio.svc:9093",
)
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture(scope="module")
def rendered() -> str:
    return provisioning.render_datasources(URLS)


@pytest.fixture(scope="module")
def by_uid(rendered: str) -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(rendered)
    assert document["apiVersion"] == 1
    return {source["uid"]: source for source in document["datasources"]}


def _unescape(value: str) -> str:
    return value.replace("$$", "$")


def test_no_prune(rendered: str) -> None:
    """prune deletes provisioned data sources missing from the file; reports show Grafana deleting them
    right after inserting them on Kubernetes and Grafana 13 failing to start with it (issue 14, item 15)."""
    assert set(yaml.safe_load(rendered)) == {"apiVersion", "datasources"}


def test_four_datasources_with_fixed_uids_and_urls_from_inputs(by_uid: dict[str, dict[str, Any]]) -> None:
    assert sorted(by_uid) == ["alertmanager", "loki", "prometheus", "tempo"]
    for uid, source in by_uid.items():
        assert source["type"] == uid
        assert source["url"] == getattr(URLS, uid)
        assert source["access"] == "proxy"
        assert source["editable"] is False
    assert [uid for uid, s in by_uid.items() if s["isDefault"]] == ["prometheus"]


def test_urls_follow_the_inputs() -> None:
    other = DatasourceUrls(
        prometheus="https://prom.example.org:9443",
        loki="http://l:1",
        tempo="http://t:2",
        alertmanager="http://a:3",
    )
    document = provisioning.datasources(other)
    assert [s["url"] for s in document["datasources"]] == [  # type: ignore[attr-defined]
        "https://prom.example.org:9443",
        "http://l:1",
        "http://t:2",
        "http://a:3",
    ]


def test_prometheus_and_alertmanager_settings(by_uid: dict[str, dict[str, Any]]) -> None:
    prometheus = by_uid["prometheus"]["jsonData"]
    assert prometheus["timeInterval"] == "30s"
    assert prometheus["prometheusType"] == "Prometheus"
    assert prometheus["prometheusVersion"] == "3.14.0"
    assert prometheus["alertmanagerUid"] == "alertmanager"
    assert by_uid["alertmanager"]["jsonData"]["implementation"] == "prometheus"


def test_tempo_links_traces_to_logs_and_metrics(by_uid: dict[str, dict[str, Any]]) -> None:
    tempo = by_uid["tempo"]["jsonData"]
    logs = tempo["tracesToLogsV2"]
    assert logs["datasourceUid"] == "loki"
    assert logs["customQuery"] is True
    assert _unescape(logs["query"]) == '{job="kubernetes-pods"} |= "${__trace.traceId}"'
    metrics = tempo["tracesToMetrics"]
    assert metrics["datasourceUid"] == "prometheus"
    assert [q["name"] for q in metrics["queries"]] == [n for n, _ in provisioning.TRACE_TO_METRICS_QUERIES]
    assert "serviceMap" not in tempo


def test_service_map_only_with_tempo_metrics_generator() -> None:
    document = provisioning.datasources(URLS, tempo_service_graph=True)
    tempo = next(s for s in document["datasources"] if s["uid"] == "tempo")  # type: ignore[attr-defined]
    assert tempo["jsonData"]["serviceMap"] == {"datasourceUid": "prometheus"}


def test_every_dollar_is_escaped_for_provisioning(rendered: str) -> None:
    """Grafana expands $VAR in provisioning files; a lone $ would eat ${__value.raw}."""
    assert "$" in rendered
    assert re.findall(r"(?<!\$)\$(?!\$)", rendered.replace("$$", "")) == []
    assert "$${__value.raw}" in rendered
    assert "$${__trace.traceId}" in rendered


def _derived_fields(by_uid: dict[str, dict[str, Any]]) -> dict[str, re.Pattern[str]]:
    fields = by_uid["loki"]["jsonData"]["derivedFields"]
    for field in fields:
        assert field["datasourceUid"] == "tempo"
        assert _unescape(field["url"]) == "${__value.raw}"
    return {field["name"]: re.compile(_unescape(field["matcherRegex"])) for field in fields}


def test_loki_derived_fields_extract_trace_ids(by_uid: dict[str, dict[str, Any]]) -> None:
    fields = _derived_fields(by_uid)
    assert sorted(fields) == ["TraceID", "TraceParent"]
    audit_line = json.dumps(
        {
            "type": "request",
            "request": {
                "path": "secret/data/app",
                "headers": {"traceparent": [f"00-{TRACE_ID}-00f067aa0ba902b7-01"]},
            },
        },
        separators=(",", ":"),
    )
    match = fields["TraceParent"].search(audit_line)
    assert match is not None and match.group(1) == TRACE_ID
    for line in (
        f"level=info trace_id={TRACE_ID} msg=ok",
        f'{{"traceId": "{TRACE_ID}"}}',
        f"traceID={TRACE_ID}",
    ):
        match = fields["TraceID"].search(line)
        assert match is not None and match.group(1) == TRACE_ID, line
    for pattern in fields.values():
        assert pattern.groups == 1
        assert pattern.search("level=info msg=no trace here request_id=42") is None


def test_fails_on_a_url_that_is_not_http() -> None:
    with pytest.raises(
        ValueError, match="'loki_url' must be an http:// or https:// URL with a host, got 'loki:3100'"
    ):
        DatasourceUrls(
            prometheus="http://p:9090", loki="loki:3100", tempo="http://t:3200", alertmanager="http://a:1"
        )


def test_fails_on_a_bad_scrape_interval() -> None:
    with pytest.raises(ValueError, match="'scrape_interval' must be a positive duration"):
        provisioning.datasources(URLS, scrape_interval="0s")


def test_dashboard_provider_loads_the_directory_into_one_folder() -> None:
    document = yaml.safe_load(provisioning.render_dashboard_providers())
    (provider,) = document["providers"]
    assert provider["type"] == "file"
    assert provider["folder"] == "vault-aio"
    assert provider["allowUiUpdates"] is False
    assert provider["options"] == {"path": "/var/lib/grafana/dashboards", "foldersFromFilesStructure": False}


def test_fails_on_a_relative_dashboard_path() -> None:
    with pytest.raises(ValueError, match="'path' must be an absolute directory, got 'dashboards'"):
        provisioning.dashboard_providers(path="dashboards")


def _ini(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return parser


def test_grafana_ini_turns_off_phoning_home_and_anonymous_access() -> None:
    sections = provisioning.grafana_ini(root_url="https://grafana.example.org/")
    ini = _ini(provisioning.render_ini(sections))
    assert {k: ini["analytics"][k] for k in ini["analytics"]} == {
        "check_for_plugin_updates": "false",
        "check_for_updates": "false",
        "feedback_links_enabled": "false",
        "reporting_enabled": "false",
    }
    assert ini["auth.anonymous"]["enabled"] == "false"
    # Also keeps the bundled Loki/Prometheus/Tempo plugins loaded on the read-only root filesystem.
    assert ini["plugins"]["preinstall_disabled"] == "true"
    assert ini["news"]["news_feed_enabled"] == "false"
    assert ini["snapshots"]["external_enabled"] == "false"
    assert ini["users"]["allow_sign_up"] == "false"


def test_grafana_ini_reads_admin_credentials_from_the_secret_files() -> None:
    text = provisioning.render_ini(provisioning.grafana_ini(root_url="http://localhost:3000/"))
    ini = _ini(text)
    assert ini["security"]["admin_user"] == "$__file{/etc/grafana/secrets/admin-user}"
    assert ini["security"]["admin_password"] == "$__file{/etc/grafana/secrets/admin-password}"
    assert "secret_key" not in ini["security"]
    assert "admin\n" not in text and "password = admin" not in text


def test_grafana_ini_server_and_paths() -> None:
    ini = _ini(provisioning.render_ini(provisioning.grafana_ini(root_url="https://ops.example.org/grafana/")))
    assert ini["server"]["http_port"] == "3000"
    assert ini["server"]["root_url"] == "https://ops.example.org/grafana/"
    assert ini["server"]["serve_from_sub_path"] == "true"
    assert ini["security"]["cookie_secure"] == "true"
    assert ini["paths"]["data"] == "/var/lib/grafana"
    assert ini["paths"]["provisioning"] == "/etc/grafana/provisioning"
    plain = _ini(provisioning.render_ini(provisioning.grafana_ini(root_url="http://localhost:3000/")))
    assert (plain["server"]["serve_from_sub_path"], plain["security"]["cookie_secure"]) == ("false", "false")


def test_grafana_ini_optional_secret_key_and_home_dashboard() -> None:
    sections = provisioning.grafana_ini(
        root_url="http://localhost:3000/",
        secret_key_file="/etc/grafana/secrets/secret-key",
        home_dashboard_path="/var/lib/grafana/dashboards/vault-overview.json",
    )
    assert sections["security"]["secret_key"] == "$__file{/etc/grafana/secrets/secret-key}"
    assert sections["dashboards"]["default_home_dashboard_path"].endswith("vault-overview.json")


def test_ini_rendering_is_sorted_and_deterministic() -> None:
    text = provisioning.render_ini({"b": {"z": "1", "a": "2"}, "a": {"k": "v"}})
    assert text == "[a]\nk = v\n\n[b]\na = 2\nz = 1\n"


def test_fails_on_a_root_url_without_scheme() -> None:
    with pytest.raises(ValueError, match="'root_url' must be an http:// or https:// URL with a host"):
        provisioning.grafana_ini(root_url="grafana.example.org")


def test_fails_on_a_relative_secret_dir() -> None:
    with pytest.raises(ValueError, match="'admin_secret_dir' must be an absolute path, got 'secrets'"):
        provisioning.grafana_ini(root_url="http://localhost:3000/", admin_secret_dir="secrets")


def test_fails_on_a_multi_line_ini_value() -> None:
    with pytest.raises(ValueError, match=r"'server\.root_url' must be a single line"):
        provisioning.render_ini({"server": {"root_url": "http://a/\n[security]"}})


def test_missing_stores_leave_out_their_datasource_and_links() -> None:
    document = provisioning.datasources(DatasourceUrls(loki="http://loki.vault-aio.svc:3100"))
    (loki,) = document["datasources"]  # type: ignore[misc]
    assert loki["uid"] == "loki" and loki["isDefault"] is True
    assert loki["jsonData"] == {"maxLines": 1000}, "no trace links or alerting without Tempo and Alertmanager"


def test_fails_without_any_datasource_url() -> None:
    with pytest.raises(ValueError, match="grafana needs at least one data source"):
        DatasourceUrls()


def test_fails_on_a_service_graph_without_prometheus() -> None:
    with pytest.raises(ValueError, match="'tempo_service_graph' needs both the Tempo and the Prometheus"):
        provisioning.datasources(DatasourceUrls(tempo="http://t:3200"), tempo_service_graph=True)
