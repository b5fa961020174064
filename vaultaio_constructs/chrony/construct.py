"""Chrony: keeps every node's clock synchronised (one chronyd per node, DaemonSet).

All pods share the node's clock, so one chronyd per node disciplines the time Vault's tokens, leases and
certificates, and every log and metric timestamp, depend on. Objects (called ``chrony`` unless noted):
ServiceAccount; ConfigMap ``chrony-config`` (:mod:`.config`); DaemonSet. No Service: chronyd is a client
only and serves nobody (``port 0``).

NTP egress is allowed to the configured servers only: each server is an external endpoint (its address
and the networks it answers from, port 123/UDP; with NTS also 4460/TCP), and the NetworkPolicies allow
exactly those.

Pod Security: an exception to ``restricted``, and why. Setting the clock needs ``CAP_SYS_TIME``; the pod
adds that capability and nothing else (every other one is dropped). A non-root process does not get added
capabilities in its effective set (Kubernetes has no ambient capabilities and ``allowPrivilegeEscalation:
false`` ignores file capabilities), so chronyd runs as UID 0 with only ``SYS_TIME``, staying root (``-u
root``) instead of switching users, which would need ``SETUID``/``SETGID``. Everything else is restricted:
read-only root filesystem, no privilege escalation, ``seccompProfile: RuntimeDefault``, no host namespaces,
no ServiceAccount token.

Do not run another NTP client on the nodes (systemd-timesyncd, the host's chronyd) while this is enabled:
two daemons disciplining one clock fight each other.
"""

from __future__ import annotations

from typing import Final

from cdk8s_plus_27 import k8s
from constructs import Construct

from vaultaio_constructs.chrony.config import (
    CHRONY_ARGS,
    CHRONY_CAPABILITIES,
    CHRONY_COMMAND,
    CHRONY_CONFIG_DIR,
    CHRONY_CONFIG_FILE,
    CHRONY_LIVENESS_COMMAND,
    CHRONY_NTP_PORT,
    CHRONY_NTS_KE_PORT,
    CHRONY_RUN_MOUNT,
    CHRONY_STATE_DIR,
    ChronyConfig,
    NtpSource,
    readiness_command,
    render_chrony_conf,
)
from vaultaio_constructs.chrony.props import ChronyProps, NtpServerProps
from vaultaio_constructs.common import (
    ExternalEndpoint,
    Protocol,
)
from vaultaio_constructs.component import Component
from vaultaio_constructs.placement import Area, Placement, PodSecurity, refuse_disabled
from vaultaio_constructs.workload import (
    CONFIG_CHECKSUM_ANNOTATION,
    SecurityExceptions,
    config_checksum,
    config_map,
    config_map_volume,
    container,
    daemon_set,
    empty_dir,
    exec_probe,
    mount,
    pod_security_context,
    pod_template,
    service_account,
)

CONTAINER_NAME: Final = "chrony"
CONFIG_MAP_NAME: Final = "chrony-config"


class Chrony(Component):
    """Chrony (time-sync): chronyd on every node with ``SYS_TIME`` only, egress to its servers only."""

    area = Area.NTP
    #: ``CAP_SYS_TIME`` is beyond Pod Security ``baseline`` (see the module docstring).
    pod_security = PodSecurity.PRIVILEGED
    #: A node agent: lives in the node namespace, the only one that admits privileged pods.
    placement = Placement.NODE

    def __init__(self, scope: Construct, id: str, props: ChronyProps | None = None) -> None:
        """Create Chrony (DaemonSet in the node namespace, ``SYS_TIME`` only) in ``scope`` (a
        :class:`~vaultaio_constructs.component.StackChart`, or a construct inside one) from ``props``
        (default: every setting at its default, see ``docs/SETTINGS.md``); ``id`` is the construct id."""
        props = props or ChronyProps()
        refuse_disabled("chrony", props.enabled)
        super().__init__(
            scope,
            id,
            name="chrony",
            role="time-sync",
            workload=props,
        )
        self.resources = self.resolve_resources(props.resources)
        try:  # cross-field rules over servers (min_sources): name the component in the message
            self.config = ChronyConfig(
                sources=tuple(
                    NtpSource(
                        host=s.address,
                        kind=s.kind,
                        iburst=s.iburst,
                        nts=s.nts,
                        prefer=s.prefer,
                        max_sources=s.max_sources,
                    )
                    for s in props.servers
                ),
                makestep_threshold_seconds=props.makestep_threshold_seconds,
                makestep_limit=props.makestep_limit,
                rtcsync=props.rtcsync,
                min_sources=props.min_sources,
                leap_second_source=props.leap_second_source,
            )
        except ValueError as err:
            raise ValueError(f"chrony: {err}") from None
        #: The NTP (and NTS key-establishment) destinations, as wired.
        self.servers: tuple[ExternalEndpoint, ...] = tuple(self._connect_servers(props.servers))

        service_account(self)
        # No Service: chrony is an NTP client of external servers and serves nobody (``port 0``).
        config_text = render_chrony_conf(self.config)
        self.config_map = config_map(self, CONFIG_MAP_NAME, {CHRONY_CONFIG_FILE: config_text})
        chrony = container(
            name=CONTAINER_NAME,
            image=self.image,
            resources=self.resources,
            command=CHRONY_COMMAND,
            args=CHRONY_ARGS,
            volume_mounts=[
                mount("config", CHRONY_CONFIG_DIR, read_only=True),
                mount("run", CHRONY_RUN_MOUNT),
                mount("state", CHRONY_STATE_DIR),
            ],
            readiness=exec_probe(readiness_command(props.ready_max_correction_seconds), period_seconds=30),
            # chronyd answers on its command socket whether or not it is synchronised
            liveness=exec_probe(CHRONY_LIVENESS_COMMAND, period_seconds=60, failure_threshold=5),
            exceptions=SecurityExceptions(add_capabilities=CHRONY_CAPABILITIES, run_as_root=True),
        )
        template = pod_template(
            self,
            containers=[chrony],
            security_context=pod_security_context(user=None, run_as_root=True),
            volumes=[
                config_map_volume("config", CONFIG_MAP_NAME),
                empty_dir("run", size_mib=8, memory=True),
                empty_dir("state", size_mib=8),
            ],
            # Every node's clock, control-plane nodes included.
            tolerations=[k8s.Toleration(operator="Exists", effect="NoSchedule")],
            annotations={CONFIG_CHECKSUM_ANNOTATION: config_checksum(config_text)},
        )
        self.daemon_set = daemon_set(self, template=template)

    def _connect_servers(self, servers: tuple[NtpServerProps, ...]) -> list[ExternalEndpoint]:
        wired: list[ExternalEndpoint] = []
        for server in servers:
            wired.append(
                self.connect_external(
                    ExternalEndpoint(
                        name=server.name,
                        cidrs=server.cidrs,
                        port=CHRONY_NTP_PORT,
                        protocol=Protocol.UDP,
                        address=server.address,
                    ),
                    reason=f"NTP to {server.address}",
                )
            )
            if server.nts:
                wired.append(
                    self.connect_external(
                        ExternalEndpoint(
                            name=f"{server.name}-nts-ke"[:63].rstrip("-"),
                            cidrs=server.cidrs,
                            port=CHRONY_NTS_KE_PORT,
                            protocol=Protocol.TCP,
                            address=server.address,
                        ),
                        reason=f"NTS key establishment with {server.address}",
                    )
                )
        return wired
