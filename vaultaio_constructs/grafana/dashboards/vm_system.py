"""VM System Metrics: CPU, memory, disk usage and I/O, filesystem space, network and time sync of the host.

Metrics are node_exporter names produced by Grafana Alloy's ``prometheus.exporter.unix`` on every node and
remote-written with ``job="node"`` and ``instance`` = the node name (see the ``node`` entry of
``vaultaio_constructs/catalog.py``). The host's root filesystem is mounted into Alloy as the exporter's
rootfs, so ``mountpoint="/"`` is the host root, which also holds local-path persistent volumes. The last row
shows the node's journal and ``/var/log`` files from Loki (``node`` = the same node name).
"""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as dashboard_model

from vaultaio_constructs.grafana.dashboards.common import (
    DatasourceUid,
    Row,
    Unit,
    assemble,
    logql,
    logs,
    promql,
    query_variable,
    stat,
    textbox_variable,
    timeseries,
)
from vaultaio_constructs.loglabels import JOB_JOURNAL, JOB_VARLOG

UID = "vm-system"
TITLE = "VM System Metrics"

_N = 'job="node", instance=~"$instance"'
#: Real filesystems only: pseudo and in-memory filesystems have no capacity worth watching.
_FS = f'{_N}, fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|proc|sysfs|autofs|devtmpfs|fuse.lxcfs"'
#: Physical and bonded interfaces; virtual per-pod interfaces would swamp the graphs.
_VIRTUAL_NICS = "lo|veth.*|cali.*|cilium.*|lxc.*|flannel.*|cni.*|docker.*|br-.*|vxlan.*|tunl.*|kube-ipvs.*"
_NIC = f'{_N}, device!~"{_VIRTUAL_NICS}"'
_RI = "$__rate_interval"


def _health_row() -> Row:
    return Row(
        title="Health",
        panels=[
            stat(
                "Uptime",
                [promql(f"time() - node_boot_time_seconds{{{_N}}}", "{{instance}}", instant=True)],
                description="Time since the node booted.",
                unit=Unit.DURATION,
                steps=("orange", ((3600, "green"),)),
            ),
            stat(
                "CPU busy",
                [
                    promql(
                        f'1 - avg by (instance) (rate(node_cpu_seconds_total{{{_N}, mode="idle"}}[{_RI}]))',
                        "{{instance}}",
                        instant=True,
                    )
                ],
                description="Share of CPU time not idle, averaged over all cores.",
                unit=Unit.PERCENT_UNIT,
                steps=("green", ((0.8, "orange"), (0.9, "red"))),
                graph=True,
            ),
            stat(
                "Memory used",
                [
                    promql(
                        f"1 - node_memory_MemAvailable_bytes{{{_N}}} / node_memory_MemTotal_bytes{{{_N}}}",
                        "{{instance}}",
                        instant=True,
                    )
                ],
                description="Share of memory not available to new processes (MemAvailable).",
                unit=Unit.PERCENT_UNIT,
                steps=("green", ((0.8, "orange"), (0.9, "red"))),
                graph=True,
            ),
            stat(
                "Root filesystem used",
                [
                    promql(
                        f'1 - node_filesystem_avail_bytes{{{_N}, mountpoint="/"}}'
                        f' / node_filesystem_size_bytes{{{_N}, mountpoint="/"}}',
                        "{{instance}}",
                        instant=True,
                    )
                ],
                description="Share of the host root filesystem in use (also holds local persistent volumes).",
                unit=Unit.PERCENT_UNIT,
                steps=("green", ((0.8, "orange"), (0.9, "red"))),
            ),
            stat(
                "Load per core",
                [
                    promql(
                        f"node_load1{{{_N}}} / on (instance)"
                        f' count by (instance) (node_cpu_seconds_total{{{_N}, mode="idle"}})',
                        "{{instance}}",
                        instant=True,
                    )
                ],
                description="One-minute load average divided by the number of cores.",
                unit=Unit.SHORT,
                steps=("green", ((1, "orange"), (2, "red"))),
                decimals=2,
            ),
            stat(
                "Clock",
                [promql(f"min by (instance) (node_timex_sync_status{{{_N}}})", "{{instance}}", instant=True)],
                description="Whether the kernel clock is synchronised (node_timex_sync_status, set by "
                "chrony).",
                mappings={"0": ("Not synchronised", "red"), "1": ("Synchronised", "green")},
                steps=("red", ((1, "green"),)),
            ),
        ],
    )


def _cpu_row() -> Row:
    return Row(
        title="CPU",
        panels=[
            timeseries(
                "CPU usage by mode",
                [
                    promql(
                        f'sum by (mode) (rate(node_cpu_seconds_total{{{_N}, mode!="idle"}}[{_RI}]))'
                        f' / scalar(count(node_cpu_seconds_total{{{_N}, mode="idle"}}))',
                        "{{mode}}",
                    )
                ],
                description="Share of all selected cores' time per CPU mode (idle excluded).",
                unit=Unit.PERCENT_UNIT,
                stacked=True,
                max_value=1,
                width=12,
            ),
            timeseries(
                "Load average",
                [
                    promql(f"node_load1{{{_N}}}", "{{instance}} 1m"),
                    promql(f"node_load5{{{_N}}}", "{{instance}} 5m"),
                    promql(f"node_load15{{{_N}}}", "{{instance}} 15m"),
                ],
                description="Runnable and uninterruptible tasks averaged over 1, 5 and 15 minutes.",
                unit=Unit.SHORT,
                width=12,
            ),
        ],
    )


def _memory_row() -> Row:
    return Row(
        title="Memory",
        panels=[
            timeseries(
                "Memory",
                [
                    promql(f"node_memory_MemTotal_bytes{{{_N}}}", "{{instance}} total"),
                    promql(
                        f"node_memory_MemTotal_bytes{{{_N}}} - node_memory_MemAvailable_bytes{{{_N}}}",
                        "{{instance}} used",
                    ),
                    promql(f"node_memory_Cached_bytes{{{_N}}}", "{{instance}} page cache"),
                    promql(f"node_memory_Buffers_bytes{{{_N}}}", "{{instance}} buffers"),
                    promql(f"node_memory_MemFree_bytes{{{_N}}}", "{{instance}} free"),
                ],
                description="Total, used (total minus available), cache, buffers and free memory.",
                unit=Unit.BYTES,
                width=12,
            ),
            timeseries(
                "Swap used",
                [
                    promql(
                        f"node_memory_SwapTotal_bytes{{{_N}}} - node_memory_SwapFree_bytes{{{_N}}}",
                        "{{instance}}",
                    )
                ],
                description="Swap in use. Vault runs with disable_mlock, so nodes should have no swap.",
                unit=Unit.BYTES,
                width=12,
            ),
        ],
    )


def _disk_row() -> Row:
    return Row(
        title="Disk and filesystems",
        panels=[
            timeseries(
                "Filesystem used",
                [
                    promql(
                        f"1 - node_filesystem_avail_bytes{{{_FS}}} / node_filesystem_size_bytes{{{_FS}}}",
                        "{{instance}} {{mountpoint}}",
                    )
                ],
                description="Share of each real filesystem in use.",
                unit=Unit.PERCENT_UNIT,
                max_value=1,
                width=12,
            ),
            timeseries(
                "Filesystem space available",
                [promql(f"node_filesystem_avail_bytes{{{_FS}}}", "{{instance}} {{mountpoint}}")],
                description="Bytes available to unprivileged users on each real filesystem.",
                unit=Unit.BYTES,
                width=12,
            ),
            timeseries(
                "Disk throughput",
                [
                    promql(
                        f"sum by (instance, device) (rate(node_disk_read_bytes_total{{{_N}}}[{_RI}]))",
                        "{{instance}} {{device}} read",
                    ),
                    promql(
                        f"sum by (instance, device) (rate(node_disk_written_bytes_total{{{_N}}}[{_RI}]))",
                        "{{instance}} {{device}} written",
                    ),
                ],
                description="Bytes read and written per second per block device.",
                unit=Unit.BYTES_PER_SECOND,
                width=8,
            ),
            timeseries(
                "Disk IOPS",
                [
                    promql(
                        f"sum by (instance, device) (rate(node_disk_reads_completed_total{{{_N}}}[{_RI}]))",
                        "{{instance}} {{device}} reads",
                    ),
                    promql(
                        f"sum by (instance, device) (rate(node_disk_writes_completed_total{{{_N}}}[{_RI}]))",
                        "{{instance}} {{device}} writes",
                    ),
                ],
                description="Completed reads and writes per second per block device.",
                unit=Unit.IO_OPS_PER_SECOND,
                width=8,
            ),
            timeseries(
                "Disk busy",
                [
                    promql(
                        f"rate(node_disk_io_time_seconds_total{{{_N}}}[{_RI}])",
                        "{{instance}} {{device}}",
                    )
                ],
                description="Share of time each device had I/O in progress; near 100% means saturated.",
                unit=Unit.PERCENT_UNIT,
                max_value=1,
                width=8,
            ),
            timeseries(
                "Inodes used",
                [
                    promql(
                        f"1 - node_filesystem_files_free{{{_FS}}} / node_filesystem_files{{{_FS}}}",
                        "{{instance}} {{mountpoint}}",
                    )
                ],
                description="Share of inodes in use on each real filesystem.",
                unit=Unit.PERCENT_UNIT,
                max_value=1,
                width=12,
            ),
            timeseries(
                "Read-only or failing filesystems",
                [
                    promql(
                        f"node_filesystem_readonly{{{_FS}}} == 1", "{{instance}} {{mountpoint}} read-only"
                    ),
                    promql(
                        f"node_filesystem_device_error{{{_FS}}} == 1", "{{instance}} {{mountpoint}} error"
                    ),
                ],
                description="Filesystems mounted read-only or whose statistics could not be read; empty is "
                "good.",
                unit=Unit.SHORT,
                width=12,
            ),
        ],
    )


def _network_row() -> Row:
    return Row(
        title="Network",
        panels=[
            timeseries(
                "Network traffic",
                [
                    promql(
                        f"rate(node_network_receive_bytes_total{{{_NIC}}}[{_RI}]) * 8",
                        "{{instance}} {{device}} received",
                    ),
                    promql(
                        f"rate(node_network_transmit_bytes_total{{{_NIC}}}[{_RI}]) * 8",
                        "{{instance}} {{device}} sent",
                    ),
                ],
                description="Bits per second received and sent on host interfaces (pod veths excluded).",
                unit=Unit.BITS_PER_SECOND,
                width=12,
            ),
            timeseries(
                "Network errors and drops",
                [
                    promql(
                        f"rate(node_network_receive_errs_total{{{_NIC}}}[{_RI}])",
                        "{{instance}} {{device}} rx errors",
                    ),
                    promql(
                        f"rate(node_network_transmit_errs_total{{{_NIC}}}[{_RI}])",
                        "{{instance}} {{device}} tx errors",
                    ),
                    promql(
                        f"rate(node_network_receive_drop_total{{{_NIC}}}[{_RI}])",
                        "{{instance}} {{device}} rx drops",
                    ),
                    promql(
                        f"rate(node_network_transmit_drop_total{{{_NIC}}}[{_RI}])",
                        "{{instance}} {{device}} tx drops",
                    ),
                ],
                description="Packets per second with errors or dropped; should stay at 0.",
                unit=Unit.PACKETS_PER_SECOND,
                width=12,
            ),
        ],
    )


def _time_row() -> Row:
    return Row(
        title="Time synchronisation",
        panels=[
            timeseries(
                "Clock offset",
                [promql(f"node_timex_offset_seconds{{{_N}}}", "{{instance}}")],
                description="Kernel clock offset from its time source as steered by chrony.",
                unit=Unit.SECONDS,
                min_value=None,
                width=12,
            ),
            timeseries(
                "Clock maximum error",
                [promql(f"node_timex_maxerror_seconds{{{_N}}}", "{{instance}}")],
                description="Kernel's maximum error estimate; 16 s means the clock is not being "
                "synchronised.",
                unit=Unit.SECONDS,
                width=12,
            ),
        ],
    )


def _node_logs_row() -> Row:
    return Row(
        title="Node logs",
        collapsed=True,
        panels=[
            logs(
                "Journal and /var/log",
                [
                    logql(
                        f'{{job=~"{JOB_JOURNAL}|{JOB_VARLOG}", node=~"$instance"}} |~ "$search"',
                        max_lines=1000,
                    )
                ],
                description="systemd journal and /var/log files of the selected nodes.",
            )
        ],
    )


def vm_system() -> dashboard_model.Dashboard:
    """The VM System Metrics dashboard."""
    return assemble(
        uid=UID,
        title=TITLE,
        description="CPU, memory, disks, filesystems, network and clock of the nodes running the stack.",
        tags=["node"],
        variables=[
            query_variable(
                "instance",
                label="Node",
                uid=DatasourceUid.PROMETHEUS,
                query='label_values(node_uname_info{job="node"}, instance)',
                description="Kubernetes node name (Alloy's unix exporter runs on every node).",
            ),
            textbox_variable(
                "search",
                label="Log search (regex)",
                default="",
                description="RE2 regular expression for the node log panel.",
            ),
        ],
        rows=[
            _health_row(),
            _cpu_row(),
            _memory_row(),
            _disk_row(),
            _network_row(),
            _time_row(),
            _node_logs_row(),
        ],
    )
