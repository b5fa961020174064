"""Vault server configuration: a typed model rendered to the JSON file Vault reads at start.

Vault accepts JSON configuration files (the HCL v1 parser reads both); a model rendered with sorted keys
beats a hand-written HCL string because every value is checked at synth and the file is deterministic.
The JSON forms used here are those of Vault's own test fixtures: repeated blocks are lists
(``"listener": [{"tcp": {...}}, {"tcp": {...}}]``), labelled single blocks are nested objects
(``"storage": {"raft": {...}}``, ``"seal": {"transit": {...}}``,
``"service_registration": {"kubernetes": {...}}``).

What the file holds (Vault 2.0.4):

* ``listener "tcp"`` on ``0.0.0.0:8200`` (API; ``cluster_address`` ``0.0.0.0:8201``) with TLS from the
  mounted Secret; metrics stay authenticated here because this listener is reachable through the Ingress.
* a second ``listener "tcp"`` on ``0.0.0.0:8202`` (metrics) with the same TLS and
  ``telemetry { unauthenticated_metrics_access = true }``: Prometheus scrapes every pod there, sealed and
  standby included (a sealed pod still answers ``vault_core_unsealed 0``), without a Vault token. The
  NetworkPolicy admits only Prometheus to 8202. Vault opens a cluster listener for every tcp listener (the
  listener port + 1 unless ``cluster_address`` is set), so this one binds ``127.0.0.1:8203``: loopback only.
* ``storage "raft"`` at ``/vault/data``; ``node_id`` comes from ``VAULT_RAFT_NODE_ID`` (the pod name), and
  with 3 or 5 replicas one ``retry_join`` per pod on its stable DNS name with the TLS CA.
* ``service_registration "kubernetes"`` (raft is HA-capable storage, so it works with one replica too): Vault
  labels its own pod ``vault-active``, ``vault-sealed``, ``vault-initialized``...; the pod name comes from
  ``VAULT_K8S_POD_NAME``.
* ``telemetry { prometheus_retention_time, disable_hostname = true }``, ``ui``, ``disable_mlock = true``
  (required with raft since 1.20; recommended on Kubernetes, where swap is off), ``log_format = "json"``.
* ``seal`` only for auto-unseal (:mod:`vaultaio_constructs.vault.seals`).

``api_addr``/``cluster_addr`` differ per pod, so they come from ``VAULT_API_ADDR``/``VAULT_CLUSTER_ADDR``
(:func:`server_env`), built from the pod name on the headless Service ``vault-internal``.

**Audit devices are not in this file**: Vault 2.x open source cannot declare audit devices in the server
configuration (only OpenBao can). ``scripts/init-vault.sh`` enables one after initialisation with
``vault audit enable -path=stdout file file_path=stdout format=json``; Vault stores it in raft, so it
survives restarts and reaches every node. Each node then writes one JSON object per request/response to
its stdout, which Alloy ships to Loki (``log_type="vault_audit"``). Vault refuses requests it cannot audit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from vaultaio_constructs.common import check_cidr, check_dns_label
from vaultaio_constructs.vault.seals import EnvVar, Seal, SealPlan, ShamirSeal, start_script

#: StatefulSet name; pods are ``vault-0`` .. ``vault-<n-1>``.
STATEFULSET_NAME: Final = "vault"
#: Client Service (API).
SERVICE_NAME: Final = "vault"
#: Headless Service for raft peers and Prometheus (``publishNotReadyAddresses: true``).
HEADLESS_SERVICE_NAME: Final = "vault-internal"
#: Pod label that ``service_registration "kubernetes"`` keeps on every Vault pod: ``"true"`` on the active
#: node, ``"false"`` on the others (Vault 2.x docs, configuration/service-registration/kubernetes; the
#: official chart's ``vault-active``/``vault-standby`` Services select on it).
ACTIVE_LABEL: Final = "vault-active"
#: Labels service registration maintains on Vault's own pods (never in the manifests: Vault patches them).
SERVICE_REGISTRATION_LABELS: Final = (
    ACTIVE_LABEL,
    "vault-initialized",
    "vault-perf-standby",
    "vault-sealed",
    "vault-version",
)
#: Service of the active node only (selects ``vault-active: "true"``).
ACTIVE_SERVICE_NAME: Final = "vault-active"
#: Service of the unsealed standby nodes (selects ``vault-active: "false"``; sealed pods are not ready).
STANDBY_SERVICE_NAME: Final = "vault-standby"
#: Container name.
CONTAINER_NAME: Final = "vault"

#: API listener port.
API_PORT: Final = 8200
#: Cluster (raft and request forwarding) port.
CLUSTER_PORT: Final = 8201
#: Metrics listener port (unauthenticated ``/v1/sys/metrics``, NetworkPolicy: Prometheus only).
METRICS_PORT: Final = 8202
#: Loopback-only cluster port Vault opens for the metrics listener.
METRICS_CLUSTER_PORT: Final = 8203

#: Raft data directory (PersistentVolumeClaim).
DATA_PATH: Final = "/vault/data"
#: Directory of the ``vault-config`` ConfigMap.
CONFIG_DIR: Final = "/vault/config"
#: File name of the server configuration in the ConfigMap.
CONFIG_FILE_NAME: Final = "config.json"
#: Absolute path of the server configuration.
CONFIG_PATH: Final = f"{CONFIG_DIR}/{CONFIG_FILE_NAME}"
#: Directory of the ``vault-policies`` ConfigMap (``<policy>.hcl``).
POLICIES_DIR: Final = "/vault/policies"
#: Directory of the TLS Secret (keys ``tls.crt``, ``tls.key``, ``ca.crt``).
TLS_DIR: Final = "/vault/tls"
TLS_CERT_FILE: Final = f"{TLS_DIR}/tls.crt"
TLS_KEY_FILE: Final = f"{TLS_DIR}/tls.key"
TLS_CA_FILE: Final = f"{TLS_DIR}/ca.crt"
#: Writable scratch directory (emptyDir); also ``HOME`` so the CLI's token helper can write.
TMP_DIR: Final = "/tmp"

#: Readiness: 200 on an active or (performance) standby node; 429/473 become 200 with these parameters,
#: while sealed (503) and uninitialised (501) stay not ready.
HEALTH_READY_PATH: Final = "/v1/sys/health?standbyok=true&perfstandbyok=true"

_DURATION = re.compile(r"^(\d+)(s|m|h)$")


class LogLevel(StrEnum):
    """Vault server log levels."""

    TRACE = "trace"
    DEBUG = "debug"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"


def check_replicas(replicas: int) -> int:
    """Raft needs an odd quorum: 1 (no HA), 3 (tolerates one failure) or 5 (tolerates two)."""
    if replicas % 2 == 0:
        raise ValueError(f"'replicas' ({replicas}) must be odd for raft: use 1, 3 or 5")
    if replicas not in (1, 3, 5):
        raise ValueError(f"'replicas' ({replicas}) is not supported: use 1, 3 or 5")
    return replicas


def check_retention(value: str) -> str:
    """A non-zero Go duration in whole seconds, minutes or hours (``0`` would turn Prometheus metrics off)."""
    match = _DURATION.fullmatch(value)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(
            "'prometheus_retention_time' must be a non-zero duration like '24h', '30m' or '600s', "
            f"got {value!r}"
        )
    return value


@dataclass(frozen=True, kw_only=True)
class VaultServerConfig:
    """Everything the server configuration and the container environment are derived from."""

    #: Namespace of the stack (DNS names of peers and of the certificate depend on it).
    namespace: str = "vault-aio"
    #: Raft voters: 1, 3 or 5. More than one adds ``retry_join`` for every pod.
    replicas: int = 1
    #: Serve TLS from the Secret mounted at ``/vault/tls``; ``False`` only on explicit request (plain HTTP).
    tls_enabled: bool = True
    #: Server log level.
    log_level: LogLevel = LogLevel.INFO
    #: How long Vault keeps a Prometheus series that is not updated; must be non-zero.
    prometheus_retention_time: str = "24h"
    #: Serve the web UI at ``/ui``.
    ui: bool = True
    #: The seal (default Shamir).
    seal: Seal = field(default_factory=ShamirSeal)
    #: Source CIDRs (the ingress controller's pods) whose ``X-Forwarded-For`` the API listener trusts, so the
    #: audit log records the real client address; empty turns the feature off. Missing headers from these
    #: sources are accepted (kubelet probes send none).
    trusted_proxy_cidrs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        try:
            check_dns_label(self.namespace)
        except ValueError as err:
            raise ValueError(f"'namespace': {err}") from None
        check_replicas(self.replicas)
        check_retention(self.prometheus_retention_time)
        for cidr in self.trusted_proxy_cidrs:
            try:
                check_cidr(cidr)
            except ValueError as err:
                raise ValueError(f"'trusted_proxy_cidrs': {err}") from None

    @property
    def scheme(self) -> str:
        """``https``, or ``http`` when TLS is off."""
        return "https" if self.tls_enabled else "http"

    @property
    def ha(self) -> bool:
        """More than one raft voter."""
        return self.replicas > 1

    @property
    def seal_plan(self) -> SealPlan:
        """What the seal adds to the pod."""
        return self.seal.plan()

    def pod_names(self) -> tuple[str, ...]:
        """``vault-0`` .. ``vault-<replicas-1>``."""
        return tuple(f"{STATEFULSET_NAME}-{i}" for i in range(self.replicas))

    def pod_host(self, pod: str) -> str:
        """Stable DNS name of one pod on the headless Service."""
        return f"{pod}.{HEADLESS_SERVICE_NAME}.{self.namespace}.svc"

    def peer_api_addrs(self) -> tuple[str, ...]:
        """The API URL of every pod, in ordinal order (the ``retry_join`` targets)."""
        return tuple(f"{self.scheme}://{self.pod_host(pod)}:{API_PORT}" for pod in self.pod_names())

    @property
    def service_host(self) -> str:
        """DNS name of the client Service; also the TLS server name every in-cluster client verifies."""
        return f"{SERVICE_NAME}.{self.namespace}.svc"

    def to_dict(self) -> dict[str, Any]:
        """The configuration as a JSON-ready dict."""
        return render_config(self)

    def to_json(self) -> str:
        """The configuration file content: sorted keys, 2-space indent, trailing newline."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=2) + "\n"


def _tls(cfg: VaultServerConfig) -> dict[str, Any]:
    if not cfg.tls_enabled:
        return {"tls_disable": True}
    return {"tls_cert_file": TLS_CERT_FILE, "tls_key_file": TLS_KEY_FILE, "tls_min_version": "tls12"}


def render_config(cfg: VaultServerConfig) -> dict[str, Any]:
    """Render the server configuration (see the module docstring for each stanza)."""
    api_listener: dict[str, Any] = {
        "address": f"0.0.0.0:{API_PORT}",
        "cluster_address": f"0.0.0.0:{CLUSTER_PORT}",
        **_tls(cfg),
    }
    if cfg.trusted_proxy_cidrs:
        api_listener["x_forwarded_for_authorized_addrs"] = ",".join(cfg.trusted_proxy_cidrs)
        api_listener["x_forwarded_for_reject_not_present"] = False
    metrics_listener: dict[str, Any] = {
        "address": f"0.0.0.0:{METRICS_PORT}",
        "cluster_address": f"127.0.0.1:{METRICS_CLUSTER_PORT}",
        **_tls(cfg),
        "telemetry": {"unauthenticated_metrics_access": True},
    }
    raft: dict[str, Any] = {"path": DATA_PATH}
    if cfg.ha:
        join: list[dict[str, str]] = []
        for addr in cfg.peer_api_addrs():
            entry = {"leader_api_addr": addr}
            if cfg.tls_enabled:
                entry["leader_ca_cert_file"] = TLS_CA_FILE
            join.append(entry)
        raft["retry_join"] = join
    config: dict[str, Any] = {
        "disable_mlock": True,
        "listener": [{"tcp": api_listener}, {"tcp": metrics_listener}],
        "log_format": "json",
        "log_level": cfg.log_level.value,
        "service_registration": {"kubernetes": {"namespace": cfg.namespace}},
        "storage": {"raft": raft},
        "telemetry": {"disable_hostname": True, "prometheus_retention_time": cfg.prometheus_retention_time},
        "ui": cfg.ui,
    }
    stanza = cfg.seal_plan.stanza
    if stanza is not None:
        config["seal"] = stanza
    return config


def server_env(cfg: VaultServerConfig) -> tuple[EnvVar, ...]:
    """The Vault container's environment, in dependency order (``$(VAR)`` refers to earlier entries).

    ``VAULT_ADDR``/``VAULT_CACERT``/``VAULT_TLS_SERVER_NAME`` serve the CLI in ``kubectl exec`` sessions (the
    scripts): it talks to the local listener and verifies the certificate for the Service name, which every
    certificate for this stack carries (:func:`tls_dns_names`). ``HOME=/tmp`` gives the CLI's token helper a
    writable home on the read-only root filesystem. No ``SKIP_SETCAP``/``SKIP_CHOWN``: only the image's
    ``docker-entrypoint.sh`` reads them, and the container's ``command`` replaces it
    (:func:`server_command`).
    """
    pod = "$(VAULT_K8S_POD_NAME)"
    host = f"{pod}.{HEADLESS_SERVICE_NAME}.{cfg.namespace}.svc"
    env = [
        EnvVar(name="VAULT_K8S_POD_NAME", field_path="metadata.name"),
        EnvVar(name="VAULT_K8S_NAMESPACE", field_path="metadata.namespace"),
        EnvVar(name="VAULT_RAFT_NODE_ID", value=pod),
        EnvVar(name="VAULT_API_ADDR", value=f"{cfg.scheme}://{host}:{API_PORT}"),
        EnvVar(name="VAULT_CLUSTER_ADDR", value=f"https://{host}:{CLUSTER_PORT}"),
        EnvVar(name="VAULT_ADDR", value=f"{cfg.scheme}://127.0.0.1:{API_PORT}"),
    ]
    if cfg.tls_enabled:
        env.append(EnvVar(name="VAULT_CACERT", value=TLS_CA_FILE))
        env.append(EnvVar(name="VAULT_TLS_SERVER_NAME", value=cfg.service_host))
    env.extend(
        [
            EnvVar(name="HOME", value=TMP_DIR),
        ]
    )
    env.extend(cfg.seal_plan.env)
    names = [e.name for e in env]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"the seal sets environment variables the server already uses: {duplicates}")
    return tuple(env)


def server_command(cfg: VaultServerConfig) -> tuple[str, ...]:
    """The container command: ``vault server -config=...``, wrapped in ``/bin/sh -ec`` when the seal needs it.

    The image's entrypoint (``docker-entrypoint.sh``, which would ``chown`` the data directory and ``setcap``
    the binary when run as root) is replaced on purpose: the pod is non-root with every capability dropped.
    """
    args = ("vault", "server", f"-config={CONFIG_PATH}")
    script = start_script(cfg.seal_plan, args)
    if script is None:
        return args
    return ("/bin/sh", "-ec", script)


#: IP addresses the Vault certificate carries: the CLI in the pod talks to ``VAULT_ADDR`` on loopback.
TLS_IP_ADDRESSES: Final = ("127.0.0.1",)


def tls_dns_names(namespace: str, cluster_domain: str = "cluster.local") -> tuple[str, ...]:
    """DNS names the Vault certificate must carry (plus :data:`TLS_IP_ADDRESSES`): the Services, every pod,
    localhost.

    The Service name ``vault.<ns>.svc`` is the one clients verify (Prometheus ``server_name``, the CLI's
    ``VAULT_TLS_SERVER_NAME``); ``vault-active`` and ``vault-standby`` are there for clients that address
    the active node (or the standbys) directly; the pod names are the raft ``retry_join`` targets and
    ``api_addr`` (``<pod>.vault-internal.<ns>.svc``, see :meth:`VaultServerConfig.pod_host`).
    ``scripts/init-vault.sh --tls-self-signed`` issues exactly these (for ``cluster.local``); with
    ``vault.tls.issuer`` the stack's cert-manager Certificate lists them.
    """
    check_dns_label(namespace)
    services = tuple(
        name
        for service in (SERVICE_NAME, ACTIVE_SERVICE_NAME, STANDBY_SERVICE_NAME)
        for name in (
            service,
            f"{service}.{namespace}",
            f"{service}.{namespace}.svc",
            f"{service}.{namespace}.svc.{cluster_domain}",
        )
    )
    return (
        *services,
        f"*.{HEADLESS_SERVICE_NAME}",
        f"*.{HEADLESS_SERVICE_NAME}.{namespace}.svc",
        f"*.{HEADLESS_SERVICE_NAME}.{namespace}.svc.{cluster_domain}",
        "localhost",
    )
