"""What an :class:`~vaultaio_constructs.objectstore.ObjectStorePlan` adds to a pod: environment variables from
Secret references, read-only Secret files, and the labels workload-identity webhooks select on.

Kept apart from :mod:`vaultaio_constructs.objectstore` so the settings and config renderers load without
cdk8s.
"""

from __future__ import annotations

import cdk8s
from cdk8s_plus_27 import k8s

from vaultaio_constructs.objectstore import EnvFromSecret, ObjectStorePlan
from vaultaio_constructs.workload import env_from_secret, mount, secret_volume

#: Mode of the Secret files: owner and group (``fsGroup``) may read, nobody writes.
FILE_MODE = 0o440


def storage_env(plan: ObjectStorePlan | None) -> list[k8s.EnvVar]:
    """The plan's environment: credentials through ``secretKeyRef`` only."""
    if plan is None:
        return []
    return [
        env_from_secret(v.name, v.secret.name, v.secret.key)
        if isinstance(v, EnvFromSecret)
        else k8s.EnvVar(name=v.name, value=v.value)
        for v in plan.env
    ]


def storage_volumes(plan: ObjectStorePlan | None) -> tuple[list[k8s.Volume], list[k8s.VolumeMount]]:
    """One read-only Secret volume per file of the plan, and its mount."""
    if plan is None:
        return [], []
    volumes = [
        secret_volume(f.volume_name, f.secret.name, {f.secret.key: f.file_name}, mode=FILE_MODE)
        for f in plan.files
    ]
    mounts = [mount(f.volume_name, f.mount_path, read_only=True) for f in plan.files]
    return volumes, mounts


def add_pod_labels(workload: cdk8s.ApiObject, plan: ObjectStorePlan | None) -> None:
    """Add the plan's pod labels (Azure Workload Identity) to ``workload``'s pod template only: the selector
    and the other objects keep the standard labels."""
    for key, value in plan.pod_labels if plan else ():
        escaped = key.replace("~", "~0").replace("/", "~1")
        workload.add_json_patch(cdk8s.JsonPatch.add(f"/spec/template/metadata/labels/{escaped}", value))
