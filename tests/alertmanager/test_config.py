"""alertmanager.yml renderer: routing, inhibitions, receivers from Secret files, amtool check-config."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.tools import require_tool
from vaultaio_constructs.alertmanager.config import (
    AlertmanagerConfigSettings,
    EmailReceiver,
    PagerDutyReceiver,
    SeverityRoute,
    SlackReceiver,
    WebhookReceiver,
    render_alertmanager_config,
)
from vaultaio_constructs.alerts import Severity, default_inhibit_rules
from vaultaio_constructs.common import SecretKeyRef

ALL_RECEIVERS = AlertmanagerConfigSettings(
    webhook_receivers=(
        WebhookReceiver(
            name="ops-hook",
            url="https://hooks.example.org:8443/alerts",
            cidrs=("203.0.113.10/32",),
            bearer_token=SecretKeyRef(name="am-webhook", key="token"),
        ),
        WebhookReceiver(
            name="chat-hook",
            url_secret=SecretKeyRef(name="am-chat", key="url"),
            host="chat.example.org",
            cidrs=("203.0.113.30/32",),
        ),
    ),
    email_receivers=(
        EmailReceiver(
            name="ops-mail",
            to="ops@example.org",
            from_address="vault-aio@example.org",
            smarthost="smtp.example.org",
            cidrs=("203.0.113.20/32",),
            auth_username="vault-aio",
            auth_password=SecretKeyRef(name="am-smtp", key="password"),
        ),
    ),
    slack_receivers=(
        SlackReceiver(
            name="ops-slack",
            api_url=SecretKeyRef(name="am-slack", key="url"),
            channel="#vault",
            cidrs=("198.51.100.0/24",),
        ),
    ),
    pagerduty_receivers=(
        PagerDutyReceiver(
            name="oncall",
            routing_key=SecretKeyRef(name="am-pagerduty", key="routing-key"),
            cidrs=("198.51.100.128/25",),
        ),
    ),
    routes=(
        SeverityRoute(severities=(Severity.CRITICAL,), receiver="oncall"),
        SeverityRoute(severities=(Severity.CRITICAL, Severity.WARNING), receiver="ops-slack"),
        SeverityRoute(severities=(Severity.WARNING,), receiver="ops-mail"),
        SeverityRoute(severities=(Severity.CRITICAL,), receiver="ops-hook"),
        SeverityRoute(severities=(Severity.CRITICAL,), receiver="chat-hook"),
    ),
)


def _amtool(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    amtool = require_tool("amtool")
    path = tmp_path / "alertmanager.yml"
    path.write_text(text)
    return subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True, check=False)


def test_amtool_accepts_the_default_config(tmp_path: Path) -> None:
    result = _amtool(
        tmp_path, render_alertmanager_config(AlertmanagerConfigSettings(), default_inhibit_rules())
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 receivers" in result.stdout


def test_amtool_accepts_every_receiver_type(tmp_path: Path) -> None:
    result = _amtool(tmp_path, render_alertmanager_config(ALL_RECEIVERS, default_inhibit_rules()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 receivers" in result.stdout
    assert f"{len(default_inhibit_rules())} inhibit rules" in result.stdout


def test_amtool_is_a_real_check(tmp_path: Path) -> None:
    """amtool rejects an unknown key, so a passing check means something."""
    text = render_alertmanager_config(ALL_RECEIVERS).replace("routing_key_file:", "routing_key_path:")
    assert _amtool(tmp_path, text).returncode != 0


def test_amtool_checks_webhook_url_and_url_file(tmp_path: Path) -> None:
    """amtool 0.34 accepts ``url_file`` (Alertmanager >= 0.26) and refuses both forms at once."""
    text = render_alertmanager_config(ALL_RECEIVERS)
    with_file = text.replace("url: https://hooks.example.org:8443/alerts", "url_file: /etc/alertmanager/url")
    assert with_file != text
    assert _amtool(tmp_path, with_file).returncode == 0
    both = text.replace(
        "url: https://hooks.example.org:8443/alerts",
        "url: https://hooks.example.org:8443/alerts\n    url_file: /etc/alertmanager/url",
    )
    result = _amtool(tmp_path, both)
    assert result.returncode != 0
    assert "at most one of url & url_file must be configured" in result.stdout + result.stderr


def test_default_routes_everything_to_null() -> None:
    document = yaml.safe_load(render_alertmanager_config(AlertmanagerConfigSettings()))
    assert document["route"]["receiver"] == "null"
    assert document["route"]["group_by"] == ["alertname", "severity"]
    assert "routes" not in document["route"]
    assert document["receivers"] == [{"name": "null"}]


def test_routes_by_severity_to_every_matching_receiver() -> None:
    routes = yaml.safe_load(render_alertmanager_config(ALL_RECEIVERS))["route"]["routes"]
    assert routes[0] == {"receiver": "oncall", "matchers": ['severity="critical"'], "continue": True}
    assert routes[1]["matchers"] == ['severity=~"critical|warning"']


def test_credentials_are_files_from_secrets_never_values() -> None:
    document = yaml.safe_load(render_alertmanager_config(ALL_RECEIVERS, secrets_dir="/secrets"))
    receivers = {receiver["name"]: receiver for receiver in document["receivers"]}
    assert (
        receivers["oncall"]["pagerduty_configs"][0]["routing_key_file"] == "/secrets/am-pagerduty/routing-key"
    )
    assert receivers["ops-slack"]["slack_configs"][0]["api_url_file"] == "/secrets/am-slack/url"
    assert receivers["ops-mail"]["email_configs"][0]["auth_password_file"] == "/secrets/am-smtp/password"
    assert receivers["ops-hook"]["webhook_configs"][0]["http_config"]["authorization"] == {
        "type": "Bearer",
        "credentials_file": "/secrets/am-webhook/token",
    }
    text = render_alertmanager_config(ALL_RECEIVERS)
    for secret_key in ("routing_key:", "api_url:", "auth_password:", "credentials:", "service_key:"):
        assert secret_key not in text


def test_secrets_listed_once_for_mounting() -> None:
    assert [(ref.name, ref.key) for ref in ALL_RECEIVERS.secrets()] == [
        ("am-chat", "url"),
        ("am-pagerduty", "routing-key"),
        ("am-slack", "url"),
        ("am-smtp", "password"),
        ("am-webhook", "token"),
    ]


def test_each_receiver_yields_its_egress_endpoint() -> None:
    endpoints = {endpoint.name: endpoint for endpoint in ALL_RECEIVERS.endpoints()}
    assert (endpoints["ops-hook"].port, endpoints["ops-hook"].cidrs) == (8443, ("203.0.113.10/32",))
    assert (endpoints["ops-mail"].port, endpoints["ops-mail"].address) == (587, "smtp.example.org:587")
    assert endpoints["ops-slack"].port == 443
    assert endpoints["oncall"].cidrs == ("198.51.100.128/25",)
    assert AlertmanagerConfigSettings().endpoints() == ()


def test_inhibit_rules_rendered_with_matchers() -> None:
    inhibits = yaml.safe_load(
        render_alertmanager_config(AlertmanagerConfigSettings(), default_inhibit_rules())
    )["inhibit_rules"]
    sealed = [rule for rule in inhibits if rule["source_matchers"] == ['alertname="VaultSealed"']]
    assert sealed[0]["equal"] == ["instance"]
    assert "VaultHighRequestLatency" in sealed[0]["target_matchers"][0]
    assert "equal" not in sealed[1]


def test_fails_route_to_unknown_receiver() -> None:
    with pytest.raises(ValueError, match="names receiver 'pager', which is not defined"):
        AlertmanagerConfigSettings(routes=(SeverityRoute(severities=(Severity.CRITICAL,), receiver="pager"),))


def test_fails_duplicate_receiver_names() -> None:
    hook = WebhookReceiver(name="ops", url="https://a.example.org/", cidrs=("203.0.113.1/32",))
    with pytest.raises(ValueError, match=r"receiver names must be unique, got duplicates \['ops'\]"):
        AlertmanagerConfigSettings(webhook_receivers=(hook, hook))


def test_fails_null_receiver_name() -> None:
    with pytest.raises(ValueError, match="receiver name 'null' is reserved"):
        AlertmanagerConfigSettings(
            webhook_receivers=(
                WebhookReceiver(name="null", url="https://a.example.org/", cidrs=("203.0.113.1/32",)),
            )
        )


def test_fails_webhook_url_with_credentials() -> None:
    with pytest.raises(
        ValueError, match=r"must not contain credentials \(.*\): use 'url_secret' .* 'bearer_token'"
    ):
        WebhookReceiver(name="ops", url="https://user:pw@a.example.org/", cidrs=("203.0.113.1/32",))


def test_webhook_url_from_a_secret_is_read_with_url_file() -> None:
    document = yaml.safe_load(render_alertmanager_config(ALL_RECEIVERS, secrets_dir="/secrets"))
    receivers = {receiver["name"]: receiver for receiver in document["receivers"]}
    (chat,) = receivers["chat-hook"]["webhook_configs"]
    assert chat == {"url_file": "/secrets/am-chat/url", "send_resolved": True}
    (ops,) = receivers["ops-hook"]["webhook_configs"]
    assert ops["url"] == "https://hooks.example.org:8443/alerts"
    assert "url_file" not in ops
    webhook = next(r for r in ALL_RECEIVERS.webhook_receivers if r.name == "chat-hook")
    endpoint = webhook.endpoint()
    assert (endpoint.port, endpoint.cidrs, endpoint.address) == (
        443,
        ("203.0.113.30/32",),
        "chat.example.org:443",
    )
    assert webhook.secrets() == (SecretKeyRef(name="am-chat", key="url"),)
    assert ("am-chat", "url") in {(ref.name, ref.key) for ref in ALL_RECEIVERS.secrets()}


def test_webhook_url_secret_port_defaults_to_https() -> None:
    webhook = WebhookReceiver(
        name="chat",
        url_secret=SecretKeyRef(name="am-chat", key="url"),
        host="chat.example.org",
        port=8443,
        cidrs=("203.0.113.1/32",),
    )
    assert webhook.endpoint().port == 8443


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"url": "https://a.example.org/", "url_secret": SecretKeyRef(name="s", key="url")},
            "set exactly one of 'url'",
        ),
        ({}, "set exactly one of 'url'"),
        ({"url_secret": SecretKeyRef(name="s", key="url")}, "'host' is required with 'url_secret'"),
        ({"url": "https://a.example.org/", "host": "a.example.org"}, "'host' and 'port' come from 'url'"),
        ({"url": "https://a.example.org/", "port": 443}, "'host' and 'port' come from 'url'"),
    ],
)
def test_fails_webhook_url_forms(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WebhookReceiver(name="ops", cidrs=("203.0.113.1/32",), **fields)  # type: ignore[arg-type]


def test_fails_webhook_without_cidrs() -> None:
    with pytest.raises(ValueError, match="cidrs"):
        WebhookReceiver(name="ops", url="https://a.example.org/", cidrs=())


def test_fails_email_user_without_password() -> None:
    with pytest.raises(ValueError, match="set both 'auth_username' and 'auth_password' or neither"):
        EmailReceiver(
            name="mail",
            to="ops@example.org",
            from_address="vault@example.org",
            smarthost="smtp.example.org",
            cidrs=("203.0.113.1/32",),
            auth_username="vault",
        )


def test_fails_bad_repeat_interval() -> None:
    with pytest.raises(ValueError, match="'repeat_interval' must be a duration"):
        AlertmanagerConfigSettings(repeat_interval="4 hours")
