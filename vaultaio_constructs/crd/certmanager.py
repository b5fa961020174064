"""cert-manager custom resources (``cert-manager.io/v1``): the fields this stack sets.

* :class:`CertificateSpec`: a certificate cert-manager keeps valid in a Secret (``tls.crt`` with the chain,
  ``tls.key``, and ``ca.crt`` when the issuer knows its CA).
* :class:`IssuerSpec`: a namespaced ``selfSigned`` or ``ca`` issuer (the in-manifest bootstrap chain).

Field names follow the v1.21.1 CRDs; the tests validate every rendered object against their schemas.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Final

API_VERSION: Final = "cert-manager.io/v1"
GROUP: Final = "cert-manager.io"

_DNS_NAME = re.compile(r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


#: Kinds of issuers a Certificate can name.
ISSUER_KINDS: Final = ("Issuer", "ClusterIssuer")


@dataclass(frozen=True, kw_only=True)
class IssuerRef:
    """The issuer that signs a Certificate: an ``Issuer`` in its namespace or a ``ClusterIssuer``."""

    name: str
    kind: str = "Issuer"

    def __post_init__(self) -> None:
        if self.kind not in ISSUER_KINDS:
            raise ValueError(f"issuer 'kind' must be one of {ISSUER_KINDS}, got {self.kind!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"group": GROUP, "kind": self.kind, "name": self.name}


def _hours(value: int) -> str:
    return f"{value}h"


@dataclass(frozen=True, kw_only=True)
class CertificateSpec:
    """A certificate written to ``secret_name``, with an ECDSA P-256 key (a new one on every renewal unless
    ``rotate_private_key`` is off, as for a CA whose renewed certificate must keep verifying old leaves)."""

    secret_name: str
    issuer: IssuerRef
    common_name: str
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    #: Validity in hours.
    duration_hours: int = 2160
    #: Renew this many hours before expiry.
    renew_before_hours: int = 720
    #: A CA certificate (the bootstrap chain's root) instead of a server certificate.
    is_ca: bool = False
    rotate_private_key: bool = True

    def __post_init__(self) -> None:
        for name in self.dns_names:
            if not _DNS_NAME.fullmatch(name) or len(name) > 253:
                raise ValueError(f"'dns_names' entry {name!r} is not a DNS name")
        for address in self.ip_addresses:
            ipaddress.ip_address(address)
        if not 1 <= self.renew_before_hours < self.duration_hours:
            raise ValueError(
                f"'renew_before_hours' ({self.renew_before_hours}) must be between 1 and "
                f"'duration_hours' ({self.duration_hours})"
            )

    def to_dict(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "secretName": self.secret_name,
            "issuerRef": self.issuer.to_dict(),
            "commonName": self.common_name,
            "duration": _hours(self.duration_hours),
            "renewBefore": _hours(self.renew_before_hours),
            "privateKey": {
                "algorithm": "ECDSA",
                "size": 256,
                "rotationPolicy": "Always" if self.rotate_private_key else "Never",
            },
        }
        if self.is_ca:
            spec["isCA"] = True
            spec["usages"] = ["cert sign", "crl sign"]
        else:
            spec["usages"] = ["server auth", "digital signature"]
        if self.dns_names:
            spec["dnsNames"] = list(self.dns_names)
        if self.ip_addresses:
            spec["ipAddresses"] = list(self.ip_addresses)
        return spec


@dataclass(frozen=True, kw_only=True)
class IssuerSpec:
    """A ``selfSigned`` issuer (``ca_secret_name`` ``None``) or a ``ca`` issuer signing with that Secret."""

    ca_secret_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.ca_secret_name is None:
            return {"selfSigned": {}}
        return {"ca": {"secretName": self.ca_secret_name}}


__all__ = ["API_VERSION", "GROUP", "ISSUER_KINDS", "CertificateSpec", "IssuerRef", "IssuerSpec"]
