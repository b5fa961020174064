"""cert-manager objects for Vault's TLS Secret (``vault.tls.issuer``), loaded only when that is set.

Objects (``vault/``):

* Certificate ``<secret_name>`` (``vault-tls``): writes the Secret Vault mounts, with exactly the DNS names
  and IP addresses of :func:`~vaultaio_constructs.vault.config.tls_dns_names` (the Service name clients
  verify, every pod's name on the headless Service that ``retry_join`` and ``api_addr`` use, localhost) and
  :data:`~vaultaio_constructs.vault.config.TLS_IP_ADDRESSES`; common name ``vault.<ns>.svc``. ECDSA P-256,
  a new key on every renewal, usages ``server auth`` and ``digital signature``.
* With ``bootstrap``: Issuer ``vault-selfsigned`` (``selfSigned``), Certificate ``vault-ca`` (a CA valid 10
  years that keeps its key when renewed, so certificates it signed keep verifying) into Secret
  ``vault-ca``, and Issuer ``<name>`` (``ca``) that signs Vault's certificate with it. The CA's key never
  leaves the namespace's Secret; ``ca.crt`` of ``vault-tls`` is that CA.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from vaultaio_constructs.crd import CustomResource
from vaultaio_constructs.crd import certmanager as cm
from vaultaio_constructs.vault.config import TLS_IP_ADDRESSES, tls_dns_names
from vaultaio_constructs.vault.props import VaultTlsIssuerProps

if TYPE_CHECKING:
    from vaultaio_constructs.vault.construct import Vault

#: Names of the bootstrap chain's objects.
SELF_SIGNED_ISSUER: Final = "vault-selfsigned"
BOOTSTRAP_CA: Final = "vault-ca"
#: Validity of the bootstrap CA (10 years) and how long before expiry it is renewed (1 year).
BOOTSTRAP_CA_HOURS: Final = 87600
BOOTSTRAP_CA_RENEW_BEFORE_HOURS: Final = 8760


def _resource(vault: Vault, kind: str, name: str, spec: cm.CertificateSpec | cm.IssuerSpec) -> None:
    vault.track(
        CustomResource(
            vault,
            f"{kind}-{name}",
            api_version=cm.API_VERSION,
            kind=kind,
            name=name,
            namespace=vault.namespace,
            labels=vault.labels,
            spec=spec,
        )
    )


def certificate_spec(vault: Vault, issuer: VaultTlsIssuerProps) -> cm.CertificateSpec:
    """The Certificate that writes Vault's TLS Secret."""
    return cm.CertificateSpec(
        secret_name=vault.tls_secret_name,
        issuer=cm.IssuerRef(name=issuer.issuer_name, kind=issuer.kind.value),
        common_name=vault.server_config.service_host,
        dns_names=tls_dns_names(vault.namespace, vault.stack.cluster_domain),
        ip_addresses=TLS_IP_ADDRESSES,
        duration_hours=issuer.duration_hours,
        renew_before_hours=issuer.renew_before_hours,
    )


def add_certificates(vault: Vault, issuer: VaultTlsIssuerProps) -> None:
    """Create the Certificate for Vault's TLS Secret (and the bootstrap chain when asked)."""
    if issuer.bootstrap:
        _resource(vault, "Issuer", SELF_SIGNED_ISSUER, cm.IssuerSpec())
        _resource(
            vault,
            "Certificate",
            BOOTSTRAP_CA,
            cm.CertificateSpec(
                secret_name=BOOTSTRAP_CA,
                issuer=cm.IssuerRef(name=SELF_SIGNED_ISSUER),
                common_name=f"vault-aio Vault TLS CA ({vault.namespace})",
                duration_hours=BOOTSTRAP_CA_HOURS,
                renew_before_hours=BOOTSTRAP_CA_RENEW_BEFORE_HOURS,
                is_ca=True,
                rotate_private_key=False,
            ),
        )
        _resource(vault, "Issuer", issuer.issuer_name, cm.IssuerSpec(ca_secret_name=BOOTSTRAP_CA))
    _resource(vault, "Certificate", vault.tls_secret_name, certificate_spec(vault, issuer))


__all__ = ["BOOTSTRAP_CA", "SELF_SIGNED_ISSUER", "add_certificates", "certificate_spec"]
