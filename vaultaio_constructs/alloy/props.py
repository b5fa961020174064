"""The settings of Alloy (``alloy`` in the settings file): its props and their checks, built by
:class:`vaultaio_constructs.alloy.construct.Alloy`. No jsii here: the settings import it without starting
Node.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.alloy.config import (
    DEFAULT_VARLOG_GLOBS,
    check_varlog_glob,
)
from vaultaio_constructs.common import (
    PROPS_CONFIG,
    DnsLabel,
    Selector,
    UnixId,
    WorkloadProps,
)
from vaultaio_constructs.fielddocs import document_fields

#: Supplementary groups that make the node's logs readable without UID 0 (see the module docstring):
#: ``adm`` (4). Never the root group (0): it reads every host file readable by group root.
DEFAULT_SUPPLEMENTARY_GROUPS: Final = (4,)
#: Kubernetes version from which ``recursiveReadOnly`` is on by default (beta in 1.31, GA in 1.33).
RECURSIVE_READ_ONLY_SINCE: Final = "1.31"

VarlogGlob = Annotated[str, AfterValidator(check_varlog_glob)]
#: Why ``run_as_root`` and the node's root filesystem are refused together (review finding 7).
_ROOT_WITH_HOST_ROOT: Final = (
    "'run_as_root' is true and Alloy mounts the node's root filesystem ('node_filesystems', on by default "
    "from kubernetes_version 1.31): as uid 0, capabilities or not, it could read every pod's Secret "
    "volumes and ServiceAccount tokens on the node (/var/lib/kubelet/pods) and the kubelet's client key; "
    "set 'node_filesystems: false' (node disk metrics and alerts then have no data) or 'run_as_root: false' "
    "(add the log files' group to 'supplementary_group_ids' instead)"
)


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class OtlpClientsProps:
    """Pods in other namespaces that may send OTLP traces to Alloy (4317 gRPC, 4318 HTTP)."""

    name: DnsLabel = Field(
        description="Short name, used in the NetworkPolicy name (``allow-alloy-from-<name>``).",
    )
    namespace_labels: Selector = Field(
        description=(
            "Labels of the namespaces the senders run in (at least one label: never every namespace)."
        ),
    )
    pod_labels: Selector | None = Field(
        default=None,
        description=(
            "Labels of the sending pods in those namespaces (``None``: every pod there; ``{}`` is refused)."
        ),
    )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class AlloyProps(WorkloadProps):
    """Settings of the Alloy collector."""

    enabled: bool = Field(
        default=True,
        description=(
            "Run Alloy on every node. ``False``: no logs, node metrics, TLS probe or trace forwarding."
        ),
    )
    ship_logs: bool | None = Field(
        default=None,
        description=(
            "Ship pod, node and Vault audit logs. ``None``: whenever the stack has a Loki (its own or "
            "``loki.external``); ``true`` without one is an error."
        ),
    )
    ship_metrics: bool | None = Field(
        default=None,
        description=(
            "Remote-write node metrics, Alloy's own and the Vault TLS probe's. ``None``: whenever the stack "
            "has a Prometheus (its own or ``prometheus.external``); ``true`` without one is an error."
        ),
    )
    ship_traces: bool | None = Field(
        default=None,
        description=(
            "Receive OTLP spans and forward them. ``None``: whenever the stack has a Tempo (its own or "
            "``tempo.external``); ``true`` without one is an error. Off: no OTLP port is open."
        ),
    )
    otlp_from_ingress_controller: bool = Field(
        default=True,
        description=(
            "Accept OTLP traces from the ingress controller (selected by ``network.ingress_controller``): "
            "controllers such as ingress-nginx, Traefik or Envoy create the edge spans of calls to Vault, "
            "which emits no traces itself. Off: only ``otlp_clients`` may send."
        ),
    )
    otlp_clients: tuple[OtlpClientsProps, ...] = Field(
        default=(),
        description=(
            "Further namespaces whose instrumented applications send OTLP traces through Alloy (needs "
            "traces)."
        ),
    )

    collect_journal: bool = Field(
        default=True,
        description=(
            "Read the node's systemd journal, persistent (``/var/log/journal``) and volatile "
            "(``/run/log/journal``), with ``/etc/machine-id``. Off on nodes without systemd."
        ),
    )
    journal_max_age_hours: Annotated[int, Field(ge=1)] = Field(
        default=12,
        description="How far back the journal is read the first time, in hours.",
    )
    varlog_globs: tuple[VarlogGlob, ...] = Field(
        default=DEFAULT_VARLOG_GLOBS,
        description=(
            "Flat log files read from ``/var/log`` (non-recursive globs outside pods/containers/journal)."
        ),
    )
    scrape_interval_seconds: Annotated[int, Field(ge=5, le=600)] = Field(
        default=30,
        description="Interval of the node, Alloy and blackbox scrapes, in seconds.",
    )
    supplementary_group_ids: tuple[UnixId, ...] = Field(
        default=DEFAULT_SUPPLEMENTARY_GROUPS,
        description=(
            "Supplementary groups of the Alloy process. The default, ``adm`` (4), reads the journal "
            "(systemd's ACL) and Debian-style syslog; add the host's ``systemd-journal`` GID if its journal "
            "lacks the ``adm`` ACL. The root group (0) is refused: it would read every host file readable by "
            "group root."
        ),
    )
    node_filesystems: bool | None = Field(
        default=None,
        description=(
            "Mount the node's root filesystem (read-only, recursively) so the node exporter measures the "
            "free space of its filesystems (``node_filesystem_*``, the node disk alerts). ``None``: on when "
            "``kubernetes_version`` is 1.31 or later; below it the mount could not be recursively read-only "
            "(world-writable filesystems mounted under ``/``, such as ``/tmp`` or ``/dev/shm``, would be "
            "writable), so it is refused."
        ),
    )
    run_as_root: bool = Field(
        default=False,
        description=(
            "Run as UID 0 (still without any capability) for hosts whose log files only root can read, such "
            "as ``/var/log/messages`` (``0600``) on RHEL. Off: Alloy runs as its image's ``alloy`` user. "
            "Risk: as root it reads every root-readable file under its mounts (``/var/log/pods`` included); "
            "with the node's root mounted it would read every pod's Secret volumes and ServiceAccount "
            "tokens, so it needs ``node_filesystems: false`` from ``kubernetes_version`` 1.31 on (README, "
            '"Security").'
        ),
    )

    def __post_init__(self) -> None:
        if self.run_as_root and self.node_filesystems:
            raise ValueError(_ROOT_WITH_HOST_ROOT)
        if 0 in self.supplementary_group_ids:
            raise ValueError(
                f"'supplementary_group_ids' ({list(self.supplementary_group_ids)}) must not contain the root "
                "group 0: it reads every host file readable by group root; use 'adm' (4) or the host's "
                "'systemd-journal' GID, or 'run_as_root' for logs only root can read"
            )
