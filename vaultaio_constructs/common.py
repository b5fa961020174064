"""Small value types shared by every component: validated names, Secret references, resources.

Props classes across the package are pydantic dataclasses configured with :data:`PROPS_CONFIG`: frozen,
keyword-only and validated on construction, so the same class serves people importing a construct from
Python and the settings file (``vaultaio.yaml``), which is parsed straight into them. Unknown keys are
refused; error messages carry the key's location. Types are strict (no ``"3"`` for an integer, no ``"no"``
for a boolean), and every pattern must match a whole value (``fullmatch``: a ``$``-anchored ``re.match``
accepts a trailing newline).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Final
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticCustomError

if TYPE_CHECKING:
    from pydantic import GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

from vaultaio_constructs.fielddocs import document_fields

#: Configuration shared by every props dataclass: unknown keys are errors, defaults are validated too, types
#: are strict (Python: exactly the annotated types; the settings file is validated in JSON mode, see
#: :func:`vaultaio_constructs.settings.validate_settings_value`), and no float setting is NaN or infinite.
#: ``hide_input_in_errors``: pydantic's message of a props constructor would end in ``input_value=...``, the
#: whole value, credentials included (a URL's user information, a literal where a Secret reference belongs);
#: the validators' own messages show values through :func:`shown`, and settings-file errors show the value
#: redacted (``settings.format_validation_error``).
PROPS_CONFIG: Final = ConfigDict(
    extra="forbid",
    validate_default=True,
    str_strip_whitespace=False,
    strict=True,
    allow_inf_nan=False,
    hide_input_in_errors=True,
)

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
#: A label or annotation key: an optional DNS-subdomain prefix (at most 253 characters) and ``/``, then a name
#: of at most 63 alphanumerics, ``-``, ``_`` and ``.``, starting and ending alphanumeric.
_QUALIFIED_NAME = re.compile(
    r"^(?:(?=[^/]{1,253}/)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"(?=.{1,63}\Z)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
#: A label value: empty, or at most 63 alphanumerics, ``-``, ``_`` and ``.``, starting and ending
#: alphanumeric.
_LABEL_VALUE = re.compile(r"(?=.{0,63}\Z)([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
#: Whitespace and control characters: never part of a name, URL or address.
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def has_control_characters(value: str) -> bool:
    """``True`` if ``value`` holds a newline, tab or another control character (C0, DEL or C1)."""
    return _CONTROL.search(value) is not None


def check_dns_label(value: str) -> str:
    """A Kubernetes DNS-1123 label: lowercase alphanumerics and '-', at most 63 characters."""
    if len(value) > 63 or not _DNS1123_LABEL.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid name: use lowercase letters, digits and '-', "
            "start and end with a letter or digit, at most 63 characters"
        )
    return value


#: Namespaces Kubernetes itself creates and uses. The stack labels each of its namespaces for Pod Security,
#: puts a default-deny NetworkPolicy into it and ``kubectl delete -k dist/`` deletes it: in ``kube-system``
#: that would refuse re-created CoreDNS and CNI pods and cut cluster DNS off.
SYSTEM_NAMESPACES: Final = ("default", "kube-node-lease", "kube-public", "kube-system")


def check_stack_namespace(value: str) -> str:
    """A namespace the stack may own: a DNS label that is not one of Kubernetes' own namespaces."""
    check_dns_label(value)
    if value in SYSTEM_NAMESPACES:
        raise ValueError(
            f"{value!r} is a namespace of Kubernetes itself ({', '.join(SYSTEM_NAMESPACES)} are refused): "
            "the stack labels its namespaces for Pod Security, puts a default-deny NetworkPolicy into each "
            "(which would block every other pod there: CoreDNS and the CNI in kube-system) and 'kubectl "
            "delete -k' deletes them; use a namespace dedicated to the stack, e.g. 'vault-aio'"
        )
    return value


def check_hostname(value: str) -> str:
    """A DNS name (RFC 1123 subdomain), as used for Ingress hosts and SMTP relays; a ``user:password@host``
    is refused as a credential (:func:`check_host_credentials`)."""
    check_host_credentials(value)
    if len(value) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(value):
        raise ValueError(
            f"{shown(value)} is not a valid hostname: use dot-separated labels of lowercase letters, digits, "
            "'-'"
        )
    return value


def check_host_credentials(value: str) -> str:
    """A host setting (a name, ``host:port``) without user information: ``user:password@host`` is refused
    as a credential, with the password hidden, rather than as a malformed name."""
    return check_no_credentials(
        value, "a host", "name the host only; a password belongs in the setting's Secret reference"
    )


def check_cidr(value: str) -> str:
    """An IPv4 or IPv6 network in CIDR notation (``10.0.0.0/8``, ``192.0.2.10/32``)."""
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as err:
        raise ValueError(f"{value!r} is not a valid CIDR (e.g. 192.0.2.0/24): {err}") from None
    return value


def check_annotations(value: dict[str, str]) -> dict[str, str]:
    """Annotation keys the API server accepts (``name`` or ``prefix/name``); it refuses others at apply."""
    for key in value:
        if not _QUALIFIED_NAME.fullmatch(key):
            raise ValueError(
                f"annotation key {key!r} is invalid: use 'name' or 'prefix/name' with a DNS-subdomain "
                "prefix and a name of at most 63 letters, digits, '-', '_' or '.', starting and ending with "
                "a letter or digit (e.g. 'nginx.ingress.kubernetes.io/proxy-body-size')"
            )
    return value


def check_labels(value: dict[str, str]) -> dict[str, str]:
    """Label keys and values the API server accepts (it refuses others at apply time)."""
    for key, label_value in value.items():
        if not _QUALIFIED_NAME.fullmatch(key):
            raise ValueError(
                f"label key {key!r} is invalid: use 'name' or 'prefix/name' with a DNS-subdomain prefix and "
                "a name of at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or "
                "digit (e.g. 'kubernetes.io/metadata.name')"
            )
        if not _LABEL_VALUE.fullmatch(label_value):
            raise ValueError(
                f"label {key!r} has an invalid value {label_value!r}: use at most 63 letters, digits, '-', "
                "'_' or '.', starting and ending with a letter or digit (or an empty value)"
            )
    return value


def check_selector(value: dict[str, str]) -> dict[str, str]:
    """Labels that select something: an empty selector matches every namespace (or pod), so it is refused."""
    if not value:
        raise ValueError(
            "an empty selector matches everything (every namespace or every pod): name at least one label, "
            "e.g. {kubernetes.io/metadata.name: ingress-nginx}"
        )
    return value


def check_no_space(value: str) -> str:
    """One word: no whitespace and no control character (a newline would split the line of a config)."""
    if not value or _SPACE_OR_CONTROL.search(value):
        raise ValueError(f"{value!r} must be non-empty, without spaces, newlines or other control characters")
    return value


#: Names of query (or fragment) parameters that carry credentials: ``?token=``, ``access_token``,
#: ``api_key``, ``X-Amz-Signature``, Azure's ``sig``, ``password``... (anywhere in the name, any case).
_CREDENTIAL_PARAM = re.compile(r"token|key|secret|pass|pwd|auth|sig|credential|session|jwt|bearer", re.I)
#: Where a URL's authority ends.
_END_OF_AUTHORITY = re.compile(r"[/?#]")
#: URLs inside a longer text (an error message), up to whitespace or a quote.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]+")
#: What :func:`url_credentials` says of user information, and of an ``@`` after a ``/``, ``?`` or ``#``.
USERINFO: Final = "user information before '@'"
USERINFO_ANYWHERE: Final = (
    ", up to the last '@' wherever it is, since a password may hold '/', '?' or '#' "
    "(write an '@' of a path or query as %40)"
)
#: A path parameter (``;name=value`` or ``;value``) up to the next ``;`` or ``/``.
_PATH_PARAMETER = re.compile(r";([^;/]*)")


def _split_url(value: str) -> tuple[str, str, str, str, str | None, str | None]:
    """``(scheme://, userinfo, authority, path, query, fragment)`` of a URL, or of ``host[:port][/path]``
    without a scheme, cut on the raw text (``urlsplit`` drops newlines and tabs); ``None`` for a query or
    fragment that has no ``?`` / ``#``.

    The userinfo (``''`` when there is none) is everything before the **last** ``@`` of the value, wherever
    that ``@`` is: a password may hold ``/``, ``?`` or ``#`` (``openssl rand -base64`` gives ``/``), and cut
    at the first of them, as RFC 3986 does, the password would be read as a host and a port and its rest as
    the path, query or fragment (``https://admin:1234/pw@host``). So an ``@`` in a path, a query or a
    fragment counts as the end of user information too: such a URL is refused (an ``@`` in a query is
    written ``%40``, which every server decodes the same) and shown without it. Without a scheme, a value
    ``name@host`` is an email address or a service account: there, only a userinfo with a ``:``
    (``user:password@``) counts."""
    scheme, sep, rest = value.partition("://")
    prefix = scheme + sep if sep else ""
    if not sep:
        rest = value
    userinfo, at, after = rest.rpartition("@")
    if not at or not (prefix or ":" in userinfo):
        userinfo, after = "", rest
    else:
        userinfo += at
    authority = _END_OF_AUTHORITY.split(after, maxsplit=1)[0]
    before_fragment, has_fragment, fragment = after[len(authority) :].partition("#")
    path, has_query, query = before_fragment.partition("?")
    return prefix, userinfo, authority, path, query if has_query else None, fragment if has_fragment else None


def redact_url(value: str) -> str:
    """``value`` (a URL, or ``host[:port]``) fit for an error message: the userinfo (up to the last ``@``,
    :func:`_split_url`) becomes ``***``, and so do every path parameter's (``;name=value``) and query
    parameter's value and the fragment. A value without them comes back unchanged. It may hide more than
    the credential (a host after an ``@`` in a query); it never shows a part of one."""
    prefix, userinfo, authority, path, query, fragment = _split_url(value)
    text = prefix + ("***@" if userinfo else "") + _PATH_PARAMETER.sub(_redacted_parameter, authority + path)
    if query is not None:
        text += "?" + "&".join(
            f"{p.partition('=')[0]}=***" if "=" in p else "***" if p else "" for p in query.split("&")
        )
    if fragment is not None:
        text += "#***" if fragment else "#"
    return text


def _redacted_parameter(match: re.Match[str]) -> str:
    name, eq, _ = match[1].partition("=")
    return f";{name}=***" if eq else ";***" if name else ";"


def shown(value: str) -> str:
    """``value`` as an error message quotes it (``repr``), with a URL's or host's credentials hidden
    (:func:`redact_url`): a value refused for its form may still hold a password
    (``user:pw@smtp.example.com``)."""
    return repr(redact_url(value))


def redact_urls(text: str) -> str:
    """``text`` (an error message) with every ``scheme://`` URL in it passed through :func:`redact_url`."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


def url_credentials(value: str) -> str | None:
    """What in ``value`` (a URL, or ``host[:port]``) carries credentials, or ``None``: userinfo
    (``user:password@``, up to the last ``@`` of the value, so an ``@`` in a path, query or fragment too:
    :func:`_split_url`), or a path, query or fragment parameter named like a credential (``;jsessionid=``,
    ``?token=``, ``api_key``)."""
    _, userinfo, authority, path, query, fragment = _split_url(value)
    if userinfo:
        return USERINFO + (USERINFO_ANYWHERE if _END_OF_AUTHORITY.search(userinfo) else "")
    parameters = [m[1] for m in _PATH_PARAMETER.finditer(authority + path)]
    for part in (query or "", fragment or ""):
        parameters += part.replace(";", "&").split("&")
    for param in parameters:
        name = param.partition("=")[0]
        if name and _CREDENTIAL_PARAM.search(name):
            return f"the parameter {name!r}"
    return None


def check_no_credentials(value: str, subject: str, instead: str) -> str:
    """``value`` carries no credential (:func:`url_credentials`): it is written into a ConfigMap or a
    config file. ``subject`` names the setting in the error (``'seal.address'``), ``instead`` says where the
    credential goes; the error never repeats the userinfo or the query."""
    found = url_credentials(value)
    if found is not None:
        raise ValueError(
            f"{subject} must not contain credentials ({found}; it is written into a ConfigMap): {instead}, "
            f"got {redact_url(value)!r}"
        )
    return value


def check_address(value: str) -> str:
    """An optional host, ``host:port`` or URL: empty, or one word without whitespace or control characters,
    and no credentials (it is shown in a NetworkPolicy annotation)."""
    if not value:
        return value
    check_no_space(value)
    return check_no_credentials(value, "'address'", "name the host only")


def check_url(
    value: str,
    setting: str,
    schemes: tuple[str, ...] = ("http", "https"),
    *,
    credentials: str = "remove them, or use the setting's Secret reference",
    subject: str | None = None,
) -> str:
    """An absolute URL with one of ``schemes``, a host and a valid port, no whitespace or control character
    (``urlsplit`` silently drops newlines and tabs, so they are refused first) and no credentials (user
    information, or a query parameter named like one): every URL of the settings is written into a
    ConfigMap or a config file. ``credentials`` says where they go instead; ``subject`` names the setting in
    errors (default ``'<setting>'``). Errors never show the userinfo or the query (:func:`redact_url`)."""
    accepted = " or ".join(f"{s}://" for s in schemes)
    subject = subject or f"'{setting}'"
    shown = redact_url(value)
    if _SPACE_OR_CONTROL.search(value):
        raise ValueError(
            f"{subject} must be an {accepted} URL without spaces, newlines or control characters, "
            f"got {shown!r}"
        )
    # credentials first: a password holding '/' (``admin:pa/ss@host``) reads as a host and a bad port
    check_no_credentials(value, subject, credentials)
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"{subject} must be an {accepted} URL with a host, got {shown!r}")
    try:
        port = parts.port
    except ValueError:  # urlsplit checks the range only when the port is read
        port = 0
    if port == 0:
        raise ValueError(f"{subject} has a port outside 1-65535, got {shown!r}")
    return value


def check_service_url(value: str) -> str:
    """An ``http://`` or ``https://`` base URL with a host, optional port and path (an external service's);
    no credentials, query or fragment (a URL is written into ConfigMaps: credentials never belong there)."""
    check_url(value, "url", credentials="remove them")
    parts = urlsplit(value)
    if parts.query or parts.fragment:
        raise ValueError(f"{redact_url(value)!r} must not have a query or fragment: give the base URL only")
    return value


#: Oldest Kubernetes minor version the manifests target unless the settings say otherwise
#: (``kubernetes_version``): every version before it is out of upstream support. API fields newer than the
#: target are never written, so the output validates against the target's schema.
DEFAULT_KUBERNETES_VERSION: Final = "1.31"
#: The oldest target accepted: the version of the L1 classes (``cdk8s_plus_27``).
OLDEST_KUBERNETES_VERSION: Final = "1.27"
_KUBERNETES_VERSION = re.compile(r"1\.([0-9]{2})")


def kubernetes_minor(version: str) -> int:
    """The minor number of ``1.NN``."""
    match = _KUBERNETES_VERSION.fullmatch(version)
    if match is None:
        raise ValueError(f"{version!r} is not a Kubernetes version like '1.31'")
    return int(match[1])


def check_kubernetes_version(value: str) -> str:
    """A Kubernetes minor version ``1.NN`` from :data:`OLDEST_KUBERNETES_VERSION` on."""
    match = _KUBERNETES_VERSION.fullmatch(value)
    if match is None or int(match[1]) < kubernetes_minor(OLDEST_KUBERNETES_VERSION):
        raise ValueError(
            f"{value!r} is not a supported Kubernetes version: use a minor version from "
            f"'{OLDEST_KUBERNETES_VERSION}' on, e.g. '{DEFAULT_KUBERNETES_VERSION}'"
        )
    return value


def check_egress_cidrs(value: tuple[str, ...]) -> tuple[str, ...]:
    """At least one network: an egress rule to no network would let nothing through."""
    if not value:
        raise ValueError(
            "list at least one network of the destination (e.g. ['203.0.113.0/24']): its egress "
            "NetworkPolicy opens to these networks only"
        )
    return value


def check_replacement(component: str, enabled: bool, external: object | None) -> None:
    """Refuse an ``external`` replacement for a component the stack still runs itself."""
    if enabled and external is not None:
        raise ValueError(f"'external' replaces the stack's own {component}: set 'enabled: false' to use it")


def check_aws_credentials(
    what: str,
    prefix: str,
    *,
    access_key_id: object | None,
    secret_access_key: object | None,
    role_arn: object | None,
) -> None:
    """One AWS credential source: a static key pair (both halves, as Secret references) or an IRSA role.

    Shared by the S3 object store, the awskms seal and Prometheus' sigv4 remote write, so the three say the
    same thing; ``what`` names the consumer, ``prefix`` the settings block the keys live in.
    """
    static = (access_key_id is not None, secret_access_key is not None)
    if static[0] != static[1]:
        raise ValueError(
            f"'{prefix}.access_key_id' and '{prefix}.secret_access_key' must be given together, "
            f"got only {'access_key_id' if static[0] else 'secret_access_key'}"
        )
    if static[0] == (role_arn is not None):
        raise ValueError(
            f"{what} needs exactly one credential source: 'access_key_id' + 'secret_access_key' "
            f"(Secret references) or 'role_arn' (IRSA), got {'both' if static[0] else 'neither'}"
        )


@dataclasses.dataclass(frozen=True)
class SchemaHint:
    """Keywords added to a type's JSON Schema (``vaultaio.schema.json``) so that editors flag a bad value as
    it is typed. Validation stays with the type's validator; a hint must accept exactly what it accepts."""

    pattern: str
    max_length: int | None = None

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["pattern"] = self.pattern
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        return schema


DnsLabel = Annotated[
    str,
    AfterValidator(check_dns_label),
    SchemaHint(_DNS1123_LABEL.pattern, max_length=63),
]
#: A namespace of the stack: a DNS label, never one of :data:`SYSTEM_NAMESPACES` (the hint says the same).
StackNamespace = Annotated[
    str,
    AfterValidator(check_stack_namespace),
    SchemaHint(
        "^(?!(?:" + "|".join(SYSTEM_NAMESPACES) + ")$)" + _DNS1123_LABEL.pattern.removeprefix("^"),
        max_length=63,
    ),
]
Hostname = Annotated[
    str,
    AfterValidator(check_hostname),
    SchemaHint(_DNS1123_SUBDOMAIN.pattern, max_length=253),
]
Cidr = Annotated[str, AfterValidator(check_cidr)]
KubernetesVersion = Annotated[
    str,
    AfterValidator(check_kubernetes_version),
    SchemaHint(r"^1\.(2[7-9]|[3-9][0-9])$"),
]
#: The networks of an external destination (one egress NetworkPolicy); at least one.
EgressCidrs = Annotated[tuple[Cidr, ...], AfterValidator(check_egress_cidrs)]
Port = Annotated[int, Field(ge=1, le=65535)]
Annotations = Annotated[dict[str, str], AfterValidator(check_annotations)]
#: Labels (keys and values as the API server accepts them), e.g. ``external_labels``.
Labels = Annotated[dict[str, str], AfterValidator(check_labels)]
#: The base URL of an external service (no credentials, query or fragment).
ServiceUrl = Annotated[str, AfterValidator(check_service_url)]
#: Labels that select namespaces or pods in a NetworkPolicy: valid and never empty (``{}`` selects all).
Selector = Annotated[dict[str, str], AfterValidator(check_labels), AfterValidator(check_selector)]
#: A word without whitespace or control characters (a host, an address shown in a policy annotation...).
NoSpace = Annotated[str, AfterValidator(check_no_space)]
#: Linux user and group IDs as Kubernetes accepts them (``runAsUser``, ``supplementalGroups``).
UnixId = Annotated[int, Field(ge=0, le=2**31 - 1)]
#: PVC sizes in GiB: at least 1, at most 64 TiB (the largest single volume the common clouds offer; a larger
#: request stays Pending forever).
MAX_STORAGE_GIB: Final = 65536
StorageGib = Annotated[int, Field(ge=1, le=MAX_STORAGE_GIB)]


class Protocol(StrEnum):
    """Transport protocol of a port."""

    TCP = "TCP"
    UDP = "UDP"


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class SecretKeyRef:
    """A key of a Secret that the manifests reference but never contain.

    The Secret is created outside the manifests (by ``scripts/init-vault.sh`` or by the user); only its
    name and key appear in the YAML.
    """

    name: DnsLabel = Field(description="Name of the Secret in the stack's namespace.")
    key: Annotated[str, Field(pattern=_SECRET_KEY.pattern, min_length=1, max_length=253)] = Field(
        description="Key inside the Secret.",
    )


#: Error type of a credential given as a literal value; settings errors never echo such a value.
LITERAL_SECRET_ERROR: Final = "literal_secret"
#: What that error says (also for a string given where any :class:`SecretKeyRef` belongs).
LITERAL_SECRET_MESSAGE: Final = (
    "must be a Secret reference (name: <secret>, key: <key>), never the value itself: create the "
    "Secret outside the manifests (kubectl create secret generic ...) and name it here"
)


def _refuse_literal_secret(value: Any) -> Any:
    if isinstance(value, str | bytes | int | float):
        raise PydanticCustomError(LITERAL_SECRET_ERROR, LITERAL_SECRET_MESSAGE)
    return value


#: A credential setting: a :class:`SecretKeyRef`; a literal value is refused without being repeated.
SecretRef = Annotated[SecretKeyRef, BeforeValidator(_refuse_literal_secret)]


def check_basic_auth_username(value: str) -> str:
    """A user name HTTP basic authentication can carry: non-empty, at most 256 characters, no ``:`` (it
    separates the user from the password, RFC 7617) and no control character (it would split a config
    line or the header)."""
    if not value or len(value) > 256 or ":" in value or has_control_characters(value):
        raise ValueError(
            "'basic_auth.username' must be 1-256 characters without ':' (RFC 7617 separates user and "
            "password with it) or control characters; the password goes into 'basic_auth.password' as a "
            "Secret reference"
        )
    return value


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class ExternalBasicAuth:
    """HTTP basic authentication to an external service (a gateway's ``.htpasswd``, a reverse proxy): the
    user name is written into the consumers' configuration, the password is read from a Secret."""

    username: Annotated[str, AfterValidator(check_basic_auth_username)] = Field(
        description="User name (not a secret: it is written into the consumers' configuration).",
    )
    password: SecretRef = Field(
        description=(
            "Secret key holding the password (never the value), in every namespace whose pods use the "
            "service (see the ``ca`` of the same ``external`` block), read as a file: Alloy and Tempo on "
            "every push, Grafana when it starts."
        ),
    )


#: The name ``loki.external.basic_auth`` had before ``prometheus.external`` shared it; kept for imports.
LokiBasicAuth = ExternalBasicAuth


def client_secret_keys(
    basic_auth: ExternalBasicAuth | None, ca: SecretKeyRef | None
) -> tuple[SecretKeyRef, ...]:
    """The Secret keys a client of an external service reads as files: the basic-auth password, the CA."""
    return tuple(ref for ref in (basic_auth.password if basic_auth else None, ca) if ref is not None)


def check_ca_needs_https(component: str, url: str, ca: SecretKeyRef | None) -> None:
    """``ca`` verifies an https certificate: refuse it with a plain-http ``url`` (it would be ignored)."""
    if ca is not None and not url.startswith("https://"):
        raise ValueError(
            f"'ca' verifies the certificate of an https:// {component}, but 'url' is {url!r}: use the "
            f"https:// URL of the {component}, or remove 'ca'"
        )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class ExternalEndpoint:
    """A destination outside the cluster (NTP server, notification receiver, KMS).

    The wiring turns it into one egress rule to ``cidrs`` on ``port``/``protocol`` for the consumer.
    """

    name: DnsLabel = Field(
        description="Short name used in the NetworkPolicy name (``egress-chrony-to-<name>``).",
    )
    cidrs: Annotated[tuple[Cidr, ...], Field(min_length=1)] = Field(
        description="Networks the destination lives in; at least one.",
    )
    port: Port = Field(description="Destination port.")
    protocol: Protocol = Field(default=Protocol.TCP, description="Transport protocol.")
    address: Annotated[str, AfterValidator(check_address)] = Field(
        default="",
        description=(
            "Hostname or URL the consumer's config uses, if any (informational; never resolved at synth)."
        ),
    )


#: Bounds of :class:`Resources`: guards against typos (``1`` meant as 1 GiB, an extra zero), not a sizing
#: guide (``docs/PERFORMANCE.md`` has the sizes that work). No container of this stack starts in less
#: than 32 MiB (a Go runtime alone takes about 10 MiB), and no node has more than 256 cores or 1 TiB.
MAX_MILLICORES: Final = 256_000
MIN_MEMORY_REQUEST_MIB: Final = 16
MIN_MEMORY_LIMIT_MIB: Final = 32
MAX_MEMORY_MIB: Final = 1024 * 1024


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class ExternalServiceProps:
    """An existing service the stack uses instead of running its own (``<component>.external``).

    ``url`` is what the consumers' configurations use. The other fields say where that traffic goes, so
    the NetworkPolicies let the consumers reach exactly that and nothing else: the pods selected by
    ``namespace_labels`` (and ``pod_labels``) for a service inside the cluster, or the ``cidrs`` of one
    outside it. Give one of the two.
    """

    url: ServiceUrl = Field(
        description=(
            "Base URL the consumers use: ``http://`` or ``https://``, a host, an optional port and path "
            "(``http://loki-gateway.logging.svc``, ``https://prometheus.example.com:9090``). ``https`` is "
            "verified against the consumers' system CAs (an external Loki or Prometheus may name its own "
            "CA: ``ca``)."
        ),
    )
    namespace_labels: Labels | None = Field(
        default=None,
        description=(
            "Inside the cluster: labels of the namespaces the service's pods run in (at least one label, "
            "never every namespace), e.g. ``{kubernetes.io/metadata.name: logging}``."
        ),
    )
    pod_labels: Labels = Field(
        default_factory=dict,
        description=(
            "Inside the cluster: labels of the service's pods in those namespaces (empty: every pod there)."
        ),
    )
    cidrs: tuple[Cidr, ...] = Field(
        default=(),
        description="Outside the cluster: the networks the service answers from.",
    )
    ports: tuple[Port, ...] = Field(
        default=(),
        description=(
            "Ports the traffic arrives on at the peer. Inside the cluster these are the pods' container "
            "ports, which a Service may map (``loki-gateway`` port 80 -> pod port 8080). Empty: the URL's "
            "port (80 for ``http``, 443 for ``https`` when the URL has none)."
        ),
    )

    def __post_init__(self) -> None:
        if self.namespace_labels is None and not self.cidrs:
            raise ValueError(
                f"external service {self.url!r} needs 'namespace_labels' (inside the cluster) or 'cidrs' "
                "(outside it): the NetworkPolicies allow traffic to exactly that"
            )
        if self.namespace_labels is not None and self.cidrs:
            raise ValueError(
                f"external service {self.url!r}: give 'namespace_labels' (inside the cluster) or 'cidrs' "
                "(outside it), not both"
            )
        if self.namespace_labels is not None and not self.namespace_labels:
            raise ValueError(
                f"external service {self.url!r}: 'namespace_labels' needs at least one label: an empty "
                "selector would allow every namespace"
            )
        if self.pod_labels and self.namespace_labels is None:
            raise ValueError(
                f"external service {self.url!r}: 'pod_labels' select pods inside the cluster and need "
                "'namespace_labels'"
            )
        if len(set(self.ports)) != len(self.ports):
            raise ValueError(f"external service {self.url!r}: 'ports' lists a port twice, got {self.ports}")


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class Resources:
    """CPU and memory for one container, in explicit units.

    Every container gets requests and a memory limit; a CPU limit is optional because CPU throttling hurts
    latency more than it protects neighbours on a small node.
    """

    cpu_request_millicores: Annotated[int, Field(ge=1, le=MAX_MILLICORES)] = Field(
        description="CPU request in millicores (at most 256 cores).",
    )
    memory_request_mib: Annotated[int, Field(ge=MIN_MEMORY_REQUEST_MIB, le=MAX_MEMORY_MIB)] = Field(
        description="Memory request in MiB (at least 16 MiB, at most 1 TiB).",
    )
    memory_limit_mib: Annotated[int, Field(ge=MIN_MEMORY_LIMIT_MIB, le=MAX_MEMORY_MIB)] = Field(
        description="Memory limit in MiB; must be >= the request (at least 32 MiB, at most 1 TiB).",
    )
    cpu_limit_millicores: Annotated[int, Field(ge=1, le=MAX_MILLICORES)] | None = Field(
        default=None,
        description="CPU limit in millicores, or ``None`` for no CPU limit.",
    )

    def __post_init__(self) -> None:
        if self.memory_limit_mib < self.memory_request_mib:
            raise ValueError(
                f"'memory_limit_mib' ({self.memory_limit_mib}) must be >= 'memory_request_mib' "
                f"({self.memory_request_mib})"
            )
        if self.cpu_limit_millicores is not None and self.cpu_limit_millicores < self.cpu_request_millicores:
            raise ValueError(
                f"'cpu_limit_millicores' ({self.cpu_limit_millicores}) must be >= 'cpu_request_millicores' "
                f"({self.cpu_request_millicores})"
            )


def check_image_tag(value: str) -> str:
    """An exact version tag (``2.0.4``, ``v3.14.0``); ``latest`` and floating tags are refused."""
    from vaultaio_constructs.versions import IMAGE_TAG_PATTERN

    if not IMAGE_TAG_PATTERN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an exact version tag: use e.g. '2.0.4' or 'v3.14.0', never 'latest'"
            + ("; put a digest in 'image_digest'" if "@" in value else "")
        )
    return value


ImageTag = Annotated[str, AfterValidator(check_image_tag)]


def check_image_digest(value: str) -> str:
    """A content digest ``sha256:`` + 64 lowercase hex digits (``crane digest``, ``skopeo inspect``)."""
    from vaultaio_constructs.versions import IMAGE_DIGEST_PATTERN

    if not IMAGE_DIGEST_PATTERN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an image digest: use 'sha256:' and 64 lowercase hex digits, as "
            "'crane digest <image>' or 'skopeo inspect --format {{.Digest}} docker://<image>' print it"
        )
    return value


def check_image_repository(value: str) -> str:
    """``[registry[:port]/]path`` in lowercase, without tag or digest (e.g. ``registry.corp/chrony``)."""
    from vaultaio_constructs.versions import IMAGE_REPOSITORY_PATTERN

    if not IMAGE_REPOSITORY_PATTERN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an image repository: use '[registry[:port]/]path' in lowercase without a tag "
            "or digest (those are 'image_tag' and 'image_digest'), e.g. 'registry.example.com/mirror/vault'"
        )
    return value


ImageDigest = Annotated[str, AfterValidator(check_image_digest)]
ImageRepository = Annotated[str, AfterValidator(check_image_repository)]


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class IngressProps:
    """An Ingress for a component's UI or API; created only when the block is present (a host is
    required). TLS terminates at the controller with ``tls_secret_name`` (or its default certificate);
    the NetworkPolicy admits the ingress controller (``network.ingress_controller``) to that one port.
    """

    host: Hostname = Field(description="Public host name.")
    class_name: DnsLabel | None = Field(
        default=None,
        description="IngressClass (``None``: the cluster's default class).",
    )
    tls_secret_name: DnsLabel | None = Field(
        default=None,
        description=(
            "TLS Secret (``tls.crt``/``tls.key``) for ``host`` in this namespace (``None``: the controller's "
            "default certificate)."
        ),
    )
    annotations: Annotations = Field(
        default_factory=dict,
        description="Extra annotations for the controller (timeouts, allow-lists...).",
    )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class WorkloadProps:
    """Settings every component with a container has (its props classes extend this)."""

    image_tag: ImageTag | None = Field(
        default=None,
        description="Image tag overriding the pinned one in :mod:`vaultaio_constructs.versions`.",
    )
    image_digest: ImageDigest | None = Field(
        default=None,
        description=(
            "Content digest (``sha256:...``) of the image at that tag: the image becomes "
            "``repo:tag@sha256:...`` and the runtime pulls exactly that content (``None``: the tag alone; "
            'see README, "Pinning images by digest"). Set it again whenever the tag changes.'
        ),
    )
    image_repository: ImageRepository | None = Field(
        default=None,
        description=(
            "Repository overriding the pinned one (a mirror, or a Chrony image you build), without tag or "
            "digest."
        ),
    )
    resources: Resources | None = Field(
        default=None,
        description=(
            "Container resources (``None``: the profile's default, see :mod:`vaultaio_constructs.profiles`)."
        ),
    )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class StatefulWorkloadProps(WorkloadProps):
    """Settings of a component that keeps its data on a PVC."""

    storage_gib: StorageGib | None = Field(
        default=None,
        description=(
            "Size of the ``data`` PVC in GiB, at most 65536 (64 TiB) (``None``: the profile's default)."
        ),
    )
