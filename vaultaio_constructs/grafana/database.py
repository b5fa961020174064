"""``grafana.database``: where Grafana keeps its state (users, sessions, folders, annotations, alerting).

* ``sqlite`` (default): Grafana's built-in file database on the ``data`` PVC. One replica only: the file
  belongs to one pod's volume.
* ``postgres`` / ``mysql``: an external database the operator runs (a managed service or an in-cluster
  operator). The pods become stateless (``/var/lib/grafana`` is an emptyDir, no PVC), so ``grafana.replicas``
  may exceed one; sessions live in the database (``remote_cache`` defaults to it), so any replica serves
  any user.

Keys written to ``grafana.ini`` ``[database]`` (Grafana's configuration reference, ``[database]``, and
``pkg/services/sqlstore/database_config.go``): ``type`` (``postgres``/``mysql``), ``host`` as
``host:port`` (every Grafana version reads the port from ``host``; newer ones also have a separate
``port`` key, which is not needed), ``name``, ``user``, ``password``, ``ssl_mode`` (Postgres: ``disable``,
``require``, ``verify-full``; MySQL: ``true``, ``false``, ``skip-verify``, the values the reference lists),
``ca_cert_path``, ``client_cert_path``, ``client_key_path``. User and password are Secret keys mounted as
files and read with ``$__file{...}``, so neither is in the ConfigMap; a literal value is refused.

The only egress the database adds is one NetworkPolicy to ``cidrs`` on ``port``
(``allow-grafana-to-database``).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BeforeValidator, Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.common import (
    PROPS_CONFIG,
    EgressCidrs,
    ExternalEndpoint,
    Hostname,
    Port,
    SecretKeyRef,
    SecretRef,
)
from vaultaio_constructs.fielddocs import document_fields

#: Directory under which the database Secrets are mounted (``<dir>/<secret>/<key>``).
DATABASE_SECRETS_DIR: Final = "/etc/grafana/database"
#: Name of the egress destination (``allow-grafana-to-database``).
EGRESS_NAME: Final = "database"


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class SqliteDatabase:
    """Grafana's built-in SQLite file on the ``data`` PVC (one replica)."""

    type: Literal["sqlite"] = Field(default="sqlite", description="Selects this type: ``sqlite``.")

    @property
    def external(self) -> bool:
        return False


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class _ExternalDatabase:
    """Settings every external database has."""

    host: Hostname = Field(description="Host name or IP address of the server.")
    name: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")] = Field(
        default="grafana",
        description="Database (schema) Grafana owns; create it, empty, before the first start.",
    )
    user: SecretRef = Field(description="Secret key holding the database user.")
    password: SecretRef = Field(description="Secret key holding the user's password.")
    ca: SecretKeyRef | None = Field(
        default=None,
        description=(
            "Secret key holding the CA bundle that signed the server's certificate (``None``: the image's "
            "system roots)."
        ),
    )
    client_cert: SecretKeyRef | None = Field(
        default=None,
        description="Secret key of a client certificate (mutual TLS); with ``client_key``, or neither.",
    )
    client_key: SecretRef | None = Field(
        default=None,
        description=(
            "Secret key of the client certificate's private key (mutual TLS); with ``client_cert``, or "
            "neither."
        ),
    )
    cidrs: EgressCidrs = Field(
        description="Networks of the database server: the only egress it opens (on ``port``).",
    )

    @property
    def external(self) -> bool:
        return True

    def _check_tls(self, tls_off: bool, kind: str) -> None:
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError(
                "'database.client_cert' and 'database.client_key' must be given together (mutual TLS)"
            )
        if tls_off and (self.ca is not None or self.client_cert is not None):
            raise ValueError(
                f"'database.ssl_mode' turns TLS off for {kind}, so 'ca' and 'client_cert' would be unused: "
                "choose a verifying ssl_mode or drop them"
            )

    def secrets(self) -> tuple[SecretKeyRef, ...]:
        """Every Secret key Grafana reads as a file for the database."""
        refs = (self.user, self.password, self.ca, self.client_cert, self.client_key)
        return tuple(ref for ref in refs if ref is not None)

    def _section(self, kind: str, port: int, ssl_mode: str) -> dict[str, str]:
        section = {
            "type": kind,
            "host": f"{self.host}:{port}",
            "name": self.name,
            "user": f"$__file{{{secret_path(self.user)}}}",
            "password": f"$__file{{{secret_path(self.password)}}}",
            "ssl_mode": ssl_mode,
        }
        if self.ca is not None:
            section["ca_cert_path"] = secret_path(self.ca)
        if self.client_cert is not None and self.client_key is not None:
            section["client_cert_path"] = secret_path(self.client_cert)
            section["client_key_path"] = secret_path(self.client_key)
        return section


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class PostgresDatabase(_ExternalDatabase):
    """PostgreSQL. ``verify-full`` (default) checks the certificate and the host name; ``require`` encrypts
    without verifying; ``disable`` sends the password in clear text (test clusters only)."""

    type: Literal["postgres"] = Field(default="postgres", description="Selects this type: ``postgres``.")
    port: Port = Field(default=5432, description="Server port.")
    ssl_mode: Literal["disable", "require", "verify-full"] = Field(
        default="verify-full",
        description="TLS mode (Grafana's ``ssl_mode`` values for Postgres).",
    )

    def __post_init__(self) -> None:
        self._check_tls(self.ssl_mode == "disable", "postgres")

    def ini_section(self) -> dict[str, str]:
        """``[database]`` of ``grafana.ini``."""
        return self._section("postgres", self.port, self.ssl_mode)

    def endpoint(self) -> ExternalEndpoint:
        return ExternalEndpoint(
            name=EGRESS_NAME, cidrs=self.cidrs, port=self.port, address=f"{self.host}:{self.port}"
        )


def _mysql_ssl_mode(value: Any) -> Any:
    """YAML reads an unquoted ``true``/``false`` as a boolean: accept it as the string Grafana expects."""
    return str(value).lower() if isinstance(value, bool) else value


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class MysqlDatabase(_ExternalDatabase):
    """MySQL or MariaDB. ``ssl_mode: "true"`` (default) verifies the certificate; ``skip-verify`` encrypts
    without verifying; ``"false"`` sends the password in clear text (test clusters only)."""

    type: Literal["mysql"] = Field(default="mysql", description="Selects this type: ``mysql``.")
    port: Port = Field(default=3306, description="Server port.")
    ssl_mode: Annotated[Literal["true", "false", "skip-verify"], BeforeValidator(_mysql_ssl_mode)] = Field(
        default="true",
        description="TLS mode (Grafana's ``ssl_mode`` values for MySQL).",
    )

    def __post_init__(self) -> None:
        self._check_tls(self.ssl_mode == "false", "mysql")

    def ini_section(self) -> dict[str, str]:
        """``[database]`` of ``grafana.ini``."""
        return self._section("mysql", self.port, self.ssl_mode)

    def endpoint(self) -> ExternalEndpoint:
        return ExternalEndpoint(
            name=EGRESS_NAME, cidrs=self.cidrs, port=self.port, address=f"{self.host}:{self.port}"
        )


#: Grafana's database, chosen by ``type``.
GrafanaDatabase = Annotated[SqliteDatabase | PostgresDatabase | MysqlDatabase, Field(discriminator="type")]
ExternalDatabase = PostgresDatabase | MysqlDatabase


def secret_path(ref: SecretKeyRef) -> str:
    """In-pod file of a database Secret key."""
    return f"{DATABASE_SECRETS_DIR}/{ref.name}/{ref.key}"
