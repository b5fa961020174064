"""The alert rules' assumptions about the metric pipeline hold in the other components' configuration."""

from __future__ import annotations

import re

from vaultaio_constructs.alerts import AlertThresholds
from vaultaio_constructs.alloy import config as alloy_config

VOLUME_MOUNT = "/var/lib/kubelet/pods/0f5b3c1e-1111/volumes/kubernetes.io~csi/pvc-1234/mount"


def test_kubelet_volume_regex_matches_volume_mounts_only() -> None:
    volume = re.compile(f"^(?:{AlertThresholds().kubelet_volume_mountpoint_regex})$")
    assert volume.match(VOLUME_MOUNT)
    assert not volume.match("/")
    assert not volume.match("/var/lib/kubelet")


def test_alloy_measures_node_filesystems_but_not_pod_volumes() -> None:
    # pod volumes are invisible to Alloy's non-propagating, non-root view of the host root (see RUNBOOK,
    # PersistentVolumeFillingUp): measuring them would fail or report the parent filesystem
    excluded = re.compile(alloy_config.MOUNT_POINTS_EXCLUDE)
    assert excluded.search("/") is None and excluded.search("/var/lib/rancher") is None
    assert excluded.search(VOLUME_MOUNT)
    assert excluded.search("/var/lib/kubelet/pods/0f5b/volume-subpaths/x/y")
    assert excluded.search("/proc")
    assert excluded.search("/var/lib/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs")
