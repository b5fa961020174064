"""The Grafana Alloy v1.18 configuration of the per-node collector (DaemonSet), rendered from the wiring.

Pipelines (component names are part of the contract with the tests and the runbook):

* Pod logs of the stack's namespaces on this node: ``discovery.kubernetes "pods"`` (role ``pod``, the
  stack's namespaces, field selector ``spec.nodeName=<node>``) -> ``discovery.relabel "pod_logs"`` (the
  labels of :data:`~vaultaio_constructs.loglabels.POD_LOG_LABELS`) -> ``loki.source.kubernetes
  "pod_logs"`` (tails each container's log through the API server, ``pods/log``) -> ``loki.process
  "pod_logs"`` (Vault audit labels) -> ``loki.write "default"``.
* Vault audit entries: JSON lines with a top-level ``type`` of ``request``/``response`` on the Vault
  container's stdout get the :data:`~vaultaio_constructs.loglabels.AUDIT_EXTRA_LABELS`; the line is kept.
* Node logs: ``loki.source.journal "node"`` and ``"node_volatile"`` (the systemd journal in
  ``/var/log/journal`` and ``/run/log/journal``) and ``loki.source.file "node_varlog"`` (flat
  files under ``/var/log``), labelled per :data:`~vaultaio_constructs.loglabels.JOURNAL_LABELS` and
  :data:`~vaultaio_constructs.loglabels.VARLOG_LABELS`.
* Metrics: ``prometheus.exporter.unix "node"`` (host ``/proc`` and ``/sys``, and ``/`` where it can be
  mounted recursively read-only, under ``/host``), ``prometheus.exporter.self "alloy"`` and
  ``prometheus.exporter.blackbox "vault_tls"`` (probes Vault's health endpoint over TLS with the CA file, so
  ``probe_ssl_earliest_cert_expiry`` reports the listener certificate), each scraped with ``job`` ``node`` /
  ``alloy`` / ``blackbox`` and ``instance`` = node name, remote-written to Prometheus
  (``prometheus.remote_write "default"``). Remote write instead of scraping Alloy keeps Prometheus from
  needing a per-node scrape path to a DaemonSet and keeps the ``instance`` label the node name.
* Traces: ``otelcol.receiver.otlp "default"`` (gRPC 4317, HTTP 4318 on ``0.0.0.0``) ->
  ``otelcol.processor.batch "default"`` -> ``otelcol.exporter.otlp "tempo"`` (plaintext gRPC inside the
  cluster).

Component arguments were checked against the Alloy reference docs (``grafana/alloy:docs/sources/
reference/components/**``) and, where the docs are silent, the component source (the journal source sets
``job`` to its component ID before relabelling, so ``job`` is set by a relabel rule; the CRI stage adds a
``stream`` label, which is dropped to keep the label contract).

Host access the config needs (see :data:`ALLOY_HOST_PATHS`), all read-only: ``/var/log`` (journal, flat
files), ``/run/log/journal`` and ``/etc/machine-id``, ``/proc`` and ``/sys`` for the node exporter, and
``/`` for its filesystem collector only where the mount is recursively read-only. Nothing needs a
capability, UID 0 or the root group on common distributions: pod logs come through the API (their files
under ``/var/log/pods`` are ``root:root 0640``), systemd's tmpfiles give group ``adm`` (GID 4) read access
to ``/var/log/journal`` through an ACL, and Debian-style ``/var/log/syslog`` is ``syslog:adm 0640``. Hosts
whose flat log files are ``root:root 0600`` (``/var/log/messages`` on RHEL) need UID 0 for those files.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from vaultaio_constructs import loglabels
from vaultaio_constructs.alloy.syntax import Attr, Block, Value, attrs, block, concat, env, render
from vaultaio_constructs.common import check_dns_label, check_url, has_control_characters

#: HTTP server: UI, ``/metrics``, ``/-/ready``, ``/-/healthy``.
ALLOY_HTTP_PORT: Final = 12345
#: OTLP/gRPC receiver.
ALLOY_OTLP_GRPC_PORT: Final = 4317
#: OTLP/HTTP receiver.
ALLOY_OTLP_HTTP_PORT: Final = 4318
ALLOY_READY_PATH: Final = "/-/ready"
ALLOY_CONFIG_DIR: Final = "/etc/alloy"
ALLOY_CONFIG_FILE: Final = "config.alloy"
ALLOY_CONFIG_PATH: Final = f"{ALLOY_CONFIG_DIR}/{ALLOY_CONFIG_FILE}"
#: ``--storage.path``: positions files and the remote-write WAL (an emptyDir).
ALLOY_STORAGE_PATH: Final = "/var/lib/alloy/data"
#: Environment variable holding the node name (``fieldRef: spec.nodeName``).
ALLOY_NODE_NAME_ENV: Final = "NODE_NAME"
#: UID of the Alloy process: a high UID no host account has, as Alloy reads host files (the image's
#: ``alloy`` user, 473, could be a host account whose files it would then own). Alloy writes only to its
#: emptyDir volumes, so any UID works; the group stays the image's ``alloy`` group (473).
ALLOY_UID: Final = 10473
ALLOY_GID: Final = 473
#: Container command and arguments: no usage reporting, HTTP server reachable from other pods.
ALLOY_COMMAND: Final = ("/bin/alloy",)
ALLOY_ARGS: Final = (
    "run",
    ALLOY_CONFIG_PATH,
    f"--storage.path={ALLOY_STORAGE_PATH}",
    f"--server.http.listen-addr=0.0.0.0:{ALLOY_HTTP_PORT}",
    "--disable-reporting",
)

#: Host log directory (mounted read-only at the same path so discovered paths match).
HOST_LOG_DIR: Final = "/var/log"
POD_LOG_DIR: Final = "/var/log/pods"
CONTAINER_LOG_DIR: Final = "/var/log/containers"
JOURNAL_DIR: Final = "/var/log/journal"
#: Where journald keeps a volatile journal (``Storage=volatile``, or ``auto`` without ``/var/log/journal``)
#: and every journal until it is flushed to ``/var/log/journal`` at boot.
VOLATILE_JOURNAL_DIR: Final = "/run/log/journal"
#: The node's machine ID (the journal of this boot lives in ``/var/log/journal/<machine-id>``).
MACHINE_ID_FILE: Final = "/etc/machine-id"
#: Where the host's ``/proc``, ``/sys`` and ``/`` are mounted (read-only) for the node exporter.
HOST_PROC: Final = "/host/proc"
HOST_SYS: Final = "/host/sys"
HOST_ROOT: Final = "/host/root"
#: Directory in the Alloy container where the Vault CA certificate (``ca.crt``) is mounted (not under
#: :data:`ALLOY_CONFIG_DIR`: a mount nested in a ConfigMap mount fails on some runtimes).
VAULT_CA_DIR: Final = "/etc/vault-ca"
#: Directory in the Alloy container where an external Loki's Secrets (basic-auth password, CA bundle) are
#: mounted, as ``<dir>/<secret>/<key>`` (outside :data:`ALLOY_CONFIG_DIR` for the same reason).
LOKI_SECRETS_DIR: Final = "/etc/loki-client"
#: Directory in the Alloy container where an external Prometheus' Secrets (basic-auth password, CA bundle)
#: are mounted, the same way.
PROMETHEUS_SECRETS_DIR: Final = "/etc/prometheus-client"

#: Vault health query that answers 200 for active, standby, sealed and uninitialised nodes, so the probe
#: measures TLS and reachability, not Vault's state (alerts cover the state).
VAULT_HEALTH_PATH: Final = "/v1/sys/health?standbyok=true&sealedcode=200&uninitcode=200"
#: Name of the blackbox module.
BLACKBOX_MODULE: Final = "vault_tls"

#: Default flat log files under ``/var/log`` (non-recursive, so pod/container logs are never matched).
DEFAULT_VARLOG_GLOBS: Final = ("/var/log/*.log", "/var/log/syslog", "/var/log/messages")

#: Pseudo and virtual filesystems the filesystem collector ignores (``fs_types_exclude``).
FS_TYPES_EXCLUDE: Final = (
    "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|erofs|fuse\\..*|fusectl|hugetlbfs|"
    "iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|ramfs|rpc_pipefs|securityfs|selinuxfs|shm|squashfs|"
    "sysfs|tmpfs|tracefs)$"
)
#: Mount points the filesystem collector ignores (``mount_points_exclude``; paths without the rootfs prefix).
#: Pod volumes (``/var/lib/kubelet/pods/...``) are left out: the host root is mounted without propagation,
#: so volumes mounted after Alloy started are not in its view, and ``/var/lib/kubelet/pods`` is ``0750
#: root:root``, which the Alloy user cannot enter; ``statfs()`` would fail or measure the wrong filesystem.
MOUNT_POINTS_EXCLUDE: Final = (
    "^/(dev|proc|run|sys|var/lib/containerd/.+|var/lib/docker/.+|var/lib/kubelet/(plugins|pods)/.+)($|/)"
)


@dataclass(frozen=True, kw_only=True)
class HostPath:
    """A read-only hostPath mount the Alloy container needs, and why."""

    #: Volume name.
    name: str
    #: Path on the node.
    host_path: str
    #: Path in the container.
    mount_path: str
    #: hostPath ``type``: what must exist on the node (``Directory``, ``DirectoryOrCreate``, ``File``).
    type: str
    #: Why the mount exists.
    reason: str


#: Every host path the configuration may read, all mounted read-only without mount propagation (and
#: recursively read-only where the API has it); :attr:`Alloy.host_paths` picks those the pipelines need.
ALLOY_HOST_PATHS: Final = (
    HostPath(
        name="varlog",
        host_path=HOST_LOG_DIR,
        mount_path=HOST_LOG_DIR,
        type="Directory",
        reason="the systemd journal (/var/log/journal) and flat node log files",
    ),
    HostPath(
        name="run-journal",
        host_path=VOLATILE_JOURNAL_DIR,
        mount_path=VOLATILE_JOURNAL_DIR,
        type="DirectoryOrCreate",
        reason="the volatile systemd journal (hosts without a persistent journal, and early boot)",
    ),
    HostPath(
        name="machine-id",
        host_path=MACHINE_ID_FILE,
        mount_path=MACHINE_ID_FILE,
        type="File",
        reason="the journal reader looks up this node's journal by its machine ID",
    ),
    HostPath(
        name="proc",
        host_path="/proc",
        mount_path=HOST_PROC,
        type="Directory",
        reason="node exporter: CPU, memory, network, timex, pressure and the mount table (/proc/1/mounts)",
    ),
    HostPath(
        name="sys",
        host_path="/sys",
        mount_path=HOST_SYS,
        type="Directory",
        reason="node exporter: block devices, hwmon, network class",
    ),
    HostPath(
        name="rootfs",
        host_path="/",
        mount_path=HOST_ROOT,
        type="Directory",
        reason="node exporter: statfs() of every mount point for free space (filesystem collector) and "
        "/etc/os-release (os collector); only where the mount can be recursively read-only",
    ),
)
#: Collectors that read the node's root filesystem (``rootfs_path``): the filesystem collector calls
#: ``statfs(<rootfs>/<mount point>)`` for every entry of ``/proc/1/mounts``, the os collector reads
#: ``<rootfs>/etc/os-release`` and the btrfs collector opens ``<rootfs>/<mount point>``. Without the host
#: root they would report the container's own filesystem under the node's mount points, so they are
#: switched off instead (checked against node_exporter's collector/filesystem_linux.go, os_release.go,
#: btrfs_linux.go and paths.go in the grafana fork Alloy v1.18.1 vendors).
ROOTFS_COLLECTORS: Final = ("btrfs", "filesystem", "os")


def _check_url(setting: str, value: str, schemes: tuple[str, ...]) -> None:
    check_url(value, setting, schemes)


def _check_host_port(setting: str, value: str) -> None:
    host, sep, port = value.rpartition(":")
    if (
        not sep
        or not host
        or "/" in value
        or has_control_characters(value)
        or " " in value
        or not port.isdigit()
        or not 1 <= int(port) <= 65535
    ):
        raise ValueError(
            f"{setting!r} must be host:port without a scheme (e.g. tempo.ns.svc:4317), got {value!r}"
        )


#: Directories under /var/log read by other pipelines; flat-file globs must stay out of them.
_COLLECTED_ELSEWHERE: Final = (POD_LOG_DIR, CONTAINER_LOG_DIR, JOURNAL_DIR)


def check_varlog_glob(glob: str) -> str:
    """A normalised, non-recursive glob under ``/var/log`` outside the pod, container and journal trees."""
    norm = posixpath.normpath(glob)
    if has_control_characters(glob):
        raise ValueError(
            f"'varlog_globs' entry {glob!r} must not contain newlines or other control characters"
        )
    if (
        not glob.startswith(HOST_LOG_DIR + "/")
        or norm != glob
        or "**" in glob
        or any(norm == d or norm.startswith(d + "/") for d in _COLLECTED_ELSEWHERE)
    ):
        raise ValueError(
            f"'varlog_globs' entry {glob!r} must be a normalised, non-recursive glob under /var/log "
            "outside /var/log/pods, /var/log/containers and /var/log/journal (those are collected "
            "by the pod-log and journal pipelines)"
        )
    return glob


@dataclass(frozen=True, kw_only=True)
class AlloyConfig:
    """Inputs of :func:`render_alloy_config`; URLs and addresses come from the wiring.

    Each destination is optional and switches its pipelines on: logs need ``loki_push_url``, metrics
    ``prometheus_remote_write_urls``, traces ``tempo_otlp_grpc_address``; at least one must be set.
    """

    #: The stack's namespaces: the only namespaces whose pod logs are collected.
    namespaces: tuple[str, ...]
    #: Loki push URL (``http://loki.<ns>.svc:3100/loki/api/v1/push``); ``None``: no log pipelines.
    loki_push_url: str | None = None
    #: Loki tenant (``X-Scope-OrgID``) to push to; ``None``: none (a single-tenant Loki).
    loki_tenant_id: str | None = None
    #: HTTP basic authentication to Loki: the user name, and the file in the container holding the
    #: password (``basic_auth { username, password_file }``); both or neither.
    loki_username: str | None = None
    loki_password_file: str | None = None
    #: PEM CA bundle in the container that verifies Loki's https certificate (``tls_config { ca_file }``);
    #: ``None``: the system CAs. Only with an ``https://`` push URL.
    loki_ca_file: str | None = None
    #: Tempo OTLP/gRPC address ``host:port`` (``tempo.<ns>.svc:4317``); ``None``: no trace pipeline.
    tempo_otlp_grpc_address: str | None = None
    #: Whether that address speaks TLS (verified with the system CAs); ``False``: plaintext gRPC.
    tempo_otlp_tls: bool = False
    #: Prometheus remote-write URLs (``http://prometheus.<ns>.svc:9090/api/v1/write``), one per replica of
    #: an HA pair (each gets every sample, through its own queue); empty: no metrics.
    prometheus_remote_write_urls: tuple[str, ...] = ()
    #: HTTP basic authentication to every remote-write URL (an external Prometheus behind a gateway): the
    #: user name and the file holding the password (``basic_auth { username, password_file }``); both or
    #: neither.
    prometheus_username: str | None = None
    prometheus_password_file: str | None = None
    #: PEM CA bundle in the container that verifies the remote-write URLs' https certificate
    #: (``tls_config { ca_file }``); ``None``: the system CAs. Only with ``https://`` URLs.
    prometheus_ca_file: str | None = None
    #: Vault API base URL, ``https://`` (``https://vault.<ns>.svc:8200``); the probe adds the health path.
    #: ``None``: no TLS probe.
    vault_api_url: str | None = None
    #: CA certificate file in the Alloy container that signed Vault's listener certificate.
    vault_ca_file: str = f"{VAULT_CA_DIR}/ca.crt"
    #: ``app.kubernetes.io/name`` of the Vault pods (the ``app`` log label).
    vault_app: str = "vault"
    #: Name of the Vault server container, whose stdout carries the audit device's output.
    vault_container: str = "vault"
    #: Environment variable with the node name.
    node_name_env: str = ALLOY_NODE_NAME_ENV
    #: Scrape interval of the node, Alloy and blackbox jobs, in seconds.
    scrape_interval_seconds: int = 30
    #: Read the systemd journal (``/var/log/journal`` and ``/run/log/journal``).
    collect_journal: bool = True
    #: How far back the journal is read on first start, in hours.
    journal_max_age_hours: int = 12
    #: Flat log files to read under ``/var/log`` (globs); never under ``/var/log/pods`` or ``containers``.
    varlog_globs: tuple[str, ...] = DEFAULT_VARLOG_GLOBS
    #: The node's root filesystem is mounted at :data:`HOST_ROOT`: measure the free space of its mounts
    #: (filesystem collector). Off: the collectors of :data:`ROOTFS_COLLECTORS` are switched off.
    node_filesystems: bool = False

    def __post_init__(self) -> None:
        if not self.namespaces:
            raise ValueError("'namespaces' needs at least one namespace whose pod logs are collected")
        for namespace in self.namespaces:
            check_dns_label(namespace)
        check_dns_label(self.vault_app)
        check_dns_label(self.vault_container)
        if (
            self.loki_push_url is None
            and self.tempo_otlp_grpc_address is None
            and not self.prometheus_remote_write_urls
        ):
            raise ValueError(
                "alloy needs at least one destination: set 'loki_push_url', 'prometheus_remote_write_urls' "
                "or 'tempo_otlp_grpc_address', got none"
            )
        if self.loki_push_url is not None:
            _check_url("loki_push_url", self.loki_push_url, ("http", "https"))
        if (self.loki_username is None) != (self.loki_password_file is None):
            raise ValueError("'loki_username' and 'loki_password_file' must be given together (basic_auth)")
        if (self.prometheus_username is None) != (self.prometheus_password_file is None):
            raise ValueError(
                "'prometheus_username' and 'prometheus_password_file' must be given together (basic_auth)"
            )
        for name in ("loki_password_file", "loki_ca_file", "prometheus_password_file", "prometheus_ca_file"):
            path = getattr(self, name)
            if path is not None and (not posixpath.isabs(path) or has_control_characters(path)):
                raise ValueError(f"{name!r} must be an absolute path, got {path!r}")
        if self.loki_ca_file is not None and not (self.loki_push_url or "").startswith("https://"):
            raise ValueError(
                f"'loki_ca_file' verifies an https:// Loki, but 'loki_push_url' is {self.loki_push_url!r}"
            )
        for url in self.prometheus_remote_write_urls:
            _check_url("prometheus_remote_write_urls", url, ("http", "https"))
        if self.prometheus_ca_file is not None and not (
            self.prometheus_remote_write_urls
            and all(url.startswith("https://") for url in self.prometheus_remote_write_urls)
        ):
            raise ValueError(
                "'prometheus_ca_file' verifies an https:// Prometheus, but 'prometheus_remote_write_urls' is "
                f"{list(self.prometheus_remote_write_urls)!r}"
            )
        if self.prometheus_username is not None and not self.prometheus_remote_write_urls:
            raise ValueError("'prometheus_username' needs 'prometheus_remote_write_urls' to send it to")
        if len(set(self.prometheus_remote_write_urls)) != len(self.prometheus_remote_write_urls):
            raise ValueError(
                f"'prometheus_remote_write_urls' lists a URL twice: {list(self.prometheus_remote_write_urls)}"
            )
        if self.vault_api_url is not None:
            _check_url("vault_api_url", self.vault_api_url, ("https",))
            if urlsplit(self.vault_api_url).path not in ("", "/"):
                raise ValueError(
                    f"'vault_api_url' must be the API base URL without a path (the probe adds "
                    f"{VAULT_HEALTH_PATH}), got {self.vault_api_url!r}"
                )
            if not self.prometheus_remote_write_urls:
                raise ValueError(
                    f"'vault_api_url' ({self.vault_api_url}) needs 'prometheus_remote_write_urls': "
                    "the probe's metrics are remote-written"
                )
        if self.tempo_otlp_grpc_address is not None:
            _check_host_port("tempo_otlp_grpc_address", self.tempo_otlp_grpc_address)
        if not posixpath.isabs(self.vault_ca_file):
            raise ValueError(f"'vault_ca_file' must be an absolute path, got {self.vault_ca_file!r}")
        if not 5 <= self.scrape_interval_seconds <= 600:
            raise ValueError(
                f"'scrape_interval_seconds' must be between 5 and 600, got {self.scrape_interval_seconds}"
            )
        if self.journal_max_age_hours < 1:
            raise ValueError(f"'journal_max_age_hours' must be >= 1, got {self.journal_max_age_hours}")
        for glob in self.varlog_globs:
            check_varlog_glob(glob)


def _relabel(
    target: str, source: str | None = None, replacement: Value | None = None, **extra: Value
) -> Block:
    """One relabel ``rule``: copy ``source`` to ``target``, or set ``target`` to a fixed ``replacement``."""
    body: list[Attr] = []
    if source is not None:
        body.append(Attr("source_labels", [source]))
    body.extend(attrs(**extra))
    body.append(Attr("target_label", target))
    if replacement is not None:
        body.append(Attr("replacement", replacement))
    return block("rule", None, *body)


#: Pod log label -> discovery meta label it is copied from (``job`` is fixed).
POD_LABEL_SOURCES: Final = {
    "namespace": "__meta_kubernetes_namespace",
    "pod": "__meta_kubernetes_pod_name",
    "container": "__meta_kubernetes_pod_container_name",
    "app": "__meta_kubernetes_pod_label_app_kubernetes_io_name",
    "component": "__meta_kubernetes_pod_label_app_kubernetes_io_component",
    "node": "__meta_kubernetes_pod_node_name",
}

#: Audit label -> extracted value it is set from (extracted by the ``vault_audit`` match stage).
AUDIT_LABEL_SOURCES: Final = {
    "audit_type": "vault_audit_type",
    "operation": "vault_audit_operation",
    "mount_type": "vault_audit_mount_type",
    "error": "vault_audit_error",
}


def _client_blocks(username: str | None, password_file: str | None, ca_file: str | None) -> list[Block]:
    """An ``endpoint``'s ``basic_auth`` (with the password read from a file) and ``tls_config`` (a CA
    file) blocks, those given; the same in ``loki.write`` and ``prometheus.remote_write``."""
    blocks: list[Block] = []
    if username is not None and password_file is not None:
        # the file is read on every request: a rotated Secret needs no restart
        blocks.append(
            block("basic_auth", None, Attr("username", username), Attr("password_file", password_file))
        )
    if ca_file is not None:
        blocks.append(block("tls_config", None, Attr("ca_file", ca_file)))
    return blocks


def _log_pipelines(cfg: AlloyConfig) -> list[Block]:
    assert cfg.loki_push_url is not None
    endpoint: list[Attr | Block] = [Attr("url", cfg.loki_push_url)]
    if cfg.loki_tenant_id is not None:
        endpoint.append(Attr("tenant_id", cfg.loki_tenant_id))
    endpoint += _client_blocks(cfg.loki_username, cfg.loki_password_file, cfg.loki_ca_file)
    loki_write = block("loki.write", "default", block("endpoint", None, *endpoint))
    node = env(cfg.node_name_env)
    receiver = loki_write.ref("receiver")

    pods = block(
        "discovery.kubernetes",
        "pods",
        Attr("role", "pod"),
        block("namespaces", None, Attr("names", list(cfg.namespaces))),
        block("selectors", None, Attr("role", "pod"), Attr("field", concat("spec.nodeName=", node))),
        comment=("Pods of the stack's namespaces on this node (each DaemonSet pod reads its own node).",),
    )
    relabel_rules = [_relabel("job", replacement=loglabels.JOB_PODS)]
    relabel_rules += [
        _relabel(label, POD_LABEL_SOURCES[label]) for label in loglabels.POD_LOG_LABELS if label != "job"
    ]
    pod_relabel = block("discovery.relabel", "pod_logs", Attr("targets", pods.ref("targets")), *relabel_rules)

    audit_selector = (
        f'{{app="{cfg.vault_app}", container="{cfg.vault_container}"}} |~ `"type":"(request|response)"`'
    )
    audit = block(
        "stage.match",
        None,
        Attr("selector", audit_selector),
        Attr("pipeline_name", "vault_audit"),
        block(
            "stage.json",
            None,
            Attr(
                "expressions",
                {
                    "vault_audit_type": "type",
                    "vault_audit_operation": "request.operation",
                    "vault_audit_mount_type": "request.mount_type",
                    "vault_audit_error_text": "error",
                },
            ),
        ),
        block(
            "stage.template",
            None,
            Attr("source", "vault_audit_error"),
            Attr("template", "{{ if .vault_audit_error_text }}true{{ else }}false{{ end }}"),
        ),
        block("stage.static_labels", None, Attr("values", {"log_type": loglabels.AUDIT_LOG_TYPE})),
        block("stage.labels", None, Attr("values", dict(AUDIT_LABEL_SOURCES))),
        comment=(
            "Vault audit entries (audit device file_path=stdout): low-cardinality labels, line kept as is.",
        ),
    )
    pod_process = block("loki.process", "pod_logs", Attr("forward_to", [receiver]), audit)
    pod_source = block(
        "loki.source.kubernetes",
        "pod_logs",
        Attr("targets", pod_relabel.ref("output")),
        Attr("forward_to", [pod_process.ref("receiver")]),
        comment=(
            "Through the API server (pods/log), not /var/log/pods: those files are root:root 0640, and",
            "reading them would need UID 0 or the root group on the host.",
        ),
    )
    blocks = [pods, pod_relabel, pod_source, pod_process]

    if cfg.collect_journal:
        journal_relabel = block(
            "loki.relabel",
            "journal",
            Attr("forward_to", []),
            _relabel("job", replacement=loglabels.JOB_JOURNAL),
            _relabel("node", replacement=node),
            _relabel("unit", "__journal__systemd_unit"),
            _relabel("level", "__journal_priority_keyword"),
            comment=("Labels of node journal entries (the journal source sets job to its own ID first).",),
        )
        # Both journal locations: a persistent journal lives in /var/log/journal (journald flushes the
        # boot's entries there and empties /run/log/journal), a volatile one only in /run/log/journal.
        # On a host with only one of them the other source reports itself unhealthy and reads nothing.
        journals = [
            block(
                "loki.source.journal",
                label,
                Attr("path", path),
                Attr("max_age", f"{cfg.journal_max_age_hours}h"),
                Attr("relabel_rules", journal_relabel.ref("rules")),
                Attr("forward_to", [receiver]),
            )
            for label, path in (("node", JOURNAL_DIR), ("node_volatile", VOLATILE_JOURNAL_DIR))
        ]
        blocks += [journal_relabel, *journals]

    if cfg.varlog_globs:
        varlog_files = block(
            "local.file_match",
            "node_varlog",
            Attr(
                "path_targets",
                [{"__path__": glob, "job": loglabels.JOB_VARLOG, "node": node} for glob in cfg.varlog_globs],
            ),
            comment=("Flat node log files; loki.source.file adds the filename label.",),
        )
        varlog = block(
            "loki.source.file",
            "node_varlog",
            Attr("targets", varlog_files.ref("targets")),
            Attr("forward_to", [receiver]),
        )
        blocks += [varlog_files, varlog]
    blocks.append(loki_write)
    return blocks


def blackbox_modules(cfg: AlloyConfig) -> dict[str, object]:
    """The blackbox exporter module set (``config`` of ``prometheus.exporter.blackbox``)."""
    return {
        "modules": {
            BLACKBOX_MODULE: {
                "prober": "http",
                "timeout": "5s",
                "http": {
                    "method": "GET",
                    "valid_status_codes": [200],
                    "fail_if_not_ssl": True,
                    "no_follow_redirects": True,
                    "preferred_ip_protocol": "ip4",
                    "tls_config": {"ca_file": cfg.vault_ca_file, "insecure_skip_verify": False},
                },
            }
        }
    }


def _blackbox(cfg: AlloyConfig, vault_api_url: str) -> Block:
    return block(
        "prometheus.exporter.blackbox",
        BLACKBOX_MODULE,
        Attr("config", json.dumps(blackbox_modules(cfg), sort_keys=True)),
        block(
            "target",
            None,
            Attr("name", "vault"),
            Attr("address", vault_api_url.rstrip("/") + VAULT_HEALTH_PATH),
            Attr("module", BLACKBOX_MODULE),
        ),
        comment=("TLS probe of Vault's API: probe_ssl_earliest_cert_expiry is the listener certificate's.",),
    )


def _metric_pipelines(cfg: AlloyConfig) -> list[Block]:
    assert cfg.prometheus_remote_write_urls
    node = env(cfg.node_name_env)
    # one endpoint block per Prometheus replica: Alloy sends every sample to each, with its own queue
    remote_write = block(
        "prometheus.remote_write",
        "default",
        *(
            block(
                "endpoint",
                None,
                Attr("url", url),
                *_client_blocks(
                    cfg.prometheus_username, cfg.prometheus_password_file, cfg.prometheus_ca_file
                ),
            )
            for url in cfg.prometheus_remote_write_urls
        ),
    )
    if cfg.node_filesystems:
        unix = block(
            "prometheus.exporter.unix",
            "node",
            Attr("procfs_path", HOST_PROC),
            Attr("sysfs_path", HOST_SYS),
            Attr("rootfs_path", HOST_ROOT),
            Attr("enable_collectors", ["timex"]),
            block(
                "filesystem",
                None,
                Attr("fs_types_exclude", FS_TYPES_EXCLUDE),
                Attr("mount_points_exclude", MOUNT_POINTS_EXCLUDE),
            ),
            comment=("Node metrics from the host's /proc, /sys and / (mounted read-only under /host).",),
        )
    else:
        unix = block(
            "prometheus.exporter.unix",
            "node",
            Attr("procfs_path", HOST_PROC),
            Attr("sysfs_path", HOST_SYS),
            Attr("enable_collectors", ["timex"]),
            Attr("disable_collectors", list(ROOTFS_COLLECTORS)),
            comment=(
                "Node metrics from the host's /proc and /sys (mounted read-only under /host); the host root",
                "is not mounted, so the collectors that read it are off (no node_filesystem_* metrics).",
            ),
        )
    self_exporter = block("prometheus.exporter.self", "alloy")
    exporters: list[tuple[str, Block, str]] = [
        ("node", unix, "node_metrics"),
        ("alloy", self_exporter, "alloy_metrics"),
    ]
    if cfg.vault_api_url is not None:
        exporters.append(("blackbox", _blackbox(cfg, cfg.vault_api_url), "blackbox_metrics"))
    blocks: list[Block] = []
    for job, exporter, relabel_label in exporters:
        relabel = block(
            "discovery.relabel",
            relabel_label,
            Attr("targets", exporter.ref("targets")),
            _relabel("job", replacement=job),
            _relabel("instance", replacement=node),
        )
        scrape = block(
            "prometheus.scrape",
            job,
            Attr("targets", relabel.ref("output")),
            Attr("job_name", job),
            Attr("scrape_interval", f"{cfg.scrape_interval_seconds}s"),
            Attr("forward_to", [remote_write.ref("receiver")]),
        )
        blocks += [exporter, relabel, scrape]
    blocks.append(remote_write)
    return blocks


def _trace_pipeline(cfg: AlloyConfig) -> list[Block]:
    assert cfg.tempo_otlp_grpc_address is not None
    if cfg.tempo_otlp_tls:
        tls, comment = (
            block("tls", None, Attr("insecure", False)),
            "gRPC over TLS, verified with the system CAs.",
        )
    else:
        tls = block("tls", None, Attr("insecure", True))
        comment = "Plaintext gRPC inside the cluster; the NetworkPolicy limits who can reach Tempo."
    exporter = block(
        "otelcol.exporter.otlp",
        "tempo",
        block("client", None, Attr("endpoint", cfg.tempo_otlp_grpc_address), tls),
        comment=(comment,),
    )
    batch = block(
        "otelcol.processor.batch",
        "default",
        block("output", None, Attr("traces", [exporter.ref("input")])),
    )
    receiver = block(
        "otelcol.receiver.otlp",
        "default",
        block("grpc", None, Attr("endpoint", f"0.0.0.0:{ALLOY_OTLP_GRPC_PORT}")),
        block("http", None, Attr("endpoint", f"0.0.0.0:{ALLOY_OTLP_HTTP_PORT}")),
        block("output", None, Attr("traces", [batch.ref("input")])),
        comment=("OTLP from applications in the cluster, batched and forwarded to Tempo.",),
    )
    return [receiver, batch, exporter]


def alloy_components(cfg: AlloyConfig) -> tuple[Block, ...]:
    """Every top-level block of the configuration, in file order."""
    blocks = [block("logging", None, Attr("level", "info"), Attr("format", "logfmt"))]
    if cfg.loki_push_url is not None:
        blocks += _log_pipelines(cfg)
    if cfg.prometheus_remote_write_urls:
        blocks += _metric_pipelines(cfg)
    if cfg.tempo_otlp_grpc_address is not None:
        blocks += _trace_pipeline(cfg)
    return tuple(blocks)


def find_component(blocks: tuple[Block, ...], name: str, label: str) -> Block:
    """The component ``name "label"`` among ``blocks`` (``KeyError`` if absent)."""
    for blk in blocks:
        if blk.name == name and blk.label == label:
            return blk
    raise KeyError(f"{name} {label!r}")


def render_alloy_config(cfg: AlloyConfig) -> str:
    """The ``config.alloy`` file."""
    return render(
        alloy_components(cfg),
        header=("Generated by vault-aio from the stack's wiring; edit the settings, not this file.",),
    )
