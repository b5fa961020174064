"""Alert thresholds: every number an alert rule compares against, with its default and unit in its name."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.alerts.model import DEFAULT_RUNBOOK_BASE_URL, check_duration
from vaultaio_constructs.common import PROPS_CONFIG, check_url, has_control_characters, redact_url
from vaultaio_constructs.fielddocs import document_fields

#: Filesystem types of real node disks: ``ignored_fstypes_regex`` must match none of them, or the node disk
#: alerts would never fire (``.*`` would silently switch them off).
REAL_DISK_FSTYPES = ("ext4", "xfs", "btrfs")
#: Mount points of the node itself: ``kubelet_volume_mountpoint_regex`` (excluded from the node filesystem
#: alerts) must match none of them.
NODE_MOUNTPOINTS = ("/", "/var", "/var/lib", "/var/lib/kubelet")

Percent = Annotated[float, Field(gt=0, lt=100)]
Positive = Annotated[float, Field(gt=0)]


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class AlertThresholds:
    """Thresholds of the alert rules. Defaults suit a small single-cluster Vault; tune them per site."""

    sealed_for: str = Field(
        default="1m",
        description=(
            "How long Vault must look sealed (or unscrapeable) before ``VaultSealed`` fires. A pod restart "
            "with auto-unseal is sealed for seconds, so the default ``1m`` ignores restarts and catches real "
            "seals."
        ),
    )
    no_active_node_for: str = Field(
        default="2m",
        description=(
            "``VaultNoActiveNode``: how long the cluster may have no active node (failover takes seconds)."
        ),
    )
    token_creation_per_second: Positive = Field(
        default=5.0,
        description=(
            "``VaultHighTokenCreationRate``: tokens created per second, cluster-wide, sustained for 10 "
            "minutes."
        ),
    )
    auth_failures_per_second: Positive = Field(
        default=1.0,
        description=(
            "``VaultAuthFailuresSpike``: responses with status 400 or 403 per second (failed logins and "
            "denied requests), cluster-wide, sustained for 5 minutes."
        ),
    )
    audit_login_failures_per_5m: Annotated[int, Field(ge=1)] = Field(
        default=20,
        description=(
            "``VaultLoginFailuresSpike`` (Loki ruler): failed logins in the audit log within 5 minutes."
        ),
    )
    request_latency_ms: Positive = Field(
        default=500.0,
        description=(
            "``VaultHighRequestLatency``: mean time to handle a non-login request, in milliseconds, over 5 "
            "minutes."
        ),
    )
    raft_leader_last_contact_ms: Positive = Field(
        default=500.0,
        description=(
            "``VaultRaftLeaderContactSlow``: mean raft leader last-contact time in milliseconds (healthy < "
            "200)."
        ),
    )
    leadership_losses_per_hour: Annotated[int, Field(ge=1)] = Field(
        default=3,
        description="``VaultLeadershipFlapping``: leadership losses per hour, cluster-wide.",
    )
    lease_count: Annotated[int, Field(ge=1)] = Field(
        default=100_000,
        description="``VaultLeaseCountHigh``: leases pending expiry on the active node.",
    )
    tls_cert_warning_days: Annotated[int, Field(ge=1)] = Field(
        default=30,
        description=(
            "``VaultTLSCertificateExpiringSoon`` fires when the listener certificate expires within this "
            "many days."
        ),
    )
    tls_cert_critical_days: Annotated[int, Field(ge=1)] = Field(
        default=7,
        description=(
            "``VaultTLSCertificateExpiryCritical`` fires within this many days; must be < the warning days."
        ),
    )
    disk_free_warning_percent: Percent = Field(
        default=15.0,
        description="``NodeFilesystemSpaceLow``: free space on a host filesystem, in percent.",
    )
    disk_free_critical_percent: Percent = Field(
        default=5.0,
        description=(
            "``NodeFilesystemSpaceCritical``: free space on a host filesystem, in percent; < the warning "
            "value."
        ),
    )
    volume_free_warning_percent: Percent = Field(
        default=15.0,
        description="``PersistentVolumeFillingUp``: free space on a mounted volume, in percent.",
    )
    volume_free_critical_percent: Percent = Field(
        default=5.0,
        description=(
            "``PersistentVolumeAlmostFull``: free space on a mounted volume, in percent; < the warning value."
        ),
    )
    prometheus_retention_used_percent: Percent = Field(
        default=90.0,
        description=(
            "``PrometheusStorageNearRetentionSize``: TSDB size as a percentage of the retention size."
        ),
    )
    clock_offset_seconds: Positive = Field(
        default=0.05,
        description="``NodeClockSkewDetected``: absolute clock offset reported by the kernel, in seconds.",
    )
    target_down_for: str = Field(
        default="5m",
        description="``TargetDown``: how long a component's scrape may fail before the alert fires.",
    )
    ignored_fstypes_regex: str = Field(
        default="tmpfs|ramfs|overlay|squashfs|nsfs|devtmpfs|autofs|fuse.lxcfs",
        description=(
            "Filesystem types never alerted on (pseudo and in-memory filesystems), as a PromQL regex."
        ),
    )
    kubelet_volume_mountpoint_regex: str = Field(
        default="/var/lib/kubelet/pods/.+/volumes/.+",
        description=(
            "Mount points of Kubernetes volumes as the node sees them (kubelet's ``--root-dir`` is "
            "``/var/lib/kubelet`` on kubeadm, k3s and kind). Volumes on their own filesystem (block PVs) "
            "appear here; ``local-path`` volumes are directories on the host root filesystem and are covered "
            "by the node filesystem alerts instead."
        ),
    )

    def __post_init__(self) -> None:
        for setting in ("sealed_for", "no_active_node_for", "target_down_for"):
            check_duration(getattr(self, setting), setting)
        for setting in ("ignored_fstypes_regex", "kubelet_volume_mountpoint_regex"):
            value = getattr(self, setting)
            if '"' in value or "\\" in value or has_control_characters(value) or not value:
                raise ValueError(
                    f"'{setting}' must be a non-empty regex without '\"', '\\', newlines or other control "
                    f"characters, got {value!r}"
                )
            try:
                re.compile(value)
            except re.error as err:
                raise ValueError(f"'{setting}' is not a valid regex ({err}), got {value!r}") from None
        # PromQL regexes are anchored at both ends, as fullmatch is
        ignored = [t for t in REAL_DISK_FSTYPES if re.fullmatch(self.ignored_fstypes_regex, t)]
        if ignored:
            raise ValueError(
                f"'ignored_fstypes_regex' ({self.ignored_fstypes_regex!r}) matches the real disk filesystem "
                f"type(s) {ignored}: the node disk alerts would never fire for them; list only pseudo and "
                "in-memory types (e.g. 'tmpfs|overlay')"
            )
        node = [m for m in NODE_MOUNTPOINTS if re.fullmatch(self.kubelet_volume_mountpoint_regex, m)]
        if node:
            raise ValueError(
                f"'kubelet_volume_mountpoint_regex' ({self.kubelet_volume_mountpoint_regex!r}) matches the "
                f"node mount point(s) {node}: they would drop out of the node disk alerts; match only volume "
                "mounts (e.g. '/var/lib/kubelet/pods/.+/volumes/.+')"
            )
        pairs = (
            ("tls_cert_critical_days", "tls_cert_warning_days"),
            ("disk_free_critical_percent", "disk_free_warning_percent"),
            ("volume_free_critical_percent", "volume_free_warning_percent"),
        )
        for critical, warning in pairs:
            if getattr(self, critical) >= getattr(self, warning):
                low, high = getattr(self, critical), getattr(self, warning)
                raise ValueError(f"'{critical}' ({low}) must be < '{warning}' ({high})")


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class AlertSettings:
    """Everything the alert rules depend on besides the metrics themselves."""

    thresholds: AlertThresholds = Field(
        default_factory=AlertThresholds,
        description=(
            "Thresholds of the alert rules. Defaults suit a small single-cluster Vault; tune them per site."
        ),
    )
    runbook_base_url: str = Field(
        default=DEFAULT_RUNBOOK_BASE_URL,
        description=(
            "Base of every ``runbook_url``; each alert appends ``#<anchor>`` of its RUNBOOK section. Point "
            "it at your fork or an internal copy of ``docs/RUNBOOK.md``."
        ),
    )

    def __post_init__(self) -> None:
        if "#" in self.runbook_base_url or "{{" in self.runbook_base_url or "}}" in self.runbook_base_url:
            raise ValueError(
                f"'runbook_base_url' must be an http(s) URL without '#', '{{{{' or '}}}}' (Prometheus and "
                f"Loki expand annotations as templates), got {redact_url(self.runbook_base_url)!r}"
            )
        check_url(
            self.runbook_base_url, "runbook_base_url", credentials="alert annotations are public: remove them"
        )
