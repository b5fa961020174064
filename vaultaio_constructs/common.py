"""Small value types shared by every component: validated names, Secret references, resources.

Props classes across the package are pydantic dataclasses configured with :data:`PROPS_CONFIG`: frozen,
keyword-only and validated on construction, so the same class serves people importing a construct from
Python and the settings file (``vaultaio.yaml``), which is parsed straight into them. Unknown keys are
refused; error messages carry the key's location.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticCustomError

#: Configuration shared by every props dataclass: unknown keys are errors, defaults are validated too.
PROPS_CONFIG: Final = ConfigDict(extra="forbid", validate_default=True, str_strip_whitespace=False)

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
#: A label or annotation key: an optional DNS-subdomain prefix (at most 253 characters) and ``/``, then a name
#: of at most 63 alphanumerics, ``-``, ``_`` and ``.``, starting and ending alphanumeric.
_QUALIFIED_NAME = re.compile(
    r"^(?:(?=[^/]{1,253}/)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)


def check_dns_label(value: str) -> str:
    """A Kubernetes DNS-1123 label: lowercase alphanumerics and '-', at most 63 characters."""
    if len(value) > 63 or not _DNS1123_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a valid name: use lowercase letters, digits and '-', "
            "start and end with a letter or digit, at most 63 characters"
        )
    return value


def check_hostname(value: str) -> str:
    """A DNS name (RFC 1123 subdomain), as used for Ingress hosts."""
    if len(value) > 253 or not _DNS1123_SUBDOMAIN.match(value):
        raise ValueError(
            f"{value!r} is not a valid hostname: use dot-separated labels of lowercase letters, digits, '-'"
        )
    return value


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
        if not _QUALIFIED_NAME.match(key):
            raise ValueError(
                f"annotation key {key!r} is invalid: use 'name' or 'prefix/name' with a DNS-subdomain "
                "prefix and a name of at most 63 letters, digits, '-', '_' or '.', starting and ending with "
                "a letter or digit (e.g. 'nginx.ingress.kubernetes.io/proxy-body-size')"
            )
    return value


_LABEL_VALUE = re.compile(r"^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def check_labels(value: dict[str, str]) -> dict[str, str]:
    """Label keys and values the API server accepts (a selector with others is refused at apply)."""
    for key, label_value in value.items():
        if not _QUALIFIED_NAME.match(key):
            raise ValueError(
                f"label key {key!r} is invalid: use 'name' or 'prefix/name' with a DNS-subdomain prefix "
                "and a name of at most 63 letters, digits, '-', '_' or '.', starting and ending with a "
                "letter or digit (e.g. 'kubernetes.io/metadata.name')"
            )
        if not isinstance(label_value, str) or not _LABEL_VALUE.match(label_value):
            raise ValueError(
                f"label {key!r} has an invalid value {label_value!r}: at most 63 letters, digits, '-', '_' "
                "or '.', starting and ending with a letter or digit (or empty)"
            )
    return value


def check_service_url(value: str) -> str:
    """An ``http://`` or ``https://`` URL with a host, optional port and path; no credentials, query or
    fragment (a URL is written into ConfigMaps: credentials never belong there)."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError(
            f"{value!r} is not a valid URL: use e.g. http://loki-gateway.logging.svc:80"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{value!r} must be an http:// or https:// URL with a host (e.g. http://loki-gateway.logging.svc)"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{value!r} carries credentials: URLs are written into ConfigMaps, remove them")
    if parts.query or parts.fragment:
        raise ValueError(f"{value!r} must not have a query or fragment: give the base URL only")
    if port == 0:
        raise ValueError(f"{value!r} has port 0: use a port between 1 and 65535")
    return value


def check_egress_cidrs(value: tuple[str, ...]) -> tuple[str, ...]:
    """At least one network: an egress rule to no network would let nothing through."""
    if not value:
        raise ValueError(
            "list at least one network of the destination (e.g. ['203.0.113.0/24']): its egress "
            "NetworkPolicy opens to these networks only"
        )
    return value


DnsLabel = Annotated[str, AfterValidator(check_dns_label)]
Hostname = Annotated[str, AfterValidator(check_hostname)]
Cidr = Annotated[str, AfterValidator(check_cidr)]
#: The networks of an external destination (one egress NetworkPolicy); at least one.
EgressCidrs = Annotated[tuple[Cidr, ...], AfterValidator(check_egress_cidrs)]
Port = Annotated[int, Field(ge=1, le=65535)]
Annotations = Annotated[dict[str, str], AfterValidator(check_annotations)]
Labels = Annotated[dict[str, str], AfterValidator(check_labels)]
ServiceUrl = Annotated[str, AfterValidator(check_service_url)]


class Protocol(StrEnum):
    """Transport protocol of a port."""

    TCP = "TCP"
    UDP = "UDP"


@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class SecretKeyRef:
    """A key of a Secret that the manifests reference but never contain.

    The Secret is created outside the manifests (by ``scripts/init-vault.sh`` or by the user); only its
    name and key appear in the YAML.
    """

    #: Name of the Secret in the stack's namespace.
    name: DnsLabel
    #: Key inside the Secret.
    key: Annotated[str, Field(pattern=_SECRET_KEY.pattern, min_length=1, max_length=253)]


#: Error type of a credential given as a literal value; settings errors never echo such a value.
LITERAL_SECRET_ERROR: Final = "literal_secret"


def _refuse_literal_secret(value: Any) -> Any:
    if isinstance(value, str | bytes | int | float):
        raise PydanticCustomError(
            LITERAL_SECRET_ERROR,
            "must be a Secret reference (name: <secret>, key: <key>), never the value itself: create the "
            "Secret outside the manifests (kubectl create secret generic ...) and name it here",
        )
    return value


#: A credential setting: a :class:`SecretKeyRef`; a literal value is refused without being repeated.
SecretRef = Annotated[SecretKeyRef, BeforeValidator(_refuse_literal_secret)]


@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class ExternalEndpoint:
    """A destination outside the cluster (NTP server, notification receiver, KMS).

    The wiring turns it into one egress rule to ``cidrs`` on ``port``/``protocol`` for the consumer.
    """

    #: Short name used in the NetworkPolicy name (``egress-chrony-to-<name>``).
    name: DnsLabel
    #: Networks the destination lives in; at least one.
    cidrs: Annotated[tuple[Cidr, ...], Field(min_length=1)]
    #: Destination port.
    port: Port
    #: Transport protocol.
    protocol: Protocol = Protocol.TCP
    #: Hostname or URL the consumer's config uses, if any (informational; never resolved at synth).
    address: str = ""


@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class ExternalServiceProps:
    """An existing service the stack uses instead of running its own (``<component>.external``).

    ``url`` is what the consumers' configurations use. The other fields say where that traffic goes, so
    the NetworkPolicies let the consumers reach exactly that and nothing else: the pods selected by
    ``namespace_labels`` (and ``pod_labels``) for a service inside the cluster, or the ``cidrs`` of one
    outside it. Give one of the two.
    """

    #: Base URL the consumers use: ``http://`` or ``https://``, a host, an optional port and path
    #: (``http://loki-gateway.logging.svc``, ``https://prometheus.example.com:9090``). ``https`` is
    #: verified against the consumers' system CAs.
    url: ServiceUrl
    #: Inside the cluster: labels of the namespaces the service's pods run in (at least one label, never
    #: every namespace), e.g. ``{kubernetes.io/metadata.name: logging}``.
    namespace_labels: Labels | None = None
    #: Inside the cluster: labels of the service's pods in those namespaces (empty: every pod there).
    pod_labels: Labels = Field(default_factory=dict)
    #: Outside the cluster: the networks the service answers from.
    cidrs: tuple[Cidr, ...] = ()
    #: Ports the traffic arrives on at the peer. Inside the cluster these are the pods' container ports,
    #: which a Service may map (``loki-gateway`` port 80 -> pod port 8080). Empty: the URL's port
    #: (80 for ``http``, 443 for ``https`` when the URL has none).
    ports: tuple[Port, ...] = ()

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


@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class Resources:
    """CPU and memory for one container, in explicit units.

    Every container gets requests and a memory limit; a CPU limit is optional because CPU throttling hurts
    latency more than it protects neighbours on a small node.
    """

    #: CPU request in millicores.
    cpu_request_millicores: Annotated[int, Field(ge=1)]
    #: Memory request in MiB.
    memory_request_mib: Annotated[int, Field(ge=1)]
    #: Memory limit in MiB; must be >= the request.
    memory_limit_mib: Annotated[int, Field(ge=1)]
    #: CPU limit in millicores, or ``None`` for no CPU limit.
    cpu_limit_millicores: Annotated[int, Field(ge=1)] | None = None

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

    if not IMAGE_TAG_PATTERN.match(value):
        raise ValueError(
            f"{value!r} is not an exact version tag: use e.g. '2.0.4' or 'v3.14.0', never 'latest'"
        )
    return value


ImageTag = Annotated[str, AfterValidator(check_image_tag)]


@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class IngressProps:
    """An Ingress for a component's UI or API; created only when the block is present (a host is
    required). TLS terminates at the controller with ``tls_secret_name`` (or its default certificate);
    the NetworkPolicy admits the ingress controller (``network.ingress_controller``) to that one port.
    """

    #: Public host name.
    host: Hostname
    #: IngressClass (``None``: the cluster's default class).
    class_name: DnsLabel | None = None
    #: TLS Secret (``tls.crt``/``tls.key``) for ``host`` in this namespace (``None``: the controller's
    #: default certificate).
    tls_secret_name: DnsLabel | None = None
    #: Extra annotations for the controller (timeouts, allow-lists...).
    annotations: Annotations = Field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class WorkloadProps:
    """Settings every component with a container has (its props classes extend this)."""

    #: Image tag overriding the pinned one in :mod:`vaultaio_constructs.versions`.
    image_tag: ImageTag | None = None
    #: Container resources (``None``: the profile's default, see :mod:`vaultaio_constructs.profiles`).
    resources: Resources | None = None


@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class StatefulWorkloadProps(WorkloadProps):
    """Settings of a component that keeps its data on a PVC."""

    #: Size of the ``data`` PVC in GiB (``None``: the profile's default).
    storage_gib: Annotated[int, Field(ge=1)] | None = None
