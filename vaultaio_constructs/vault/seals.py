"""Vault seals: Shamir (default) and the auto-unseal backends, typed and free of secret values.

A seal is chosen in the settings file by ``type`` (a discriminated union, :data:`Seal`)::

    vault:
      seal:
        type: transit
        address: https://vault-unseal.example.com:8200
        key_name: vault-aio-unseal
        token: {name: vault-transit-seal, key: token}
        egress_cidrs: [203.0.113.10/32]

Every seal turns into a :class:`SealPlan` (:meth:`ShamirSeal.plan` and friends): the ``seal`` stanza of the
server configuration (never a credential), the environment variables (values only through ``secretKeyRef``),
the Secret volumes, the files whose content becomes an environment variable of the server process only, the
ServiceAccount annotations and pod labels that workload identity needs, and the external endpoints the
NetworkPolicy must let Vault reach. Credentials are always Secret references (:class:`SecretKeyRef`) or
workload identity; a missing required field fails when the settings are parsed, with the key's location.

With any auto-unseal seal ``vault operator init`` hands out *recovery* keys instead of unseal keys
(``-recovery-shares``/``-recovery-threshold``); :attr:`SealPlan.uses_recovery_keys` tells the scripts.

Sources (checked against the pinned Vault 2.0.4): the seal pages of the Vault configuration reference
(``configuration/seal/{transit,awskms,gcpckms,azurekeyvault}``) and the go-kms-wrapping wrappers, which read
a value from the environment *before* the config file for most keys.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass as std_dataclass
from enum import StrEnum
from typing import Annotated, Final, Literal
from urllib.parse import urlsplit

from pydantic import Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.common import (
    PROPS_CONFIG,
    Cidr,
    ExternalEndpoint,
    Port,
    SecretKeyRef,
    check_aws_credentials,
    check_no_credentials,
    check_url,
)
from vaultaio_constructs.fielddocs import document_fields

#: Where Secret-backed seal files are mounted (one sub-directory per Secret reference).
SEAL_MOUNT_ROOT: Final = "/vault/seal"
#: Mode of the Secret files the seal reads: owner and group (``fsGroup``) may read, nobody writes.
SEAL_FILE_MODE: Final = 0o440

_NonEmpty = Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[^\s\"]+$")]


class SealType(StrEnum):
    """The seal mechanisms this stack supports."""

    SHAMIR = "shamir"
    TRANSIT = "transit"
    AWSKMS = "awskms"
    GCPCKMS = "gcpckms"
    AZUREKEYVAULT = "azurekeyvault"


@std_dataclass(frozen=True, kw_only=True)
class EnvVar:
    """One environment variable of the Vault container: a literal, a downward-API field or a Secret key.

    Exactly one of ``value``, ``field_path`` and ``secret`` is set. ``value`` may reference variables defined
    earlier in the list with Kubernetes' ``$(NAME)`` syntax.
    """

    #: Variable name.
    name: str
    #: Literal value (never a credential).
    value: str | None = None
    #: Downward-API field path, e.g. ``metadata.name``.
    field_path: str | None = None
    #: Secret key the value comes from.
    secret: SecretKeyRef | None = None

    def __post_init__(self) -> None:
        given = [x for x in (self.value, self.field_path, self.secret) if x is not None]
        if len(given) != 1:
            raise ValueError(
                f"env var {self.name!r} needs exactly one of 'value', 'field_path' or 'secret', "
                f"got {len(given)}"
            )


@std_dataclass(frozen=True, kw_only=True)
class SecretFileVolume:
    """One key of a Secret mounted read-only as a file at ``<mount_path>/<file_name>``."""

    #: Pod volume name.
    volume_name: str
    #: The Secret key projected into the volume.
    secret: SecretKeyRef
    #: Directory the volume is mounted at.
    mount_path: str
    #: File name of the key inside ``mount_path``.
    file_name: str
    #: File mode (octal): :data:`SEAL_FILE_MODE`.
    default_mode: int = SEAL_FILE_MODE

    @property
    def file_path(self) -> str:
        """Absolute path of the file in the container."""
        return f"{self.mount_path}/{self.file_name}"


@std_dataclass(frozen=True, kw_only=True)
class SealPlan:
    """Everything one seal adds to the Vault pod, derived from the seal's settings."""

    #: Which mechanism.
    type: SealType
    #: The ``seal`` stanza as JSON (``{"transit": {...}}``), or ``None`` for Shamir. Values are strings,
    #: as Vault's seal parser reads them into a ``map[string]string``.
    stanza: dict[str, dict[str, str]] | None = None
    #: Environment variables of the Vault container (credentials only as ``secret``).
    env: tuple[EnvVar, ...] = ()
    #: ``(VARIABLE, file path)``: exported for the ``vault server`` process only, read from a mounted Secret
    #: file at start, so ``kubectl exec`` sessions never inherit the credential (see :func:`start_script`).
    env_from_files: tuple[tuple[str, str], ...] = ()
    #: Variables removed from the server process' environment before start (see :func:`start_script`).
    unset_env: tuple[str, ...] = ()
    #: Secret volumes the seal reads.
    volumes: tuple[SecretFileVolume, ...] = ()
    #: Annotations on Vault's ServiceAccount (workload identity).
    service_account_annotations: tuple[tuple[str, str], ...] = ()
    #: Labels on Vault's pods (workload identity webhooks select on them).
    pod_labels: tuple[tuple[str, str], ...] = ()
    #: Destinations outside the cluster the seal talks to; each becomes one egress rule.
    endpoints: tuple[ExternalEndpoint, ...] = ()

    @property
    def uses_recovery_keys(self) -> bool:
        """Auto-unseal: ``vault operator init`` takes ``-recovery-shares``/``-recovery-threshold``."""
        return self.type is not SealType.SHAMIR


def start_script(plan: SealPlan, server_args: tuple[str, ...]) -> str | None:
    """The ``/bin/sh -ec`` script that starts Vault when the seal needs one, else ``None``.

    Used when a credential must reach only the server process (the transit seal's ``VAULT_TOKEN``): the
    script drops ``plan.unset_env`` (the CLI's ``VAULT_ADDR``/``VAULT_CACERT``, which the transit client would
    otherwise adopt for the *remote* Vault), exports each ``plan.env_from_files`` variable from its file and
    ``exec``s ``vault server``. Environment variables set on the container are inherited by every
    ``kubectl exec`` session, so a token there would override the operator's own ``VAULT_TOKEN`` handling.
    """
    if not plan.env_from_files and not plan.unset_env:
        return None
    lines: list[str] = []
    if plan.unset_env:
        lines.append("unset " + " ".join(plan.unset_env))
    for name, path in plan.env_from_files:
        lines.append(f'{name}="$(cat {shlex.quote(path)})"')
        lines.append(f"export {name}")
    lines.append("exec " + " ".join(shlex.quote(arg) for arg in server_args))
    return "\n".join(lines) + "\n"


def _require_egress(seal: str, cidrs: tuple[str, ...], what: str) -> None:
    if not cidrs:
        raise ValueError(
            f"'seal.egress_cidrs' is required for the {seal} seal, got none: list the networks of {what} "
            "(e.g. ['203.0.113.10/32']) so the NetworkPolicy lets Vault reach it"
        )


def _secret_volume(seal: SealType, purpose: str, secret: SecretKeyRef, file_name: str) -> SecretFileVolume:
    return SecretFileVolume(
        volume_name=f"seal-{seal.value}-{purpose}",
        secret=secret,
        mount_path=f"{SEAL_MOUNT_ROOT}/{seal.value}-{purpose}",
        file_name=file_name,
    )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class ShamirSeal:
    """Shamir's secret sharing (default): Vault starts sealed and needs a threshold of unseal keys.

    ``scripts/init-vault.sh`` initialises Vault and unseals every pod; after each restart a pod stays sealed
    (not ready, still scraped so the sealed alert fires) until unsealed again.
    """

    type: Literal["shamir"] = Field(default="shamir", description="Selects this type: ``shamir``.")

    def plan(self) -> SealPlan:
        """No stanza, no env, no egress."""
        return SealPlan(type=SealType.SHAMIR)


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class TransitSeal:
    """Auto-unseal with the transit secrets engine of another Vault cluster.

    The token is read from a mounted Secret file into ``VAULT_TOKEN`` of the server process only (the
    documented env var of the transit seal); ``VAULT_ADDR``, ``VAULT_CACERT`` and ``VAULT_TLS_SERVER_NAME``,
    which the container sets for the local CLI, are unset for the server so the transit client uses only
    ``address`` and ``tls_ca_cert`` from the stanza (or the system trust store when no CA is given).
    The token needs ``update`` on ``<mount_path>/encrypt/<key_name>`` and ``<mount_path>/decrypt/<key_name>``.
    """

    type: Literal["transit"] = Field(default="transit", description="Selects this type: ``transit``.")
    address: str = Field(description="URL of the Vault that holds the transit key; must be ``https://``.")
    key_name: _NonEmpty = Field(description="Name of the transit key.")
    mount_path: _NonEmpty = Field(
        default="transit/",
        description="Mount path of the transit engine on that Vault.",
    )
    namespace: _NonEmpty | None = Field(
        default=None,
        description="Vault Enterprise namespace of the transit mount (``None``: root namespace).",
    )
    token: SecretKeyRef = Field(
        description=(
            "Secret key holding the transit token (mounted as a file, never an env var of the container)."
        ),
    )
    tls_ca_cert: SecretKeyRef | None = Field(
        default=None,
        description=(
            "Secret key holding the PEM CA of the transit Vault (``None``: the image's system trust store)."
        ),
    )
    tls_server_name: _NonEmpty | None = Field(
        default=None,
        description=(
            "Server name to verify on the transit Vault's certificate (``None``: the host of ``address``)."
        ),
    )
    disable_renewal: bool = Field(
        default=False,
        description="Turn off renewal of the transit token (use for a non-renewable token).",
    )
    egress_cidrs: tuple[Cidr, ...] = Field(
        default=(),
        description="Networks of the transit Vault, for the egress rule; required.",
    )
    egress_port: Port | None = Field(
        default=None,
        description="Port for the egress rule (``None``: the port of ``address``, else 443).",
    )

    def __post_init__(self) -> None:
        check_url(
            self.address,
            "seal.address",
            ("https",),  # the token travels in every request
            credentials="the transit token is a Secret reference ('token'): remove them",
        )
        _require_egress("transit", self.egress_cidrs, self.address)

    def plan(self) -> SealPlan:
        """Stanza with address/key/mount, token from a file, CA file if given, one egress endpoint."""
        token_volume = _secret_volume(SealType.TRANSIT, "token", self.token, "token")
        volumes = [token_volume]
        stanza = {
            "address": self.address,
            "key_name": self.key_name,
            "mount_path": self.mount_path,
            "disable_renewal": "true" if self.disable_renewal else "false",
        }
        if self.namespace is not None:
            stanza["namespace"] = self.namespace
        if self.tls_ca_cert is not None:
            ca_volume = _secret_volume(SealType.TRANSIT, "ca", self.tls_ca_cert, "ca.crt")
            volumes.append(ca_volume)
            stanza["tls_ca_cert"] = ca_volume.file_path
        if self.tls_server_name is not None:
            stanza["tls_server_name"] = self.tls_server_name
        port = self.egress_port or urlsplit(self.address).port or 443
        return SealPlan(
            type=SealType.TRANSIT,
            stanza={"transit": stanza},
            env_from_files=(("VAULT_TOKEN", token_volume.file_path),),
            unset_env=("VAULT_ADDR", "VAULT_CACERT", "VAULT_TLS_SERVER_NAME"),
            volumes=tuple(volumes),
            endpoints=(
                ExternalEndpoint(
                    name="seal-transit", cidrs=self.egress_cidrs, port=port, address=self.address
                ),
            ),
        )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class AwsKmsSeal:
    """Auto-unseal with an AWS KMS key.

    Credentials: either a static key pair from Secrets (``access_key_id`` + ``secret_access_key`` ->
    ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``), or IAM Roles for Service Accounts (``role_arn``: the
    ServiceAccount gets ``eks.amazonaws.com/role-arn`` and the EKS webhook injects the web-identity token).
    The IAM principal needs ``kms:Encrypt``, ``kms:Decrypt`` and ``kms:DescribeKey`` on the key.
    ``egress_cidrs`` must cover the KMS endpoint and, with IRSA, the STS endpoint.
    """

    type: Literal["awskms"] = Field(default="awskms", description="Selects this type: ``awskms``.")
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d+$")] = Field(
        description="AWS region of the key, e.g. ``eu-west-1``.",
    )
    kms_key_id: _NonEmpty = Field(description="Key ID, key ARN, alias name or alias ARN.")
    endpoint: _NonEmpty | None = Field(
        default=None,
        description=(
            "Custom KMS endpoint URL, e.g. a VPC interface endpoint (``None``: the regional public endpoint)."
        ),
    )
    access_key_id: SecretKeyRef | None = Field(
        default=None,
        description=(
            "Secret key holding the access key ID (static credentials; needs ``secret_access_key`` too)."
        ),
    )
    secret_access_key: SecretKeyRef | None = Field(
        default=None,
        description="Secret key holding the secret access key (static credentials).",
    )
    role_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")] | None = Field(
        default=None,
        description="IAM role for IRSA, set as ServiceAccount annotation ``eks.amazonaws.com/role-arn``.",
    )
    egress_cidrs: tuple[Cidr, ...] = Field(
        default=(),
        description="Networks of the KMS (and STS) endpoints, for the egress rule; required.",
    )
    egress_port: Port = Field(default=443, description="Port for the egress rule.")
    extra_egress: tuple[ExternalEndpoint, ...] = Field(
        default=(),
        description="Further destinations the seal needs (each one egress rule).",
    )

    def __post_init__(self) -> None:
        check_aws_credentials(
            "the awskms seal",
            "seal",
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
            role_arn=self.role_arn,
        )
        if self.endpoint is not None:
            check_no_credentials(
                self.endpoint,
                "'seal.endpoint'",
                "the key pair is a Secret reference ('access_key_id', 'secret_access_key'): remove them",
            )
        _require_egress("awskms", self.egress_cidrs, self._address)

    @property
    def _address(self) -> str:
        return self.endpoint or f"https://kms.{self.region}.amazonaws.com"

    def plan(self) -> SealPlan:
        """Stanza with region/key, static keys as secretKeyRef env or the IRSA annotation."""
        stanza = {"region": self.region, "kms_key_id": self.kms_key_id}
        if self.endpoint is not None:
            stanza["endpoint"] = self.endpoint
        env: tuple[EnvVar, ...] = ()
        annotations: tuple[tuple[str, str], ...] = ()
        if self.access_key_id is not None and self.secret_access_key is not None:
            env = (
                EnvVar(name="AWS_ACCESS_KEY_ID", secret=self.access_key_id),
                EnvVar(name="AWS_SECRET_ACCESS_KEY", secret=self.secret_access_key),
            )
        if self.role_arn is not None:
            annotations = (("eks.amazonaws.com/role-arn", self.role_arn),)
        return SealPlan(
            type=SealType.AWSKMS,
            stanza={"awskms": stanza},
            env=env,
            service_account_annotations=annotations,
            endpoints=(
                ExternalEndpoint(
                    name="seal-awskms", cidrs=self.egress_cidrs, port=self.egress_port, address=self._address
                ),
                *self.extra_egress,
            ),
        )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class GcpCkmsSeal:
    """Auto-unseal with a Google Cloud KMS key.

    Credentials: either a service-account JSON key from a Secret (mounted as a file,
    ``GOOGLE_APPLICATION_CREDENTIALS`` points at it), or GKE Workload Identity (``gcp_service_account``: the
    ServiceAccount gets ``iam.gke.io/gcp-service-account``). The principal needs
    ``cloudkms.cryptoKeyVersions.useToEncrypt``/``useToDecrypt`` and ``cloudkms.cryptoKeys.get``.
    ``egress_cidrs`` must cover ``cloudkms.googleapis.com`` and the OAuth token endpoint; with Workload
    Identity add the GKE metadata server to ``extra_egress``.
    """

    type: Literal["gcpckms"] = Field(default="gcpckms", description="Selects this type: ``gcpckms``.")
    project: _NonEmpty = Field(description="GCP project of the key ring.")
    region: _NonEmpty = Field(default="global", description="Location of the key ring.")
    key_ring: _NonEmpty = Field(description="Key ring name.")
    crypto_key: _NonEmpty = Field(description="Crypto key name.")
    credentials: SecretKeyRef | None = Field(
        default=None,
        description="Secret key holding a service-account JSON key.",
    )
    gcp_service_account: (
        Annotated[str, Field(pattern=r"^[a-z0-9-]+@[a-z0-9.-]+\.iam\.gserviceaccount\.com$")] | None
    ) = Field(
        default=None,
        description=(
            "Google service account for GKE Workload Identity (``name@project.iam.gserviceaccount.com``)."
        ),
    )
    egress_cidrs: tuple[Cidr, ...] = Field(
        default=(),
        description="Networks of the Cloud KMS and token endpoints, for the egress rule; required.",
    )
    egress_port: Port = Field(default=443, description="Port for the egress rule.")
    extra_egress: tuple[ExternalEndpoint, ...] = Field(
        default=(),
        description=(
            "Further destinations the seal needs (e.g. the GKE metadata server for Workload Identity)."
        ),
    )

    def __post_init__(self) -> None:
        if (self.credentials is None) == (self.gcp_service_account is None):
            raise ValueError(
                "the gcpckms seal needs exactly one credential source: "
                "'credentials' (Secret with a JSON key) or 'gcp_service_account' (Workload Identity), got "
                f"{'neither' if self.credentials is None else 'both'}"
            )
        _require_egress("gcpckms", self.egress_cidrs, "https://cloudkms.googleapis.com")

    def plan(self) -> SealPlan:
        """Stanza with project/region/key ring/key, credentials file or Workload Identity annotation."""
        stanza = {
            "project": self.project,
            "region": self.region,
            "key_ring": self.key_ring,
            "crypto_key": self.crypto_key,
        }
        env: tuple[EnvVar, ...] = ()
        volumes: tuple[SecretFileVolume, ...] = ()
        annotations: tuple[tuple[str, str], ...] = ()
        if self.credentials is not None:
            volume = _secret_volume(SealType.GCPCKMS, "credentials", self.credentials, "credentials.json")
            volumes = (volume,)
            env = (EnvVar(name="GOOGLE_APPLICATION_CREDENTIALS", value=volume.file_path),)
        if self.gcp_service_account is not None:
            annotations = (("iam.gke.io/gcp-service-account", self.gcp_service_account),)
        return SealPlan(
            type=SealType.GCPCKMS,
            stanza={"gcpckms": stanza},
            env=env,
            volumes=volumes,
            service_account_annotations=annotations,
            endpoints=(
                ExternalEndpoint(
                    name="seal-gcpckms",
                    cidrs=self.egress_cidrs,
                    port=self.egress_port,
                    address="https://cloudkms.googleapis.com",
                ),
                *self.extra_egress,
            ),
        )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class AzureKeyVaultSeal:
    """Auto-unseal with a key in Azure Key Vault (or Managed HSM with ``resource``).

    Credentials: either a client secret from a Secret (``client_id`` + ``client_secret`` ->
    ``AZURE_CLIENT_SECRET``), or Azure Workload Identity (``workload_identity: true`` with ``client_id``:
    the ServiceAccount gets ``azure.workload.identity/client-id`` and the pods the label
    ``azure.workload.identity/use: "true"``, so the webhook injects the federated token). The identity needs
    ``get``, ``wrapKey`` and ``unwrapKey`` on the key. ``egress_cidrs`` must cover the key vault and
    ``login.microsoftonline.com`` (or the cloud's login endpoint).
    """

    type: Literal["azurekeyvault"] = Field(
        default="azurekeyvault", description="Selects this type: ``azurekeyvault``."
    )
    tenant_id: _NonEmpty = Field(description="Entra ID tenant.")
    vault_name: Annotated[str, Field(pattern=r"^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")] = Field(
        description="Key vault name (the ``<name>`` of ``<name>.vault.azure.net``).",
    )
    key_name: _NonEmpty = Field(description="Key name.")
    client_id: _NonEmpty = Field(
        description="Application (client) ID of the service principal or managed identity; required.",
    )
    client_secret: SecretKeyRef | None = Field(
        default=None,
        description="Secret key holding the client secret (``None`` with workload identity).",
    )
    workload_identity: bool = Field(
        default=False,
        description="Use Azure Workload Identity instead of a client secret.",
    )
    environment: _NonEmpty = Field(default="AZUREPUBLICCLOUD", description="Azure cloud environment name.")
    resource: _NonEmpty | None = Field(
        default=None,
        description=(
            "Key Vault resource suffix (``None``: ``vault.azure.net``; ``managedhsm.azure.net`` for Managed "
            "HSM)."
        ),
    )
    egress_cidrs: tuple[Cidr, ...] = Field(
        default=(),
        description="Networks of the key vault and login endpoints, for the egress rule; required.",
    )
    egress_port: Port = Field(default=443, description="Port for the egress rule.")
    extra_egress: tuple[ExternalEndpoint, ...] = Field(
        default=(),
        description="Further destinations the seal needs.",
    )

    def __post_init__(self) -> None:
        if (self.client_secret is None) != self.workload_identity:
            raise ValueError(
                "the azurekeyvault seal needs exactly one credential source: "
                "'client_secret' (Secret reference) or 'workload_identity: true', got "
                f"{'neither' if self.client_secret is None else 'both'}"
            )
        _require_egress("azurekeyvault", self.egress_cidrs, self._address)

    @property
    def _address(self) -> str:
        return f"https://{self.vault_name}.{self.resource or 'vault.azure.net'}"

    def plan(self) -> SealPlan:
        """Stanza with tenant/vault/key/client id, the secret as secretKeyRef env or workload identity."""
        stanza = {
            "tenant_id": self.tenant_id,
            "vault_name": self.vault_name,
            "key_name": self.key_name,
            "client_id": self.client_id,
            "environment": self.environment,
        }
        if self.resource is not None:
            stanza["resource"] = self.resource
        env: tuple[EnvVar, ...] = ()
        annotations: tuple[tuple[str, str], ...] = ()
        labels: tuple[tuple[str, str], ...] = ()
        if self.client_secret is not None:
            env = (EnvVar(name="AZURE_CLIENT_SECRET", secret=self.client_secret),)
        if self.workload_identity:
            annotations = (("azure.workload.identity/client-id", self.client_id),)
            labels = (("azure.workload.identity/use", "true"),)
        return SealPlan(
            type=SealType.AZUREKEYVAULT,
            stanza={"azurekeyvault": stanza},
            env=env,
            service_account_annotations=annotations,
            pod_labels=labels,
            endpoints=(
                ExternalEndpoint(
                    name="seal-azurekeyvault",
                    cidrs=self.egress_cidrs,
                    port=self.egress_port,
                    address=self._address,
                ),
                *self.extra_egress,
            ),
        )


#: Any seal, chosen by ``type`` in the settings file.
Seal = Annotated[
    ShamirSeal | TransitSeal | AwsKmsSeal | GcpCkmsSeal | AzureKeyVaultSeal, Field(discriminator="type")
]
