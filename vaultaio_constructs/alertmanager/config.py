"""Render ``alertmanager.yml`` from typed settings: severity routing, grouping, inhibitions, receivers.

Credentials never appear in the rendered file. Each receiver names a :class:`SecretKeyRef`; the construct
mounts that Secret key as a file and the config points at it with Alertmanager's ``*_file`` options
(``auth_password_file``, ``api_url_file``, ``routing_key_file``, webhook ``url_file``, ``http_config
.authorization.credentials_file``), which Alertmanager reads on every notification, so a rotated Secret
takes effect without a restart.

Every receiver declares where it sends (:meth:`Receiver.endpoint`): host, port and the CIDRs from settings;
the construct turns each into the only egress Alertmanager gets.

Versions: every key used here exists in Alertmanager v0.34 (pinned) and is checked by ``amtool
check-config`` of the same version (``tools/go/amtool``); webhook ``url_file`` needs Alertmanager >= 0.26.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.alerts.model import Severity, check_duration
from vaultaio_constructs.alerts.routing import InhibitRule
from vaultaio_constructs.common import (
    PROPS_CONFIG,
    Cidr,
    DnsLabel,
    ExternalEndpoint,
    Hostname,
    Port,
    SecretKeyRef,
    check_no_space,
    check_url,
)
from vaultaio_constructs.fielddocs import document_fields
from vaultaio_constructs.rendering import dump_yaml

#: Name of the receiver that drops notifications; the default route ends there.
NULL_RECEIVER: Final = "null"
#: Default in-pod directory under which receiver Secrets are mounted (``<dir>/<secret>/<key>``).
DEFAULT_SECRETS_DIR: Final = "/etc/alertmanager/secrets"

Cidrs = Annotated[tuple[Cidr, ...], Field(min_length=1)]


def secret_file(ref: SecretKeyRef, secrets_dir: str = DEFAULT_SECRETS_DIR) -> str:
    """In-pod path of a mounted Secret key."""
    return f"{secrets_dir}/{ref.name}/{ref.key}"


def _port_of(url: str) -> int | None:
    """The URL's port, ``None`` without one, ``0`` when it is out of range."""
    try:
        return urlsplit(url).port
    except ValueError:  # urlsplit checks the range only when the port is read
        return 0


#: ``local@domain.tld`` without whitespace or control characters (a newline would add a mail header).
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+")


def _check_address(value: str, setting: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError(f"'{setting}' must be an email address, got {value!r}")
    return value


def _check_optional_word(value: str) -> str:
    """Empty, or one word without spaces or control characters (a user name, a channel)."""
    return check_no_space(value) if value else value


OptionalWord = Annotated[str, AfterValidator(_check_optional_word)]


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class WebhookReceiver:
    """POST alerts as JSON to an HTTP endpoint.

    Set ``url`` when the URL is not secret (it is written into the ConfigMap), or ``url_secret`` when the URL
    itself is the credential (chat webhooks with a token in the path): Alertmanager then reads it from the
    mounted Secret key (``url_file``), and ``host``/``port`` say where it points for the egress rule.
    """

    name: DnsLabel = Field(description="Receiver name; also the egress policy's destination name.")
    cidrs: Cidrs = Field(
        description="Networks the endpoint's host lives in (egress is opened to these only).",
    )
    url: str = Field(
        default="",
        description=(
            '``http(s)://host[:port]/path`` of the endpoint, written into the ConfigMap ("": use '
            "``url_secret``)."
        ),
    )
    url_secret: SecretKeyRef | None = Field(
        default=None,
        description="The whole URL, read from this Secret key on every notification (``None``: use ``url``).",
    )
    host: Hostname | None = Field(
        default=None,
        description=(
            "Host the URL in ``url_secret`` points at (required with it; taken from ``url`` otherwise)."
        ),
    )
    port: Port | None = Field(
        default=None,
        description="Port the URL in ``url_secret`` points at (``None``: 443; taken from ``url`` otherwise).",
    )
    bearer_token: SecretKeyRef | None = Field(
        default=None,
        description=(
            "Token sent as ``Authorization: Bearer``, read from this Secret key (``None``: no "
            "authentication)."
        ),
    )
    send_resolved: bool = Field(default=True, description="Also notify when alerts resolve.")

    def __post_init__(self) -> None:
        if bool(self.url) == (self.url_secret is not None):
            raise ValueError(
                f"webhook receiver {self.name!r}: set exactly one of 'url' (a URL without secrets) or "
                "'url_secret' (a Secret key holding the URL)"
            )
        if self.url_secret is not None:
            if self.host is None:
                raise ValueError(
                    f"webhook receiver {self.name!r}: 'host' is required with 'url_secret' "
                    "(the host the URL points at, for the egress rule)"
                )
            return
        if self.host is not None or self.port is not None:
            raise ValueError(
                f"webhook receiver {self.name!r}: 'host' and 'port' come from 'url'; set them only with "
                "'url_secret'"
            )
        check_url(
            self.url,
            "url",
            subject=f"'url' of webhook receiver {self.name!r}",
            credentials="use 'url_secret' (the whole URL from a Secret) or 'bearer_token'",
        )

    def endpoint(self) -> ExternalEndpoint:
        if self.host is not None:
            port = self.port or 443
            address = f"{self.host}:{port}"
            return ExternalEndpoint(name=self.name, cidrs=self.cidrs, port=port, address=address)
        parts = urlsplit(self.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return ExternalEndpoint(name=self.name, cidrs=self.cidrs, port=port, address=self.url)

    def secrets(self) -> tuple[SecretKeyRef, ...]:
        return tuple(ref for ref in (self.url_secret, self.bearer_token) if ref is not None)

    def to_config(self, secrets_dir: str) -> dict[str, Any]:
        webhook: dict[str, Any] = {"send_resolved": self.send_resolved}
        if self.url_secret is not None:
            webhook["url_file"] = secret_file(self.url_secret, secrets_dir)
        else:
            webhook["url"] = self.url
        if self.bearer_token:
            webhook["http_config"] = {
                "authorization": {
                    "type": "Bearer",
                    "credentials_file": secret_file(self.bearer_token, secrets_dir),
                }
            }
        return {"name": self.name, "webhook_configs": [webhook]}


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class EmailReceiver:
    """Send alerts by email through an SMTP relay."""

    name: DnsLabel = Field(description="Receiver name; also the egress policy's destination name.")
    to: str = Field(description="Recipient address.")
    from_address: str = Field(description="Sender address.")
    smarthost: Hostname = Field(description="SMTP relay host.")
    cidrs: Cidrs = Field(description="Networks the relay lives in.")
    smarthost_port: Port = Field(default=587, description="SMTP port (587: submission with STARTTLS).")
    auth_username: OptionalWord = Field(default="", description='SMTP user ("" : no authentication).')
    auth_password: SecretKeyRef | None = Field(
        default=None,
        description="SMTP password, read from this Secret key; required with ``auth_username``.",
    )
    require_tls: bool = Field(default=True, description="Refuse to send without STARTTLS.")
    send_resolved: bool = Field(default=True, description="Also notify when alerts resolve.")

    def __post_init__(self) -> None:
        _check_address(self.to, "to")
        _check_address(self.from_address, "from_address")
        if bool(self.auth_username) != (self.auth_password is not None):
            raise ValueError(
                f"email receiver {self.name!r}: set both 'auth_username' and 'auth_password' or neither"
            )

    def endpoint(self) -> ExternalEndpoint:
        return ExternalEndpoint(
            name=self.name,
            cidrs=self.cidrs,
            port=self.smarthost_port,
            address=f"{self.smarthost}:{self.smarthost_port}",
        )

    def secrets(self) -> tuple[SecretKeyRef, ...]:
        return (self.auth_password,) if self.auth_password else ()

    def to_config(self, secrets_dir: str) -> dict[str, Any]:
        email: dict[str, Any] = {
            "to": self.to,
            "from": self.from_address,
            "smarthost": f"{self.smarthost}:{self.smarthost_port}",
            "require_tls": self.require_tls,
            "send_resolved": self.send_resolved,
        }
        if self.auth_password:
            email["auth_username"] = self.auth_username
            email["auth_password_file"] = secret_file(self.auth_password, secrets_dir)
        return {"name": self.name, "email_configs": [email]}


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class SlackReceiver:
    """Post alerts to Slack through an incoming-webhook URL (the URL is the credential)."""

    name: DnsLabel = Field(description="Receiver name; also the egress policy's destination name.")
    api_url: SecretKeyRef = Field(description="The incoming-webhook URL, read from this Secret key.")
    cidrs: Cidrs = Field(description="Networks of the Slack webhook host.")
    channel: OptionalWord = Field(
        default="",
        description='Channel override (``#ops``); "" posts to the webhook\'s own channel.',
    )
    host: Hostname = Field(
        default="hooks.slack.com",
        description="Host of the webhook URL (for the egress rule and documentation).",
    )
    send_resolved: bool = Field(default=True, description="Also notify when alerts resolve.")

    def endpoint(self) -> ExternalEndpoint:
        return ExternalEndpoint(name=self.name, cidrs=self.cidrs, port=443, address=f"https://{self.host}")

    def secrets(self) -> tuple[SecretKeyRef, ...]:
        return (self.api_url,)

    def to_config(self, secrets_dir: str) -> dict[str, Any]:
        slack: dict[str, Any] = {
            "api_url_file": secret_file(self.api_url, secrets_dir),
            "send_resolved": self.send_resolved,
        }
        if self.channel:
            slack["channel"] = self.channel
        return {"name": self.name, "slack_configs": [slack]}


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class PagerDutyReceiver:
    """Open PagerDuty incidents through the Events API v2."""

    name: DnsLabel = Field(description="Receiver name; also the egress policy's destination name.")
    routing_key: SecretKeyRef = Field(
        description="Integration (routing) key of the PagerDuty service, read from this Secret key.",
    )
    cidrs: Cidrs = Field(description="Networks of the Events API host.")
    host: Hostname = Field(
        default="events.pagerduty.com",
        description="Events API host (for the egress rule; Alertmanager's default URL points at it).",
    )
    send_resolved: bool = Field(default=True, description="Also resolve incidents when alerts resolve.")

    def endpoint(self) -> ExternalEndpoint:
        return ExternalEndpoint(name=self.name, cidrs=self.cidrs, port=443, address=f"https://{self.host}")

    def secrets(self) -> tuple[SecretKeyRef, ...]:
        return (self.routing_key,)

    def to_config(self, secrets_dir: str) -> dict[str, Any]:
        pagerduty = {
            "routing_key_file": secret_file(self.routing_key, secrets_dir),
            "send_resolved": self.send_resolved,
        }
        return {"name": self.name, "pagerduty_configs": [pagerduty]}


Receiver = WebhookReceiver | EmailReceiver | SlackReceiver | PagerDutyReceiver


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class SeverityRoute:
    """Send alerts of these severities to one receiver (every matching route notifies)."""

    severities: Annotated[tuple[Severity, ...], Field(min_length=1)] = Field(
        description="Severities of the alerts this route sends (at least one).",
    )
    receiver: DnsLabel = Field(description="Name of the receiver they go to (one of the ``*_receivers``).")


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class AlertmanagerConfigSettings:
    """Receivers, routes and timing of notifications. The default sends nothing (``null`` receiver)."""

    webhook_receivers: tuple[WebhookReceiver, ...] = Field(
        default=(),
        description="Receivers that POST alerts as JSON to an HTTP endpoint.",
    )
    email_receivers: tuple[EmailReceiver, ...] = Field(
        default=(),
        description="Receivers that send email through an SMTP relay.",
    )
    slack_receivers: tuple[SlackReceiver, ...] = Field(
        default=(),
        description="Receivers that post to Slack through an incoming webhook.",
    )
    pagerduty_receivers: tuple[PagerDutyReceiver, ...] = Field(
        default=(),
        description="Receivers that open PagerDuty incidents (Events API v2).",
    )
    routes: tuple[SeverityRoute, ...] = Field(
        default=(),
        description="Severity routes; alerts matching none go to the ``null`` receiver.",
    )
    group_wait: str = Field(
        default="30s",
        description="How long to wait to batch the first notification of a new group.",
    )
    group_interval: str = Field(
        default="5m",
        description="How long to wait before notifying about new alerts in a group already notified.",
    )
    repeat_interval: str = Field(
        default="4h",
        description="How long to wait before repeating a notification for a still-firing group.",
    )
    resolve_timeout: str = Field(
        default="5m",
        description="When an alert without an end time counts as resolved.",
    )

    def __post_init__(self) -> None:
        for setting in ("group_wait", "group_interval", "repeat_interval", "resolve_timeout"):
            check_duration(getattr(self, setting), setting)
        names = [receiver.name for receiver in self.receivers]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"receiver names must be unique, got duplicates {duplicates}")
        if NULL_RECEIVER in names:
            raise ValueError(f"receiver name {NULL_RECEIVER!r} is reserved for the default receiver")
        for route in self.routes:
            if route.receiver not in names:
                raise ValueError(
                    f"route for {[str(s) for s in route.severities]} names receiver {route.receiver!r}, "
                    f"which is not defined: define one of {sorted(names) or 'the *_receivers settings'}"
                )

    @property
    def receivers(self) -> tuple[Receiver, ...]:
        return (
            *self.webhook_receivers,
            *self.email_receivers,
            *self.slack_receivers,
            *self.pagerduty_receivers,
        )

    def endpoints(self) -> tuple[ExternalEndpoint, ...]:
        """Where notifications go: one external endpoint per receiver (the construct's egress)."""
        return tuple(receiver.endpoint() for receiver in self.receivers)

    def secrets(self) -> tuple[SecretKeyRef, ...]:
        """Every Secret key the config reads, each once, sorted (the construct mounts them)."""
        refs = {(ref.name, ref.key): ref for receiver in self.receivers for ref in receiver.secrets()}
        return tuple(refs[key] for key in sorted(refs))


def _matcher(label: str, values: Sequence[str]) -> str:
    if len(values) == 1:
        return f'{label}="{values[0]}"'
    return f'{label}=~"{"|".join(values)}"'


def alertmanager_config_document(
    settings: AlertmanagerConfigSettings,
    inhibit_rules: Iterable[InhibitRule] = (),
    secrets_dir: str = DEFAULT_SECRETS_DIR,
) -> dict[str, Any]:
    """``alertmanager.yml`` as data."""
    if not secrets_dir.startswith("/"):
        raise ValueError(f"'secrets_dir' must be an absolute in-pod path, got {secrets_dir!r}")
    route: dict[str, Any] = {
        "receiver": NULL_RECEIVER,
        "group_by": ["alertname", "severity"],
        "group_wait": settings.group_wait,
        "group_interval": settings.group_interval,
        "repeat_interval": settings.repeat_interval,
    }
    if settings.routes:
        route["routes"] = [
            {
                "receiver": r.receiver,
                "matchers": [_matcher("severity", [str(s) for s in r.severities])],
                "continue": True,
            }
            for r in settings.routes
        ]
    receivers = [{"name": NULL_RECEIVER}] + [
        receiver.to_config(secrets_dir) for receiver in sorted(settings.receivers, key=lambda r: r.name)
    ]
    document: dict[str, Any] = {
        "global": {"resolve_timeout": settings.resolve_timeout},
        "route": route,
        "receivers": receivers,
    }
    inhibits = [
        {
            "source_matchers": [_matcher("alertname", rule.sources)],
            "target_matchers": [_matcher("alertname", rule.targets)],
            **({"equal": list(rule.equal)} if rule.equal else {}),
        }
        for rule in inhibit_rules
    ]
    if inhibits:
        document["inhibit_rules"] = inhibits
    return document


def render_alertmanager_config(
    settings: AlertmanagerConfigSettings,
    inhibit_rules: Iterable[InhibitRule] = (),
    secrets_dir: str = DEFAULT_SECRETS_DIR,
) -> str:
    """``alertmanager.yml`` (sorted keys, deterministic, no secret values)."""
    document = alertmanager_config_document(settings, inhibit_rules, secrets_dir)
    return dump_yaml(document, width=1000)


__all__ = [
    "DEFAULT_SECRETS_DIR",
    "NULL_RECEIVER",
    "AlertmanagerConfigSettings",
    "EmailReceiver",
    "PagerDutyReceiver",
    "Receiver",
    "SeverityRoute",
    "SlackReceiver",
    "WebhookReceiver",
    "alertmanager_config_document",
    "render_alertmanager_config",
    "secret_file",
]
