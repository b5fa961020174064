"""Object storage for Loki and Tempo: S3 (and S3-compatible stores such as MinIO), GCS and Azure Blob.

A backend is chosen in the settings by ``type`` (a tagged union, see ``loki.storage`` and
``tempo.storage``)::

    loki:
      replicas: 3
      storage:
        type: s3
        bucket: loki-chunks
        endpoint: minio.storage.svc:9000      # host[:port]; omit for AWS (s3.<region>.amazonaws.com)
        region: us-east-1
        force_path_style: true
        access_key_id: {name: loki-s3, key: access-key-id}
        secret_access_key: {name: loki-s3, key: secret-access-key}
        egress_cidrs: [10.20.0.0/16]

Each backend turns into an :class:`ObjectStorePlan`: what the pod needs besides the component's own config
keys. Credentials are Secret references (environment variables through ``secretKeyRef``, or a Secret file)
or workload identity (ServiceAccount annotations, and a pod label for Azure); a settings value that is the
key itself is refused. The egress rule to the store's endpoint is an
:class:`~vaultaio_constructs.common.ExternalEndpoint` from ``egress_cidrs``/``egress_port`` (plus
``extra_egress`` for token endpoints), which the component passes to ``connect_external``.

How each program reads the credentials (checked against the pinned sources):

* S3: Loki 3.7 (``pkg/storage/chunk/client/aws/s3_storage_client.go``) loads the AWS SDK v2 default chain
  when ``access_key_id`` is empty: ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` from the environment, or
  the web-identity token that the EKS IRSA webhook injects. Tempo 2.10 (``tempodb/backend/s3/s3.go``
  ``fetchCreds``) chains ``EnvAWS`` and the minio-go ``IAM`` provider, which reads the same variables and the
  IRSA token file. Neither needs a key in its config file.
* GCS: both fall back to Google's default credentials, ``GOOGLE_APPLICATION_CREDENTIALS`` (a key file
  mounted from the Secret) or the GKE metadata server (Workload Identity).
* Azure: Tempo reads ``AZURE_STORAGE_KEY`` when ``storage_account_key`` is empty
  (``tempodb/backend/azure/azure_helpers.go``); Loki reads the key only from ``account_key``, so Loki's
  renderer writes ``${AZURE_STORAGE_KEY}`` there and runs with ``-config.expand-env=true``. Workload identity
  (``use_federated_token``) reads ``AZURE_CLIENT_ID``, ``AZURE_TENANT_ID`` and ``AZURE_FEDERATED_TOKEN_FILE``,
  which the Azure Workload Identity webhook injects into pods labelled ``azure.workload.identity/use``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass as std_dataclass
from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.common import (
    PROPS_CONFIG,
    Cidr,
    ExternalEndpoint,
    Port,
    SecretKeyRef,
    SecretRef,
    check_aws_credentials,
    redact_url,
)
from vaultaio_constructs.fielddocs import document_fields

#: Where Secret files of the object store (CA bundle, GCS key) are mounted.
OBJECT_STORE_MOUNT_ROOT: Final = "/etc/object-store"
#: Name of the external endpoint (and so of the NetworkPolicy ``allow-<component>-to-object-storage``).
EGRESS_NAME: Final = "object-storage"
#: Environment variable holding the Azure storage account key (read by Tempo natively, by Loki through
#: ``-config.expand-env``).
AZURE_KEY_ENV: Final = "AZURE_STORAGE_KEY"

_S3_BUCKET = re.compile(r"^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_GCS_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
_AZURE_CONTAINER = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_HOST_PORT = re.compile(
    r"^(?P<host>[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\])(:(?P<port>\d{1,5}))?$"
)


class StorageType(StrEnum):
    """The object stores Loki and Tempo can use here."""

    S3 = "s3"
    GCS = "gcs"
    AZURE = "azure"


def check_s3_bucket(value: str) -> str:
    if not _S3_BUCKET.fullmatch(value) or ".." in value:
        raise ValueError(
            f"{value!r} is not a valid S3 bucket name: 3-63 lowercase letters, digits, '.' and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def check_gcs_bucket(value: str) -> str:
    if not _GCS_BUCKET.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid GCS bucket name: lowercase letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit"
        )
    return value


def check_azure_container(value: str) -> str:
    if not _AZURE_CONTAINER.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid Azure container name: 3-63 lowercase letters, digits and single '-', "
            "starting and ending with a letter or digit"
        )
    return value


def check_endpoint(value: str) -> str:
    """``host`` or ``host:port``: no scheme (``insecure`` picks http), no path, no credentials."""
    if "://" in value:
        raise ValueError(
            f"{redact_url(value)!r} must be host[:port] without a scheme (e.g. 'minio.storage.svc:9000'); "
            "https is used unless 'insecure: true'"
        )
    if "@" in value:
        raise ValueError("the endpoint must not contain credentials ('@'): use Secret references")
    match = _HOST_PORT.fullmatch(value)
    if not match or (match["port"] and not 1 <= int(match["port"]) <= 65535):
        raise ValueError(
            f"{redact_url(value)!r} is not host[:port] (e.g. 's3.eu-west-1.amazonaws.com' or 'minio:9000')"
        )
    return value


S3Bucket = Annotated[str, AfterValidator(check_s3_bucket)]
GcsBucket = Annotated[str, AfterValidator(check_gcs_bucket)]
AzureContainer = Annotated[str, AfterValidator(check_azure_container)]
HostPort = Annotated[str, AfterValidator(check_endpoint)]


@std_dataclass(frozen=True, kw_only=True)
class EnvFromSecret:
    """An environment variable whose value comes from a Secret key."""

    name: str
    secret: SecretKeyRef


@std_dataclass(frozen=True, kw_only=True)
class EnvValue:
    """An environment variable with a literal (never secret) value."""

    name: str
    value: str


@std_dataclass(frozen=True, kw_only=True)
class SecretFile:
    """One Secret key mounted read-only as ``<mount_path>/<file_name>``."""

    volume_name: str
    secret: SecretKeyRef
    mount_path: str
    file_name: str

    @property
    def path(self) -> str:
        return f"{self.mount_path}/{self.file_name}"


@std_dataclass(frozen=True, kw_only=True)
class ObjectStorePlan:
    """What an object store adds to a pod besides the config keys: environment, Secret files, identity,
    egress."""

    type: StorageType
    #: Environment variables (credentials only through Secret references).
    env: tuple[EnvFromSecret | EnvValue, ...] = ()
    #: Secret files (CA bundle, GCS key).
    files: tuple[SecretFile, ...] = ()
    #: ServiceAccount annotations for workload identity.
    service_account_annotations: tuple[tuple[str, str], ...] = ()
    #: Pod labels for workload identity webhooks.
    pod_labels: tuple[tuple[str, str], ...] = ()
    #: Destinations outside the cluster: the store and any token endpoints.
    endpoints: tuple[ExternalEndpoint, ...] = ()


def _require_egress(setting: str, cidrs: tuple[str, ...], what: str) -> None:
    if not cidrs:
        raise ValueError(
            f"'{setting}.egress_cidrs' is required, got none: list the networks of {what} "
            "(e.g. ['10.20.0.0/16']) so the NetworkPolicy lets the pods reach it"
        )


def _secret_file(purpose: str, secret: SecretKeyRef, file_name: str) -> SecretFile:
    return SecretFile(
        volume_name=f"object-store-{purpose}",
        secret=secret,
        mount_path=f"{OBJECT_STORE_MOUNT_ROOT}/{purpose}",
        file_name=file_name,
    )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class S3Storage:
    """Amazon S3 or an S3-compatible store (MinIO, Ceph RGW, ...).

    Credentials: a static key pair from Secrets (``access_key_id`` + ``secret_access_key``, set as
    ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` through ``secretKeyRef``) or IAM Roles for Service
    Accounts (``role_arn``: ServiceAccount annotation ``eks.amazonaws.com/role-arn``; add the STS endpoint to
    ``extra_egress`` or ``egress_cidrs``). The principal needs ``s3:ListBucket``, ``s3:GetObject``,
    ``s3:PutObject`` and ``s3:DeleteObject`` on the bucket.
    """

    type: Literal["s3"] = Field(default="s3", description="Selects this type: ``s3``.")
    bucket: S3Bucket = Field(description="Bucket name; the bucket must exist.")
    region: Annotated[str, Field(pattern=r"^[a-z0-9-]{2,32}$")] | None = Field(
        default=None,
        description=(
            "Region (AWS: required without ``endpoint``; S3-compatible stores usually accept any, e.g. "
            "``us-east-1``)."
        ),
    )
    endpoint: HostPort | None = Field(
        default=None,
        description="``host[:port]`` of an S3-compatible store (``None``: ``s3.<region>.amazonaws.com``).",
    )
    force_path_style: bool = Field(
        default=False,
        description=(
            "Path-style addressing (``https://host/bucket``), which MinIO and most S3-compatible stores need."
        ),
    )
    insecure: bool = Field(
        default=False,
        description=(
            "Plain HTTP to the endpoint. Only for an in-cluster store on a trusted network; never for AWS."
        ),
    )
    ca: SecretKeyRef | None = Field(
        default=None,
        description=(
            "Secret key holding the PEM CA bundle of the endpoint's certificate (``None``: the image's trust "
            "store)."
        ),
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
    role_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")] | None = Field(
        default=None,
        description="IAM role for IRSA, set as ServiceAccount annotation ``eks.amazonaws.com/role-arn``.",
    )
    egress_cidrs: tuple[Cidr, ...] = Field(
        default=(),
        description="Networks of the endpoint, for the egress rule; required.",
    )
    egress_port: Port | None = Field(
        default=None,
        description=(
            "Port for the egress rule (``None``: the endpoint's port, else 443, or 80 with ``insecure``)."
        ),
    )
    extra_egress: tuple[ExternalEndpoint, ...] = Field(
        default=(),
        description=(
            "Further destinations the store needs (e.g. the STS endpoint for IRSA); each one egress rule."
        ),
    )

    def __post_init__(self) -> None:
        check_aws_credentials(
            "s3 storage",
            "storage",
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
            role_arn=self.role_arn,
        )
        if self.endpoint is None and self.region is None:
            raise ValueError(
                "s3 storage needs 'region' (AWS S3) or 'endpoint' (an S3-compatible store), got neither"
            )
        if self.insecure and self.endpoint is None:
            raise ValueError(
                "'storage.insecure: true' needs an 'endpoint': AWS S3 is reached over https only"
            )
        if self.insecure and self.ca is not None:
            raise ValueError("'storage.ca' has no effect with 'insecure: true' (plain HTTP): remove one")
        _require_egress("storage", self.egress_cidrs, self.address)

    @property
    def host(self) -> str:
        """``host[:port]`` the clients connect to."""
        return self.endpoint or f"s3.{self.region}.amazonaws.com"

    @property
    def address(self) -> str:
        return f"{'http' if self.insecure else 'https'}://{self.host}"

    @property
    def port(self) -> int:
        match = _HOST_PORT.fullmatch(self.host)
        explicit = int(match["port"]) if match and match["port"] else None
        return self.egress_port or explicit or (80 if self.insecure else 443)

    def plan(self) -> ObjectStorePlan:
        env: tuple[EnvFromSecret | EnvValue, ...] = ()
        annotations: tuple[tuple[str, str], ...] = ()
        if self.access_key_id is not None and self.secret_access_key is not None:
            env = (
                EnvFromSecret(name="AWS_ACCESS_KEY_ID", secret=self.access_key_id),
                EnvFromSecret(name="AWS_SECRET_ACCESS_KEY", secret=self.secret_access_key),
            )
        if self.role_arn is not None:
            annotations = (("eks.amazonaws.com/role-arn", self.role_arn),)
        files = (_secret_file("ca", self.ca, "ca.crt"),) if self.ca is not None else ()
        return ObjectStorePlan(
            type=StorageType.S3,
            env=env,
            files=files,
            service_account_annotations=annotations,
            endpoints=(
                ExternalEndpoint(
                    name=EGRESS_NAME, cidrs=self.egress_cidrs, port=self.port, address=self.address
                ),
                *self.extra_egress,
            ),
        )

    @property
    def ca_file(self) -> str | None:
        return _secret_file("ca", self.ca, "ca.crt").path if self.ca is not None else None


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class GcsStorage:
    """Google Cloud Storage.

    Credentials: a service-account JSON key from a Secret (mounted as a file that
    ``GOOGLE_APPLICATION_CREDENTIALS`` names) or GKE Workload Identity (``gcp_service_account``:
    ServiceAccount annotation ``iam.gke.io/gcp-service-account``; add the GKE metadata server to
    ``extra_egress``). The principal needs ``roles/storage.objectAdmin`` on the bucket.
    """

    type: Literal["gcs"] = Field(default="gcs", description="Selects this type: ``gcs``.")
    bucket: GcsBucket = Field(description="Bucket name; the bucket must exist.")
    credentials: SecretRef | None = Field(
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
        description=(
            "Networks of ``storage.googleapis.com`` and the token endpoint, for the egress rule; required."
        ),
    )
    egress_port: Port = Field(default=443, description="Port for the egress rule.")
    extra_egress: tuple[ExternalEndpoint, ...] = Field(
        default=(),
        description="Further destinations (e.g. the GKE metadata server for Workload Identity).",
    )

    def __post_init__(self) -> None:
        if (self.credentials is None) == (self.gcp_service_account is None):
            got = "neither" if self.credentials is None else "both"
            raise ValueError(
                "gcs storage needs exactly one credential source: 'credentials' (Secret with a JSON key) or "
                f"'gcp_service_account' (Workload Identity), got {got}"
            )
        _require_egress("storage", self.egress_cidrs, "https://storage.googleapis.com")

    def plan(self) -> ObjectStorePlan:
        env: tuple[EnvFromSecret | EnvValue, ...] = ()
        files: tuple[SecretFile, ...] = ()
        annotations: tuple[tuple[str, str], ...] = ()
        if self.credentials is not None:
            key = _secret_file("gcs", self.credentials, "credentials.json")
            files = (key,)
            env = (EnvValue(name="GOOGLE_APPLICATION_CREDENTIALS", value=key.path),)
        if self.gcp_service_account is not None:
            annotations = (("iam.gke.io/gcp-service-account", self.gcp_service_account),)
        return ObjectStorePlan(
            type=StorageType.GCS,
            env=env,
            files=files,
            service_account_annotations=annotations,
            endpoints=(
                ExternalEndpoint(
                    name=EGRESS_NAME,
                    cidrs=self.egress_cidrs,
                    port=self.egress_port,
                    address="https://storage.googleapis.com",
                ),
                *self.extra_egress,
            ),
        )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class AzureStorage:
    """Azure Blob Storage.

    Credentials: the storage account key from a Secret (``account_key``, environment variable
    ``AZURE_STORAGE_KEY``) or Azure Workload Identity (``workload_identity: true`` with ``client_id``:
    ServiceAccount annotation ``azure.workload.identity/client-id`` and pod label
    ``azure.workload.identity/use: "true"``; the identity needs *Storage Blob Data Contributor* on the
    container). ``egress_cidrs`` must cover the blob endpoint and, with workload identity,
    ``login.microsoftonline.com``.
    """

    type: Literal["azure"] = Field(default="azure", description="Selects this type: ``azure``.")
    account_name: Annotated[str, Field(pattern=r"^[a-z0-9]{3,24}$")] = Field(
        description="Storage account name.",
    )
    container: AzureContainer = Field(description="Blob container; it must exist.")
    account_key: SecretRef | None = Field(
        default=None,
        description="Secret key holding the storage account key.",
    )
    workload_identity: bool = Field(
        default=False,
        description="Use Azure Workload Identity instead of an account key (needs ``client_id``).",
    )
    client_id: Annotated[str, Field(pattern=r"^[0-9a-fA-F-]{36}$")] | None = Field(
        default=None,
        description="Client ID of the managed identity or app registration (workload identity).",
    )
    endpoint_suffix: Annotated[str, Field(pattern=r"^blob\.[a-z0-9.-]+$")] | None = Field(
        default=None,
        description="Blob endpoint suffix (``None``: ``blob.core.windows.net``; sovereign clouds differ).",
    )
    egress_cidrs: tuple[Cidr, ...] = Field(
        default=(),
        description="Networks of the blob endpoint (and login endpoint), for the egress rule; required.",
    )
    egress_port: Port = Field(default=443, description="Port for the egress rule.")
    extra_egress: tuple[ExternalEndpoint, ...] = Field(
        default=(),
        description="Further destinations the store needs.",
    )

    def __post_init__(self) -> None:
        if (self.account_key is None) != self.workload_identity:
            raise ValueError(
                "azure storage needs exactly one credential source: 'account_key' (Secret reference) or "
                f"'workload_identity: true', got {'neither' if self.account_key is None else 'both'}"
            )
        if self.workload_identity and self.client_id is None:
            raise ValueError("'storage.client_id' is required with 'workload_identity: true'")
        if not self.workload_identity and self.client_id is not None:
            raise ValueError("'storage.client_id' is only used with 'workload_identity: true'")
        _require_egress("storage", self.egress_cidrs, self.address)

    @property
    def address(self) -> str:
        return f"https://{self.account_name}.{self.endpoint_suffix or 'blob.core.windows.net'}"

    def plan(self) -> ObjectStorePlan:
        env: tuple[EnvFromSecret | EnvValue, ...] = ()
        annotations: tuple[tuple[str, str], ...] = ()
        labels: tuple[tuple[str, str], ...] = ()
        if self.account_key is not None:
            env = (EnvFromSecret(name=AZURE_KEY_ENV, secret=self.account_key),)
        if self.workload_identity and self.client_id is not None:
            annotations = (("azure.workload.identity/client-id", self.client_id),)
            labels = (("azure.workload.identity/use", "true"),)
        return ObjectStorePlan(
            type=StorageType.AZURE,
            env=env,
            service_account_annotations=annotations,
            pod_labels=labels,
            endpoints=(
                ExternalEndpoint(
                    name=EGRESS_NAME, cidrs=self.egress_cidrs, port=self.egress_port, address=self.address
                ),
                *self.extra_egress,
            ),
        )


#: Any object store.
ObjectStorage = S3Storage | GcsStorage | AzureStorage
