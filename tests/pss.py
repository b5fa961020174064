"""An independent check of a pod spec against the Pod Security Standards (``baseline`` and ``restricted``).

It follows the controls of https://kubernetes.io/docs/concepts/security/pod-security-standards/ (policy
version ``latest``) for Linux pods, field by field, so the tests can prove which pods a namespace's
``pod-security.kubernetes.io/enforce`` label admits without trusting the builders that wrote the specs.
Windows-only and deprecated fields the stack never sets (HostProcess, AppArmor annotations) count as
violations when present.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: Capabilities ``baseline`` allows to be added.
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
#: Sysctls ``baseline`` allows (the "safe" set).
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
#: SELinux types ``baseline`` allows.
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
#: Volume sources ``restricted`` allows.
RESTRICTED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)


def _containers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for field in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(field) or []


def baseline_violations(spec: dict[str, Any]) -> list[str]:
    """What in ``spec`` (a pod spec) the ``baseline`` level forbids."""
    out = []
    psc = spec.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            out.append(f"host namespaces: {field}")
    if (psc.get("windowsOptions") or {}).get("hostProcess"):
        out.append("hostProcess")
    for volume in spec.get("volumes") or []:
        if "hostPath" in volume:
            out.append(f"hostPath volume {volume['name']}")
    if (psc.get("seccompProfile") or {}).get("type") == "Unconfined":
        out.append("seccomp Unconfined (pod)")
    if (psc.get("appArmorProfile") or {}).get("type") == "Unconfined":
        out.append("AppArmor Unconfined (pod)")
    for sysctl in psc.get("sysctls") or []:
        if sysctl["name"] not in SAFE_SYSCTLS:
            out.append(f"unsafe sysctl {sysctl['name']}")
    out += _selinux("pod", psc.get("seLinuxOptions") or {})
    for c in _containers(spec):
        name = c["name"]
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            out.append(f"{name}: privileged")
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            out.append(f"{name}: hostProcess")
        added = set((sc.get("capabilities") or {}).get("add") or []) - BASELINE_CAPABILITIES
        if added:
            out.append(f"{name}: adds capabilities {sorted(added)}")
        for port in c.get("ports") or []:
            if port.get("hostPort"):
                out.append(f"{name}: hostPort {port['hostPort']}")
        if sc.get("procMount", "Default") != "Default":
            out.append(f"{name}: procMount {sc['procMount']}")
        if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
            out.append(f"{name}: seccomp Unconfined")
        if (sc.get("appArmorProfile") or {}).get("type") == "Unconfined":
            out.append(f"{name}: AppArmor Unconfined")
        out += _selinux(name, sc.get("seLinuxOptions") or {})
    return out


def _selinux(where: str, options: dict[str, Any]) -> list[str]:
    out = []
    if options.get("type", "") not in SELINUX_TYPES:
        out.append(f"{where}: SELinux type {options['type']}")
    for field in ("user", "role"):
        if options.get(field):
            out.append(f"{where}: SELinux {field}")
    return out


def restricted_violations(spec: dict[str, Any]) -> list[str]:
    """What in ``spec`` the ``restricted`` level forbids (``baseline`` included)."""
    out = baseline_violations(spec)
    psc = spec.get("securityContext") or {}
    for volume in spec.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            out.append(f"volume {volume['name']} of type {sorted(kinds - RESTRICTED_VOLUMES)}")
    if psc.get("runAsUser") == 0:
        out.append("runAsUser 0 (pod)")
    pod_seccomp = (psc.get("seccompProfile") or {}).get("type")
    for c in _containers(spec):
        name = c["name"]
        sc = c.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            out.append(f"{name}: allowPrivilegeEscalation is not false")
        if sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is not True:
            out.append(f"{name}: runAsNonRoot is not true")
        if sc.get("runAsUser") == 0:
            out.append(f"{name}: runAsUser 0")
        if sc.get("seccompProfile", {}).get("type", pod_seccomp) not in ("RuntimeDefault", "Localhost"):
            out.append(f"{name}: seccomp neither RuntimeDefault nor Localhost")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            out.append(f"{name}: capabilities do not drop ALL")
        added = set(caps.get("add") or []) - {"NET_BIND_SERVICE"}
        if added:
            out.append(f"{name}: adds capabilities {sorted(added)} (restricted: NET_BIND_SERVICE only)")
    return out


def admitted(level: str, spec: dict[str, Any]) -> list[str]:
    """Why a namespace enforcing ``level`` would refuse a pod with ``spec`` (empty: admitted)."""
    if level == "privileged":
        return []
    if level == "baseline":
        return baseline_violations(spec)
    if level == "restricted":
        return restricted_violations(spec)
    raise ValueError(f"unknown Pod Security level {level!r}")
