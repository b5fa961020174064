"""``prometheus.remote_write``: typed destinations for Prometheus' samples (Mimir, Thanos Receive, Cortex,
VictoriaMetrics, Amazon Managed Service for Prometheus or any remote-write receiver).

Every key rendered here exists in Prometheus 3.14 (``config/config.go`` ``RemoteWriteConfig`` and
``QueueConfig`` of prometheus v0.314.0, the HTTP client settings of prometheus/common v0.70.1 and the
``sigv4`` block of prometheus/sigv4 v0.4.1, the versions Prometheus 3.14 builds with); the tests run
``promtool check config`` on the result.

Credentials are never values: ``basic`` (``username_file``/``password_file``), ``bearer``
(``authorization.credentials_file``), ``oauth2`` (``client_secret_file``) and ``secret_headers``
(``http_headers`` with ``files``, prometheus/common v0.70.1 ``config/headers.go``) read Secret keys that the
construct mounts as files under ``/etc/prometheus/secrets/<secret>/<key>``; ``sigv4`` (Amazon Managed
Service for Prometheus) takes its credentials from the AWS SDK chain: IRSA (``role_arn`` annotates the
ServiceAccount) or a static key pair as ``secretKeyRef`` environment variables. A literal password, token
or key anywhere in these settings is refused without being repeated, and so are URLs with user information
or a credential-like query parameter and plain ``headers`` named like a credential.

Each destination is one egress NetworkPolicy (``allow-prometheus-to-<name>``) to its ``cidrs`` on the URL's
port; an OAuth2 token endpoint on other networks or another port gets its own (``<name>-token``).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.common import (
    PROPS_CONFIG,
    Cidr,
    DnsLabel,
    EgressCidrs,
    ExternalEndpoint,
    Hostname,
    SecretKeyRef,
    SecretRef,
    check_aws_credentials,
    check_url,
    has_control_characters,
    redact_url,
)
from vaultaio_constructs.fielddocs import document_fields

_LABEL_NAME: Final = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
#: ``target_label`` of a ``replace`` rule may name capture groups (``${1}``, ``$name``).
_TEMPLATED_LABEL: Final = re.compile(r"^(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))(?:\w|\$(?:\{\w+\}|\w+))*$")
#: RE2 (Prometheus' regex engine) has no look-around and no back-references.
_NOT_RE2: Final = re.compile(r"\(\?<?[=!]|\\[1-9]")
#: Headers Prometheus refuses (``reservedHeaders`` and the ``authorization`` check in config.go).
RESERVED_HEADERS: Final = frozenset(
    {
        "authorization",
        "host",
        "content-encoding",
        "content-length",
        "content-type",
        "user-agent",
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "www-authenticate",
        "accept-encoding",
        "x-prometheus-remote-write-version",
        "x-prometheus-remote-read-version",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
    }
)
_HEADER_NAME: Final = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
#: Prometheus' queue defaults (``DefaultQueueConfig``), to validate settings that override only some.
DEFAULT_MIN_SHARDS: Final = 1
DEFAULT_MAX_SHARDS: Final = 50
DEFAULT_MIN_BACKOFF_MS: Final = 30
DEFAULT_MAX_BACKOFF_MS: Final = 5000


def _check_label_name(value: str) -> str:
    if not _LABEL_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a label name: use letters, digits and '_', not starting with a digit"
        )
    return value


LabelName = Annotated[str, AfterValidator(_check_label_name)]


def _check_single_line(value: str) -> str:
    if has_control_characters(value):
        raise ValueError(f"{value!r} must not contain newlines or other control characters")
    return value


#: A relabel ``separator`` or ``replacement``: one line of text.
SingleLine = Annotated[str, AfterValidator(_check_single_line)]


def _check_regex(value: str) -> str:
    _check_single_line(value)
    if _NOT_RE2.search(value):
        raise ValueError(
            f"regex {value!r} uses look-around or a back-reference: Prometheus' RE2 engine has neither"
        )
    try:
        re.compile(value)
    except re.error as err:
        raise ValueError(f"regex {value!r} does not compile: {err}") from None
    return value


Regex = Annotated[str, AfterValidator(_check_regex)]


def _check_https_url(value: str, setting: str) -> str:
    return check_url(value, setting, credentials="use 'auth' or 'secret_headers' with Secret references")


def _port(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80)


class RelabelAction(StrEnum):
    """Relabel actions of Prometheus 3.14 (``model/relabel``)."""

    REPLACE = "replace"
    KEEP = "keep"
    DROP = "drop"
    KEEPEQUAL = "keepequal"
    DROPEQUAL = "dropequal"
    HASHMOD = "hashmod"
    LABELMAP = "labelmap"
    LABELDROP = "labeldrop"
    LABELKEEP = "labelkeep"
    LOWERCASE = "lowercase"
    UPPERCASE = "uppercase"


#: Which fields each action uses (Prometheus refuses the others for the equal/label* actions; here every
#: action refuses what it would ignore, so a rule says only what it does).
_ACTION_FIELDS: Final[dict[RelabelAction, frozenset[str]]] = {
    RelabelAction.REPLACE: frozenset({"source_labels", "separator", "regex", "target_label", "replacement"}),
    RelabelAction.KEEP: frozenset({"source_labels", "separator", "regex"}),
    RelabelAction.DROP: frozenset({"source_labels", "separator", "regex"}),
    RelabelAction.KEEPEQUAL: frozenset({"source_labels", "target_label"}),
    RelabelAction.DROPEQUAL: frozenset({"source_labels", "target_label"}),
    RelabelAction.HASHMOD: frozenset({"source_labels", "separator", "target_label", "modulus"}),
    RelabelAction.LABELMAP: frozenset({"regex", "replacement"}),
    RelabelAction.LABELDROP: frozenset({"regex"}),
    RelabelAction.LABELKEEP: frozenset({"regex"}),
    RelabelAction.LOWERCASE: frozenset({"source_labels", "separator", "target_label"}),
    RelabelAction.UPPERCASE: frozenset({"source_labels", "separator", "target_label"}),
}
_NEEDS_SOURCE: Final = frozenset(
    {
        RelabelAction.KEEP,
        RelabelAction.DROP,
        RelabelAction.KEEPEQUAL,
        RelabelAction.DROPEQUAL,
        RelabelAction.HASHMOD,
        RelabelAction.LOWERCASE,
        RelabelAction.UPPERCASE,
    }
)
_NEEDS_TARGET: Final = frozenset(
    {
        RelabelAction.REPLACE,
        RelabelAction.KEEPEQUAL,
        RelabelAction.DROPEQUAL,
        RelabelAction.HASHMOD,
        RelabelAction.LOWERCASE,
        RelabelAction.UPPERCASE,
    }
)
_NEEDS_REGEX: Final = frozenset({RelabelAction.LABELMAP, RelabelAction.LABELDROP, RelabelAction.LABELKEEP})


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class RelabelRule:
    """One ``write_relabel_configs`` rule, applied to every sample before it is sent (drop noisy series,
    keep only some jobs, rename labels). Unset fields take Prometheus' defaults (``separator: ;``,
    ``regex: (.*)``, ``replacement: $1``); a field the action does not use is refused."""

    action: RelabelAction = Field(default=RelabelAction.REPLACE, description="What the rule does.")
    source_labels: tuple[LabelName, ...] = Field(
        default=(),
        description="Labels whose values, joined by ``separator``, are matched against ``regex``.",
    )
    separator: SingleLine | None = Field(
        default=None,
        description=(
            "Text put between the ``source_labels`` values before matching (``None``: Prometheus' ``;``)."
        ),
    )
    regex: Regex | None = Field(default=None, description="RE2 regular expression, anchored at both ends.")
    target_label: str | None = Field(
        default=None,
        description=(
            "Label written by ``replace`` (may use ``${1}``), ``hashmod``, ``lowercase``/``uppercase``, or "
            "compared by ``keepequal``/``dropequal``."
        ),
    )
    replacement: SingleLine | None = Field(
        default=None,
        description="Value written by ``replace`` (``$1`` ...) or label name pattern of ``labelmap``.",
    )
    modulus: Annotated[int, Field(ge=1)] | None = Field(default=None, description="Modulus of ``hashmod``.")

    def __post_init__(self) -> None:
        action = self.action
        used = {
            name
            for name in ("source_labels", "separator", "regex", "target_label", "replacement", "modulus")
            if getattr(self, name) not in (None, ())
        }
        extra = sorted(used - _ACTION_FIELDS[action])
        if extra:
            raise ValueError(
                f"a '{action}' rule does not use {', '.join(repr(e) for e in extra)}: it takes only "
                f"{', '.join(repr(f) for f in sorted(_ACTION_FIELDS[action]))}"
            )
        if action in _NEEDS_SOURCE and not self.source_labels:
            raise ValueError(f"a '{action}' rule needs 'source_labels'")
        if action in _NEEDS_TARGET and not self.target_label:
            raise ValueError(f"a '{action}' rule needs 'target_label'")
        if action in _NEEDS_REGEX and self.regex is None:
            raise ValueError(f"a '{action}' rule needs 'regex' (the label names it applies to)")
        if action is RelabelAction.HASHMOD and self.modulus is None:
            raise ValueError("a 'hashmod' rule needs 'modulus'")
        if self.target_label is not None:
            pattern = _TEMPLATED_LABEL if action is RelabelAction.REPLACE else _LABEL_NAME
            if not pattern.fullmatch(self.target_label):
                raise ValueError(f"'target_label' {self.target_label!r} is not a label name")

    def to_config(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"action": str(self.action)}
        if self.source_labels:
            rule["source_labels"] = list(self.source_labels)
        for name in ("separator", "regex", "target_label", "replacement", "modulus"):
            value = getattr(self, name)
            if value is not None:
                rule[name] = value
        return rule


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class RemoteWriteQueue:
    """``queue_config``: how much Prometheus buffers and how hard it pushes. Unset fields keep Prometheus'
    defaults (capacity 10000, 1-50 shards, 2000 samples per send, 5 s deadline, backoff 30 ms-5 s)."""

    capacity: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description="Samples buffered per shard before reading the WAL blocks.",
    )
    max_shards: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description="Most concurrent senders.",
    )
    min_shards: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description="Fewest concurrent senders (at start).",
    )
    max_samples_per_send: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description="Samples per request.",
    )
    batch_send_deadline_seconds: Annotated[int, Field(ge=1, le=300)] | None = Field(
        default=None,
        description="Seconds a sample waits in a shard before a partial batch is sent.",
    )
    min_backoff_ms: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description=(
            "First retry delay after a recoverable error, in milliseconds (doubles up to ``max_backoff_ms``)."
        ),
    )
    max_backoff_ms: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description="Longest retry delay, in milliseconds.",
    )
    retry_on_http_429: bool | None = Field(
        default=None,
        description="Retry on HTTP 429 (rate limited) like on 5xx instead of dropping the batch.",
    )
    sample_age_limit_seconds: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description=(
            "Drop samples older than this many seconds instead of sending them (``None``: never; useful "
            "after a long outage of the receiver, which would refuse old samples anyway)."
        ),
    )

    def __post_init__(self) -> None:
        min_shards = self.min_shards or DEFAULT_MIN_SHARDS
        max_shards = self.max_shards or DEFAULT_MAX_SHARDS
        if min_shards > max_shards:
            raise ValueError(
                f"'min_shards' ({min_shards}) must be <= 'max_shards' ({max_shards}; Prometheus' default is "
                f"{DEFAULT_MAX_SHARDS})"
            )
        min_backoff = self.min_backoff_ms or DEFAULT_MIN_BACKOFF_MS
        max_backoff = self.max_backoff_ms or DEFAULT_MAX_BACKOFF_MS
        if min_backoff > max_backoff:
            raise ValueError(
                f"'min_backoff_ms' ({min_backoff}) must be <= 'max_backoff_ms' ({max_backoff}; Prometheus' "
                f"default is {DEFAULT_MAX_BACKOFF_MS})"
            )

    def to_config(self) -> dict[str, Any]:
        queue: dict[str, Any] = {}
        for name in ("capacity", "max_shards", "min_shards", "max_samples_per_send", "retry_on_http_429"):
            value = getattr(self, name)
            if value is not None:
                queue[name] = value
        if self.batch_send_deadline_seconds is not None:
            queue["batch_send_deadline"] = f"{self.batch_send_deadline_seconds}s"
        if self.min_backoff_ms is not None:
            queue["min_backoff"] = f"{self.min_backoff_ms}ms"
        if self.max_backoff_ms is not None:
            queue["max_backoff"] = f"{self.max_backoff_ms}ms"
        if self.sample_age_limit_seconds is not None:
            queue["sample_age_limit"] = f"{self.sample_age_limit_seconds}s"
        return queue


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class BasicAuth:
    """HTTP basic authentication; both values read from Secret keys on every request."""

    type: Literal["basic"] = Field(default="basic", description="Selects this type: ``basic``.")
    username: SecretRef = Field(description="Secret key holding the user name.")
    password: SecretRef = Field(description="Secret key holding the password.")

    def secrets(self) -> tuple[SecretKeyRef, ...]:
        return (self.username, self.password)


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class BearerAuth:
    """``Authorization: Bearer <token>`` (Grafana Cloud, Thanos Receive behind a proxy, tenant tokens)."""

    type: Literal["bearer"] = Field(default="bearer", description="Selects this type: ``bearer``.")
    token: SecretRef = Field(description="Secret key holding the token.")

    def secrets(self) -> tuple[SecretKeyRef, ...]:
        return (self.token,)


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class OAuth2Auth:
    """OAuth 2.0 client credentials: Prometheus fetches a token from ``token_url`` and renews it."""

    type: Literal["oauth2"] = Field(default="oauth2", description="Selects this type: ``oauth2``.")
    client_id: Annotated[str, Field(min_length=1)] = Field(
        description="Client ID (an identifier, not a secret).",
    )
    client_secret: SecretRef = Field(description="Secret key holding the client secret.")
    token_url: str = Field(description="Token endpoint (https).")
    scopes: tuple[str, ...] = Field(default=(), description="Scopes requested.")
    endpoint_params: dict[str, str] = Field(
        default_factory=dict,
        description="Extra form parameters of the token request (e.g. ``audience``); never secrets.",
    )
    token_cidrs: tuple[Cidr, ...] | None = Field(
        default=None,
        description=(
            "Networks of the token endpoint (``None``: the same as the remote-write destination's ``cidrs``)."
        ),
    )

    def __post_init__(self) -> None:
        _check_https_url(self.token_url, "auth.token_url")
        if urlsplit(self.token_url).scheme != "https":
            raise ValueError(
                "'auth.token_url' must be https: the client secret is sent to it, got "
                f"{redact_url(self.token_url)!r}"
            )
        if self.token_cidrs is not None and not self.token_cidrs:
            raise ValueError("'auth.token_cidrs' must list at least one network, or be left out")

    def secrets(self) -> tuple[SecretKeyRef, ...]:
        return (self.client_secret,)


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class SigV4Auth:
    """AWS Signature Version 4, for Amazon Managed Service for Prometheus (``aps-workspaces``).

    Credentials come from the AWS SDK chain, exactly one source: ``role_arn`` (IRSA: the ServiceAccount is
    annotated ``eks.amazonaws.com/role-arn`` and the EKS webhook injects the web-identity token), or
    ``access_key_id`` + ``secret_access_key`` (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` from
    Secrets). The role needs ``aps:RemoteWrite`` on the workspace; ``cidrs`` must cover the workspace
    endpoint and, with IRSA, STS.
    """

    type: Literal["sigv4"] = Field(default="sigv4", description="Selects this type: ``sigv4``.")
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d+$")] = Field(
        description="AWS region of the workspace, e.g. ``eu-west-1``.",
    )
    role_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")] | None = Field(
        default=None,
        description="IAM role for IRSA (ServiceAccount annotation).",
    )
    access_key_id: SecretRef | None = Field(
        default=None,
        description=(
            "Secret key holding the access key ID (static credentials; needs ``secret_access_key`` too)."
        ),
    )
    secret_access_key: SecretRef | None = Field(
        default=None,
        description="Secret key holding the secret access key.",
    )

    def __post_init__(self) -> None:
        check_aws_credentials(
            "sigv4",
            "auth",
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
            role_arn=self.role_arn,
        )

    def secrets(self) -> tuple[SecretKeyRef, ...]:
        return ()


#: Authentication of a remote-write destination, chosen by ``type``.
RemoteWriteAuth = Annotated[BasicAuth | BearerAuth | OAuth2Auth | SigV4Auth, Field(discriminator="type")]


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class RemoteWriteTls:
    """TLS towards the destination (verification is always on)."""

    ca: SecretKeyRef | None = Field(
        default=None,
        description=(
            "Secret key holding the CA bundle that signed the destination's certificate (``None``: system "
            "roots)."
        ),
    )
    cert: SecretKeyRef | None = Field(
        default=None,
        description="Secret key of a client certificate (mutual TLS); with ``key``, or neither.",
    )
    key: SecretRef | None = Field(
        default=None,
        description=(
            "Secret key of the client certificate's private key (mutual TLS); with ``cert``, or neither."
        ),
    )
    server_name: Hostname | None = Field(
        default=None,
        description="Name to verify on the certificate (``None``: the URL's host).",
    )

    def __post_init__(self) -> None:
        if (self.cert is None) != (self.key is None):
            raise ValueError("'tls.cert' and 'tls.key' must be given together (mutual TLS), got only one")

    def secrets(self) -> tuple[SecretKeyRef, ...]:
        return tuple(ref for ref in (self.ca, self.cert, self.key) if ref is not None)


#: Header names that carry credentials (an API key, a token, a session): their values must come from a
#: Secret (``secret_headers``), never from ``headers``, which is written into the ConfigMap.
_CREDENTIAL_HEADER: Final = re.compile(
    r"auth|token|key|secret|passw|cookie|session|signature|credential|jwt|bearer", re.I
)
#: Header values that are credentials whatever the header's name: an HTTP authentication scheme and its
#: credentials (RFC 9110 ``credentials = auth-scheme [ 1*SP token68 ]``: ``Bearer <token>``, ``Basic ...``).
_CREDENTIAL_VALUE: Final = re.compile(
    r"\s*(?:bearer|basic|digest|token|negotiate|apikey|api-key|aws4-hmac-sha256|hoba|mutual|scram-sha-\d+)"
    r"\s+\S.*",
    re.I | re.S,
)
#: Headers ``http_headers`` may not set (prometheus/common v0.70.1 ``ReservedHeaders``): the remote-write
#: ones and the scrape timeout.
RESERVED_HTTP_HEADERS: Final = RESERVED_HEADERS | {"x-prometheus-scrape-timeout-seconds"}


def _check_header_name(name: str, reserved: frozenset[str]) -> None:
    if not _HEADER_NAME.fullmatch(name):
        raise ValueError(f"header name {name!r} is not a valid HTTP header name")
    if name.lower() in reserved:
        raise ValueError(
            f"header {name!r} is set by Prometheus itself (or is a credential): use 'auth' for "
            "credentials; Prometheus refuses the reserved headers"
        )


def _check_headers(value: dict[str, str]) -> dict[str, str]:
    for name, header_value in value.items():
        _check_header_name(name, RESERVED_HEADERS)
        if _CREDENTIAL_HEADER.search(name):
            raise ValueError(
                f"header {name!r} looks like a credential, and 'headers' are written into the ConfigMap: "
                f"put it in 'secret_headers' ({name}: {{name: <secret>, key: <key>}}), which Prometheus "
                "reads from the mounted Secret on every request"
            )
        if _CREDENTIAL_VALUE.fullmatch(header_value):
            raise ValueError(
                f"header {name!r} carries credentials (an authentication scheme and its token), and "
                f"'headers' are written into the ConfigMap: put it in 'secret_headers' ({name}: "
                "{name: <secret>, key: <key>}), which Prometheus reads from the mounted Secret on every "
                "request"
            )
        if has_control_characters(header_value):
            raise ValueError(
                f"header {name!r} must be a single line without control characters, got {header_value!r}"
            )
    return value


def _check_secret_headers(value: dict[str, SecretKeyRef]) -> dict[str, SecretKeyRef]:
    for name in value:
        _check_header_name(name, RESERVED_HTTP_HEADERS)
    return value


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class RemoteWrite:
    """One remote-write destination (a long-term store such as Mimir, Thanos Receive, Cortex or AMP)."""

    name: DnsLabel = Field(
        description=(
            "Name of the destination: Prometheus' ``remote_write.name`` (its metrics' ``remote_name`` label) "
            "and the egress NetworkPolicy's name (``allow-prometheus-to-<name>``)."
        ),
    )
    url: Annotated[str, AfterValidator(lambda v: _check_https_url(v, "url"))] = Field(
        description=(
            "Write endpoint, e.g. ``https://mimir.example.com/api/v1/push``. Must be https when ``auth`` "
            "sends credentials."
        ),
    )
    cidrs: EgressCidrs = Field(
        description=(
            "Networks the endpoint's host lives in: the only egress this destination opens (on the URL's "
            "port)."
        ),
    )
    auth: RemoteWriteAuth | None = Field(
        default=None,
        description=(
            "Authentication (``None``: none, e.g. a receiver inside a private network that authenticates by "
            "mTLS)."
        ),
    )
    tls: RemoteWriteTls | None = Field(default=None, description="TLS settings for an https URL.")
    headers: Annotated[dict[str, str], AfterValidator(_check_headers)] = Field(
        default_factory=dict,
        description=(
            "Extra HTTP headers, e.g. ``X-Scope-OrgID`` for a Mimir tenant; written into the ConfigMap, so a "
            "name that looks like a credential (``*key*``, ``*token*``, ``*auth*``, ``*secret*``...) and a "
            "value with an authentication scheme (``Bearer <token>``, ``Basic <credentials>``...) are "
            "refused: use ``secret_headers``."
        ),
    )
    secret_headers: Annotated[dict[str, SecretRef], AfterValidator(_check_secret_headers)] = Field(
        default_factory=dict,
        description=(
            "HTTP headers whose values are credentials (``X-Api-Key``, a tenant token), each read from a "
            "Secret key that Prometheus mounts, on every request (``http_headers`` with ``files``): the "
            "value is never in the ConfigMap. Needs an https ``url``."
        ),
    )
    remote_timeout_seconds: Annotated[int, Field(ge=1, le=300)] = Field(
        default=30,
        description="Seconds a request may take before it is retried.",
    )
    queue: RemoteWriteQueue | None = Field(
        default=None,
        description="Queue and sharding settings (``None``: Prometheus' defaults).",
    )
    write_relabel_configs: tuple[RelabelRule, ...] = Field(
        default=(),
        description="Relabel rules applied to every sample before it is sent (``write_relabel_configs``).",
    )

    def __post_init__(self) -> None:
        https = urlsplit(self.url).scheme == "https"
        url = redact_url(self.url)
        if self.auth is not None and not https:
            raise ValueError(
                f"'url' of remote_write {self.name!r} must be https with '{self.auth.type}' authentication: "
                f"the credentials would cross the network in clear text, got {url!r}"
            )
        if self.secret_headers and not https:
            raise ValueError(
                f"'url' of remote_write {self.name!r} must be https with 'secret_headers': the credentials "
                f"would cross the network in clear text, got {url!r}"
            )
        if self.tls is not None and not https:
            raise ValueError(f"remote_write {self.name!r} has 'tls' but its url is not https: {url!r}")
        both = sorted({n.lower() for n in self.headers} & {n.lower() for n in self.secret_headers})
        if both:
            raise ValueError(
                f"remote_write {self.name!r}: header(s) {both} in both 'headers' and 'secret_headers': "
                "give each header once"
            )

    @property
    def port(self) -> int:
        return _port(self.url)

    def endpoints(self) -> tuple[ExternalEndpoint, ...]:
        """Egress destinations: the write endpoint, and the OAuth2 token endpoint when it lies elsewhere."""
        found = [ExternalEndpoint(name=self.name, cidrs=self.cidrs, port=self.port, address=self.url)]
        if isinstance(self.auth, OAuth2Auth):
            cidrs = self.auth.token_cidrs or self.cidrs
            port = _port(self.auth.token_url)
            if (tuple(cidrs), port) != (tuple(self.cidrs), self.port):
                found.append(
                    ExternalEndpoint(
                        name=f"{self.name}-token"[:63], cidrs=cidrs, port=port, address=self.auth.token_url
                    )
                )
        return tuple(found)

    def secrets(self) -> tuple[SecretKeyRef, ...]:
        """Secret keys Prometheus reads as files for this destination."""
        found = self.auth.secrets() if self.auth is not None else ()
        found += tuple(self.secret_headers[name] for name in sorted(self.secret_headers))
        return found + (self.tls.secrets() if self.tls is not None else ())

    def to_config(self, secret_path: Any) -> dict[str, Any]:
        """The ``remote_write`` entry; ``secret_path(ref)`` gives the in-pod file of a Secret key."""
        entry: dict[str, Any] = {
            "name": self.name,
            "url": self.url,
            "remote_timeout": f"{self.remote_timeout_seconds}s",
        }
        if self.headers:
            entry["headers"] = dict(sorted(self.headers.items()))
        if self.secret_headers:
            entry["http_headers"] = {
                name: {"files": [secret_path(ref)]} for name, ref in sorted(self.secret_headers.items())
            }
        auth = self.auth
        if isinstance(auth, BasicAuth):
            entry["basic_auth"] = {
                "username_file": secret_path(auth.username),
                "password_file": secret_path(auth.password),
            }
        elif isinstance(auth, BearerAuth):
            entry["authorization"] = {"type": "Bearer", "credentials_file": secret_path(auth.token)}
        elif isinstance(auth, OAuth2Auth):
            oauth2: dict[str, Any] = {
                "client_id": auth.client_id,
                "client_secret_file": secret_path(auth.client_secret),
                "token_url": auth.token_url,
            }
            if auth.scopes:
                oauth2["scopes"] = list(auth.scopes)
            if auth.endpoint_params:
                oauth2["endpoint_params"] = dict(sorted(auth.endpoint_params.items()))
            entry["oauth2"] = oauth2
        elif isinstance(auth, SigV4Auth):
            entry["sigv4"] = {"region": auth.region}
        if self.tls is not None:
            tls: dict[str, Any] = {"insecure_skip_verify": False}
            if self.tls.ca is not None:
                tls["ca_file"] = secret_path(self.tls.ca)
            if self.tls.cert is not None and self.tls.key is not None:
                tls["cert_file"] = secret_path(self.tls.cert)
                tls["key_file"] = secret_path(self.tls.key)
            if self.tls.server_name is not None:
                tls["server_name"] = self.tls.server_name
            entry["tls_config"] = tls
        if self.queue is not None and self.queue.to_config():
            entry["queue_config"] = self.queue.to_config()
        if self.write_relabel_configs:
            entry["write_relabel_configs"] = [rule.to_config() for rule in self.write_relabel_configs]
        return entry


def check_remote_writes(remote_writes: tuple[RemoteWrite, ...]) -> None:
    """Settings across destinations: unique names, one AWS credential source for the pod."""
    names = [rw.name for rw in remote_writes]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"'remote_write' names must be unique, got {duplicates} more than once")
    sigv4 = [rw.auth for rw in remote_writes if isinstance(rw.auth, SigV4Auth)]
    sources = {(a.role_arn, a.access_key_id, a.secret_access_key) for a in sigv4}
    if len(sources) > 1:
        raise ValueError(
            "every sigv4 'remote_write' must use the same credentials (one IRSA role or one key pair): the "
            "AWS SDK reads them from the pod's ServiceAccount and environment, of which there is one"
        )


def aws_environment(remote_writes: tuple[RemoteWrite, ...]) -> tuple[tuple[str, SecretKeyRef], ...]:
    """``(variable, Secret key)`` of static sigv4 credentials, if any."""
    for rw in remote_writes:
        auth = rw.auth
        if isinstance(auth, SigV4Auth) and auth.access_key_id and auth.secret_access_key:
            return (
                ("AWS_ACCESS_KEY_ID", auth.access_key_id),
                ("AWS_SECRET_ACCESS_KEY", auth.secret_access_key),
            )
    return ()


def irsa_role(remote_writes: tuple[RemoteWrite, ...]) -> str | None:
    """The IRSA role of sigv4 destinations, if any (a ServiceAccount annotation)."""
    for rw in remote_writes:
        if isinstance(rw.auth, SigV4Auth) and rw.auth.role_arn is not None:
            return rw.auth.role_arn
    return None
