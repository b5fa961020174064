"""The alert rules of the stack, each with the promtool scenarios that prove it.

Every rule is built from :class:`~vaultaio_constructs.alerts.settings.AlertThresholds`, and so are its
scenarios: a scenario's failing values are derived from the threshold (for example twice it), so the tests
keep proving the rule when a site changes a threshold. Series labels mirror what the scrape configuration
produces: ``job``/``instance`` from Prometheus (Vault pods are discovered by DNS, so ``instance`` is
``<pod IP>:8202``), and ``instance`` = node name for the series Alloy remote-writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from vaultaio_constructs.alerts.model import AlertRule, Check, InputSeries, Scenario, Severity
from vaultaio_constructs.alerts.settings import AlertThresholds

#: ``instance`` values used in scenarios (what the scrape configuration yields).
VAULT_0: Final = "10.42.0.11:8202"
VAULT_1: Final = "10.42.0.12:8202"
VAULT_2: Final = "10.42.0.13:8202"
NODE: Final = "node-1"
#: Alloy probes from every node and sets ``instance`` to the node name.
PROBE: Final = NODE

VAULT: Final = 'job="vault"'
#: ``job`` of the TLS probe's series (Alloy's blackbox exporter, or a Prometheus Operator ``Probe``).
PROBE_JOB: Final = "blackbox"
#: Names of the two Prometheus rule groups: Vault itself, and the stack's own nodes, volumes and pipeline.
VAULT_GROUP: Final = "vault"
STACK_GROUP: Final = "vault-aio-stack"


def _series(metric: str, labels: Mapping[str, str], values: str) -> InputSeries:
    rendered = ", ".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    return InputSeries(series=f"{metric}{{{rendered}}}", values=values)


def _vault(metric: str, instance: str, values: str, **extra: str) -> InputSeries:
    return _series(metric, {"job": "vault", "instance": instance, **extra}, values)


def _num(value: float) -> str:
    """A sample value in promtool notation (no exponent for readability where possible)."""
    return f"{value:.10g}"


def _counter_step(healthy_per_minute: float, bad_per_minute: float) -> str:
    """A counter growing at the healthy pace for 10 minutes, then at the bad pace for 30.

    With a 5m rate window the rate crosses a threshold between the two paces at 12m (and not at 11m) when
    ``healthy <= threshold / 5`` and ``bad >= 2 * threshold`` (see :func:`_rate_scenarios`).
    """
    start_bad = healthy_per_minute * 10 + bad_per_minute
    return f"0+{_num(healthy_per_minute)}x10 {_num(start_bad)}+{_num(bad_per_minute)}x30"


def _rate_scenarios(
    *,
    threshold_per_second: float,
    for_minutes: int,
    build: Callable[[str], tuple[InputSeries, ...]],
    firing: tuple[Mapping[str, str], ...],
) -> tuple[Scenario, ...]:
    """Scenarios for ``rate(counter[5m]) > threshold``: quiet at a fifth of it, fires after ``for``."""
    healthy = threshold_per_second * 60 / 5
    bad = threshold_per_second * 60 * 2
    fires_at = 12 + for_minutes
    return (
        Scenario(
            description="rate rises to twice the threshold at 10m; condition holds from 12m",
            series=build(_counter_step(healthy, bad)),
            checks=(
                Check(at="11m"),
                Check(at=f"{fires_at - 1}m"),
                Check(at=f"{fires_at + 1}m", firing=firing),
            ),
        ),
        Scenario(
            description="steady healthy rate stays quiet",
            series=build(f"0+{_num(healthy)}x40"),
            checks=(Check(at=f"{fires_at + 1}m"),),
        ),
    )


def _summary_scenarios(
    *,
    metric: str,
    instance: str,
    threshold: float,
    for_minutes: int,
) -> tuple[Scenario, ...]:
    """Scenarios for ``rate(x_sum[5m]) / rate(x_count[5m]) > threshold``: 60 observations per minute."""

    def build(sum_values: str) -> tuple[InputSeries, ...]:
        return (
            _vault(f"{metric}_sum", instance, sum_values),
            _vault(f"{metric}_count", instance, "0+60x40"),
        )

    healthy_each = threshold / 5
    bad_each = threshold * 2
    fires_at = 12 + for_minutes
    return (
        Scenario(
            description=f"mean rises from {_num(healthy_each)} to {_num(bad_each)} at 10m",
            series=build(_counter_step(60 * healthy_each, 60 * bad_each)),
            checks=(
                Check(at="11m"),
                Check(at=f"{fires_at - 1}m"),
                Check(at=f"{fires_at + 1}m", firing=({"instance": instance, "job": "vault"},)),
            ),
        ),
        Scenario(
            description="steady healthy mean stays quiet",
            series=build(f"0+{_num(60 * healthy_each)}x40"),
            checks=(Check(at=f"{fires_at + 1}m"),),
        ),
    )


def _gauge_scenarios(
    *,
    series: Callable[[str], tuple[InputSeries, ...]],
    healthy: str,
    failing: str,
    for_minutes: int,
    firing: tuple[Mapping[str, str], ...],
) -> tuple[Scenario, ...]:
    """A gauge healthy for 5 minutes then failing from 6m: quiet before ``for`` has elapsed, then fires."""
    fires_at = 6 + for_minutes
    quiet_at = f"{fires_at - 1}m" if fires_at - 1 > 6 else "5m"
    return (
        Scenario(
            description=f"value turns {failing} at 6m",
            series=series(f"{healthy}x5 {failing}x40"),
            checks=(
                Check(at=quiet_at),
                Check(at=f"{fires_at}m", firing=firing),
                Check(at="40m", firing=firing),
            ),
        ),
        Scenario(
            description=f"steady {healthy} stays quiet",
            series=series(f"{healthy}x45"),
            checks=(Check(at="40m"),),
        ),
    )


def _minutes(duration: str) -> int:
    units = {"s": 1 / 60, "m": 1, "h": 60, "d": 1440}
    if duration == "0":
        return 0
    minutes = int(duration[:-1]) * units[duration[-1]]
    if minutes != int(minutes):
        raise ValueError(f"alert durations must be whole minutes for the generated tests, got {duration!r}")
    return int(minutes)


# --------------------------------------------------------------------------------------------- Vault


def vault_sealed(t: AlertThresholds) -> AlertRule:
    """Vault is sealed, or its unsealed state cannot be confirmed (scrape failing, gauge missing, no pods)."""
    expr = (
        f'label_replace(vault_core_unsealed{{{VAULT}}} == 0, "reason", "sealed", "", "")\n'
        f'or label_replace(up{{{VAULT}}} == 0, "reason", "scrape_failed", "", "")\n'
        f"or label_replace((up{{{VAULT}}} == 1) unless on (instance) vault_core_unsealed{{{VAULT}}},"
        f' "reason", "no_metrics", "", "")\n'
        f'or label_replace(absent(up{{{VAULT}}}), "reason", "no_targets", "", "")'
    )
    wait = _minutes(t.sealed_for)
    labels = {"instance": VAULT_0, "job": "vault"}
    other_up = _vault("up", VAULT_1, "1x30")
    other_unsealed = _vault("vault_core_unsealed", VAULT_1, "1x30")
    return AlertRule(
        name="VaultSealed",
        expr=expr,
        for_=t.sealed_for,
        severity=Severity.CRITICAL,
        summary="Vault {{ $labels.instance }} is sealed or its seal state is unknown ({{ $labels.reason }})",
        description=(
            "Vault pod {{ $labels.instance }} cannot serve secrets: reason {{ $labels.reason }}. 'sealed': "
            "vault_core_unsealed is 0. 'scrape_failed': Prometheus cannot scrape the metrics listener "
            "(port 8202), so the pod is down, restarting or unreachable. 'no_metrics': the pod answers but "
            "does not report vault_core_unsealed. 'no_targets': discovery (DNS of the headless Service, or "
            "the PodMonitor) finds no Vault pod at all."
        ),
        scenarios=(
            Scenario(
                description="a pod seals at 6m; the other stays unsealed",
                series=(
                    _vault("up", VAULT_0, "1x30"),
                    _vault("vault_core_unsealed", VAULT_0, "1x5 0x25"),
                    other_up,
                    other_unsealed,
                ),
                checks=(
                    Check(at="5m"),
                    Check(at=f"{6 + wait}m", firing=({**labels, "reason": "sealed"},)),
                ),
            ),
            Scenario(
                description="the scrape fails at 6m (pod down); the last sample goes stale",
                series=(
                    _vault("up", VAULT_0, "1x5 0x25"),
                    _vault("vault_core_unsealed", VAULT_0, "1x5 stale"),
                    other_up,
                    other_unsealed,
                ),
                checks=(
                    Check(at="5m"),
                    Check(at=f"{6 + wait}m", firing=({**labels, "reason": "scrape_failed"},)),
                ),
            ),
            Scenario(
                description="a pod is scraped but stops reporting the seal gauge at 6m",
                series=(
                    _vault("up", VAULT_0, "1x30"),
                    _vault("vault_core_unsealed", VAULT_0, "1x5 stale"),
                    other_up,
                    other_unsealed,
                ),
                checks=(
                    Check(at="5m"),
                    Check(at=f"{6 + wait}m", firing=({**labels, "reason": "no_metrics"},)),
                ),
            ),
            Scenario(
                description="DNS discovery finds no Vault pod at all",
                series=(
                    _series("up", {"job": "prometheus", "instance": "prometheus.vault-aio.svc:9090"}, "1x30"),
                ),
                checks=(
                    Check(at="0")
                    if wait
                    else Check(at="0", firing=({"job": "vault", "reason": "no_targets"},)),
                    Check(at=f"{wait + 1}m", firing=({"job": "vault", "reason": "no_targets"},)),
                ),
            ),
            Scenario(
                description="all pods unsealed and scraped: quiet",
                series=(_vault("up", VAULT_0, "1x30"), _vault("vault_core_unsealed", VAULT_0, "1x30")),
                checks=(Check(at="20m"),),
            ),
        ),
    )


def vault_no_active_node(t: AlertThresholds) -> AlertRule:
    wait = _minutes(t.no_active_node_for)
    return AlertRule(
        name="VaultNoActiveNode",
        expr=f"(sum(vault_core_active{{{VAULT}}}) or vector(0)) < 1",
        for_=t.no_active_node_for,
        severity=Severity.CRITICAL,
        summary="Vault has no active node (leader lost)",
        description=(
            f"No Vault pod has reported vault_core_active = 1 for {t.no_active_node_for}: the cluster has "
            "lost "
            "its leader and serves no requests. Standbys forward to the active node, so every client fails."
        ),
        scenarios=(
            Scenario(
                description="the active pod steps down at 6m and no standby takes over",
                series=(
                    _vault("vault_core_active", VAULT_0, "1x5 0x25"),
                    _vault("vault_core_active", VAULT_1, "0x30"),
                    _vault("vault_core_active", VAULT_2, "0x30"),
                ),
                checks=(Check(at=f"{5 + wait}m"), Check(at=f"{6 + wait}m", firing=({},))),
            ),
            Scenario(
                description="leadership moves from one pod to another within a minute: quiet",
                series=(
                    _vault("vault_core_active", VAULT_0, "1x5 0x25"),
                    _vault("vault_core_active", VAULT_1, "0x6 1x24"),
                ),
                checks=(Check(at="6m"), Check(at="20m")),
            ),
        ),
    )


def vault_leadership_flapping(t: AlertThresholds) -> AlertRule:
    n = t.leadership_losses_per_hour
    counter = "0x30 " + " ".join(str(i) for i in range(1, n + 2)) + f" {n + 1}x30"
    return AlertRule(
        name="VaultLeadershipFlapping",
        expr=f"sum(increase(vault_core_leadership_lost_count{{{VAULT}}}[1h])) > {n}",
        for_="0",
        severity=Severity.WARNING,
        summary="Vault leadership changed more than {n} times in an hour".replace("{n}", str(n)),
        description=(
            f"Vault pods lost leadership more than {n} times within an hour (vault_core_leadership_lost). "
            "Frequent elections point at raft heartbeats timing out: network trouble between pods, CPU "
            "starvation, slow disks or clock problems."
        ),
        scenarios=(
            Scenario(
                description=f"{n + 1} leadership losses one minute apart from 31m",
                series=(_vault("vault_core_leadership_lost_count", VAULT_0, counter),),
                checks=(Check(at="30m"), Check(at=f"{30 + n - 1}m"), Check(at=f"{35 + n}m", firing=({},))),
            ),
            Scenario(
                description="one election an hour is normal: quiet",
                series=(_vault("vault_core_leadership_lost_count", VAULT_0, "0x30 1x40"),),
                checks=(Check(at="40m"),),
            ),
        ),
    )


def vault_autopilot_unhealthy(t: AlertThresholds) -> AlertRule:
    return AlertRule(
        name="VaultAutopilotUnhealthy",
        expr=f"vault_autopilot_healthy{{{VAULT}}} == 0",
        for_="5m",
        severity=Severity.CRITICAL,
        summary="Vault raft autopilot reports an unhealthy node",
        description=(
            "The active Vault node ({{ $labels.instance }}) reports vault_autopilot_healthy = 0 for 5 "
            "minutes: "
            "at least one raft peer is unhealthy (not contacting the leader, lagging behind the log or "
            "removed). Losing another peer may cost quorum."
        ),
        scenarios=_gauge_scenarios(
            series=lambda values: (_vault("vault_autopilot_healthy", VAULT_0, values),),
            healthy="1",
            failing="0",
            for_minutes=5,
            firing=({"instance": VAULT_0, "job": "vault"},),
        ),
    )


def vault_raft_leader_contact_slow(t: AlertThresholds) -> AlertRule:
    ms = t.raft_leader_last_contact_ms
    metric = "vault_raft_leader_lastContact"
    return AlertRule(
        name="VaultRaftLeaderContactSlow",
        expr=(f"rate({metric}_sum{{{VAULT}}}[5m]) / rate({metric}_count{{{VAULT}}}[5m]) > {_num(ms)}"),
        for_="10m",
        severity=Severity.WARNING,
        summary="Vault raft leader {{ $labels.instance }} reaches its followers slowly",
        description=(
            f"The mean raft leader last-contact time on {{{{ $labels.instance }}}} exceeded {_num(ms)} ms "
            "for "
            "10 minutes (vault_raft_leader_lastContact; healthy is below 200 ms). Followers that stay out of "
            "contact trigger elections."
        ),
        scenarios=_summary_scenarios(metric=metric, instance=VAULT_0, threshold=ms, for_minutes=10),
    )


def vault_high_request_latency(t: AlertThresholds) -> AlertRule:
    ms = t.request_latency_ms
    metric = "vault_core_handle_request"
    return AlertRule(
        name="VaultHighRequestLatency",
        expr=f"rate({metric}_sum{{{VAULT}}}[5m]) / rate({metric}_count{{{VAULT}}}[5m]) > {_num(ms)}",
        for_="10m",
        severity=Severity.WARNING,
        summary="Vault {{ $labels.instance }} handles requests slowly",
        description=(
            f"The mean time Vault pod {{{{ $labels.instance }}}} needs to handle a non-login request "
            "exceeded "
            f"{_num(ms)} ms for 10 minutes (vault_core_handle_request). Look at storage (raft commit "
            "time, disk), the seal (KMS or transit latency) and audit devices."
        ),
        scenarios=_summary_scenarios(metric=metric, instance=VAULT_0, threshold=ms, for_minutes=10),
    )


def vault_audit_device_failing(t: AlertThresholds) -> AlertRule:
    expr = (
        "sum by (instance) (\n"
        f'  label_replace(rate(vault_audit_log_request_failure{{{VAULT}}}[5m]), "kind", "request", "", "")\n'
        f'  or label_replace(rate(vault_audit_log_response_failure{{{VAULT}}}[5m]), "kind", "response", "", '
        '"")\n'
        ") > 0"
    )

    def series(request: str, response: str) -> tuple[InputSeries, ...]:
        return (
            _vault("vault_audit_log_request_failure", VAULT_0, request),
            _vault("vault_audit_log_response_failure", VAULT_0, response),
        )

    firing = ({"instance": VAULT_0},)
    return AlertRule(
        name="VaultAuditDeviceFailing",
        expr=expr,
        for_="1m",
        severity=Severity.CRITICAL,
        summary="Vault {{ $labels.instance }} cannot write its audit log",
        description=(
            "Vault pod {{ $labels.instance }} counts audit log failures (vault_audit_log_request_failure or "
            "vault_audit_log_response_failure): every enabled audit device failed to record a request. Vault "
            "refuses requests it cannot audit, so clients get errors until an audit device works again."
        ),
        scenarios=(
            Scenario(
                description="request audit failures start at 11m",
                series=series("0x10 1+1x20", "0x30"),
                checks=(Check(at="10m"), Check(at="12m", firing=firing)),
            ),
            Scenario(
                description="only response audit failures, from 11m",
                series=series("0x30", "0x10 2+2x20"),
                checks=(Check(at="10m"), Check(at="12m", firing=firing)),
            ),
            Scenario(
                description="no failures: quiet",
                series=series("0x30", "0x30"),
                checks=(Check(at="20m"),),
            ),
        ),
    )


def vault_high_token_creation_rate(t: AlertThresholds) -> AlertRule:
    rate = t.token_creation_per_second

    def build(values: str) -> tuple[InputSeries, ...]:
        return (
            _vault(
                "vault_token_creation",
                VAULT_0,
                values,
                auth_method="approle",
                mount_point="auth/approle/",
                creation_ttl="+Inf",
                token_type="service",
                namespace="root",
                cluster="vault-aio",
            ),
        )

    return AlertRule(
        name="VaultHighTokenCreationRate",
        expr=f"sum(rate(vault_token_creation{{{VAULT}}}[5m])) > {_num(rate)}",
        for_="10m",
        severity=Severity.WARNING,
        summary="Vault creates more than {r} tokens per second".replace("{r}", _num(rate)),
        description=(
            f"Vault created more than {_num(rate)} tokens per second for 10 minutes (vault_token_creation). "
            "A client that logs in for every request instead of reusing its token grows the token store and "
            "the lease count, and slows Vault down."
        ),
        scenarios=_rate_scenarios(threshold_per_second=rate, for_minutes=10, build=build, firing=({},)),
    )


def vault_auth_failures_spike(t: AlertThresholds) -> AlertRule:
    rate = t.auth_failures_per_second

    def build(values: str) -> tuple[InputSeries, ...]:
        return (
            _vault("vault_core_response_status_code", VAULT_0, values, code="400", type="4xx"),
            _vault("vault_core_response_status_code", VAULT_0, values, code="403", type="4xx"),
            # Busy but healthy traffic and not-found answers must not count.
            _vault("vault_core_response_status_code", VAULT_0, "0+6000x40", code="200", type="2xx"),
            _vault("vault_core_response_status_code", VAULT_0, "0+6000x40", code="404", type="4xx"),
        )

    return AlertRule(
        name="VaultAuthFailuresSpike",
        expr=(f'sum(rate(vault_core_response_status_code{{{VAULT}, code=~"400|403"}}[5m])) > {_num(rate)}'),
        for_="5m",
        severity=Severity.WARNING,
        summary="Vault rejects more than {r} requests per second (400/403)".replace("{r}", _num(rate)),
        description=(
            f"Vault answered more than {_num(rate)} requests per second with 400 or 403 for 5 minutes "
            "(vault_core_response_status_code). Failed logins (wrong credentials answer 400) and permission "
            "denials (403) rise together in a credential-stuffing attempt or after a broken deployment. The "
            "audit log in Loki shows which paths and clients (see VaultLoginFailuresSpike)."
        ),
        scenarios=_rate_scenarios(threshold_per_second=rate / 2, for_minutes=5, build=build, firing=({},)),
    )


def vault_lease_count_high(t: AlertThresholds) -> AlertRule:
    n = t.lease_count
    return AlertRule(
        name="VaultLeaseCountHigh",
        expr=f"max(vault_expire_num_leases{{{VAULT}}}) > {n}",
        for_="15m",
        severity=Severity.WARNING,
        summary="Vault holds more than {n} leases".replace("{n}", str(n)),
        description=(
            f"The active Vault node tracks more than {n} leases for 15 minutes (vault_expire_num_leases). "
            "Large lease counts slow down unsealing, leader elections and revocation; find the mount that "
            "creates them and shorten its TTLs."
        ),
        scenarios=_gauge_scenarios(
            series=lambda values: (_vault("vault_expire_num_leases", VAULT_0, values),),
            healthy=str(n // 2),
            failing=str(n * 2),
            for_minutes=15,
            firing=({},),
        ),
    )


# ----------------------------------------------------------------------------------- TLS certificate

BLACKBOX: Final = f'job="{PROBE_JOB}"'
_PROBE_LABELS: Final = {"job": PROBE_JOB, "instance": PROBE}


def _expiry_rule(name: str, days: int, severity: Severity, healthy_days: int) -> AlertRule:
    def series(values: str) -> tuple[InputSeries, ...]:
        return (_series("probe_ssl_earliest_cert_expiry", _PROBE_LABELS, values),)

    # promtool's clock starts at the Unix epoch, so an expiry timestamp of N days is N days away.
    expiring = (days - 1) * 86400
    healthy = healthy_days * 86400
    return AlertRule(
        name=name,
        expr=f"(probe_ssl_earliest_cert_expiry{{{BLACKBOX}}} - time()) / 86400 < {days}",
        for_="10m",
        severity=severity,
        summary=f"Vault's TLS listener certificate expires within {days} days",
        description=(
            "The certificate Vault serves on its API listener (probe_ssl_earliest_cert_expiry from Alloy's "
            "blackbox probe of Vault's health endpoint, run from node {{ $labels.instance }}; the earliest "
            f"expiry in the served chain) expires within {days} days. Clients and Prometheus stop trusting "
            "Vault once it expires. This does not cover the PKI root CA inside Vault: check that with "
            "'vault pki health-check'."
        ),
        scenarios=(
            Scenario(
                description=f"a certificate {days - 1} days from expiry",
                series=series(f"{expiring}x30"),
                checks=(Check(at="9m"), Check(at="10m", firing=(_PROBE_LABELS,))),
            ),
            Scenario(
                description=f"a certificate {healthy_days} days from expiry: quiet",
                series=series(f"{healthy}x30"),
                checks=(Check(at="20m"),),
            ),
        ),
    )


def vault_tls_certificate_expiring_soon(t: AlertThresholds) -> AlertRule:
    return _expiry_rule(
        "VaultTLSCertificateExpiringSoon",
        t.tls_cert_warning_days,
        Severity.WARNING,
        t.tls_cert_warning_days + 30,
    )


def vault_tls_certificate_expiry_critical(t: AlertThresholds) -> AlertRule:
    return _expiry_rule(
        "VaultTLSCertificateExpiryCritical",
        t.tls_cert_critical_days,
        Severity.CRITICAL,
        t.tls_cert_warning_days,
    )


def vault_api_probe_failing(t: AlertThresholds) -> AlertRule:
    return AlertRule(
        name="VaultApiProbeFailing",
        expr=f"probe_success{{{BLACKBOX}}} == 0",
        for_="5m",
        severity=Severity.WARNING,
        summary="Probing Vault's API listener fails",
        description=(
            "Alloy's blackbox probe of Vault's API (from node {{ $labels.instance }}) has failed for 5 "
            "minutes: the Service has no ready Vault pod, the TLS handshake fails (expired certificate, "
            "wrong CA, name mismatch) or the health endpoint answers an error. While it fails the "
            "certificate-expiry alerts are blind."
        ),
        scenarios=_gauge_scenarios(
            series=lambda values: (_series("probe_success", _PROBE_LABELS, values),),
            healthy="1",
            failing="0",
            for_minutes=5,
            firing=(_PROBE_LABELS,),
        ),
    )


# ------------------------------------------------------------------------------------ Disk and clock

NODE_JOB: Final = 'job="node"'


def _filesystem_rule(
    *,
    name: str,
    percent: float,
    severity: Severity,
    for_: str,
    mountpoint_matcher: str,
    mountpoint: str,
    device: str,
    what: str,
    t: AlertThresholds,
) -> AlertRule:
    selector = f'{NODE_JOB}, fstype!~"{t.ignored_fstypes_regex}", {mountpoint_matcher}'
    expr = (
        f"(node_filesystem_avail_bytes{{{selector}}} / node_filesystem_size_bytes{{{selector}}} * 100"
        f" < {_num(percent)})\n"
        f"and node_filesystem_readonly{{{selector}}} == 0"
    )
    labels = {"job": "node", "instance": NODE, "device": device, "fstype": "ext4", "mountpoint": mountpoint}
    size = 100 * 2**30
    healthy = size // 2
    low = int(size * (percent / 2) / 100)

    def series(avail: str) -> tuple[InputSeries, ...]:
        return (
            _series("node_filesystem_avail_bytes", labels, avail),
            _series("node_filesystem_size_bytes", labels, f"{size}x45"),
            _series("node_filesystem_readonly", labels, "0x45"),
        )

    return AlertRule(
        name=name,
        expr=expr,
        for_=for_,
        severity=severity,
        summary=f"{what} {{{{ $labels.mountpoint }}}} on {{{{ $labels.instance }}}} has less than "
        f"{_num(percent)}% free",
        description=(
            f"{what} {{{{ $labels.mountpoint }}}} ({{{{ $labels.device }}}}) on node {{{{ $labels.instance "
            "}}}} "
            f"has had less than {_num(percent)}% free space for {for_} (node_filesystem_avail_bytes from "
            "Alloy's unix exporter). A full filesystem stops Vault's raft storage, Prometheus and Loki."
        ),
        scenarios=_gauge_scenarios(
            series=series,
            healthy=str(healthy),
            failing=str(low),
            for_minutes=_minutes(for_),
            firing=(labels,),
        ),
    )


def node_filesystem_space_low(t: AlertThresholds) -> AlertRule:
    return _filesystem_rule(
        name="NodeFilesystemSpaceLow",
        percent=t.disk_free_warning_percent,
        severity=Severity.WARNING,
        for_="15m",
        mountpoint_matcher=f'mountpoint!~"{t.kubelet_volume_mountpoint_regex}"',
        mountpoint="/",
        device="/dev/sda1",
        what="Filesystem",
        t=t,
    )


def node_filesystem_space_critical(t: AlertThresholds) -> AlertRule:
    return _filesystem_rule(
        name="NodeFilesystemSpaceCritical",
        percent=t.disk_free_critical_percent,
        severity=Severity.CRITICAL,
        for_="5m",
        mountpoint_matcher=f'mountpoint!~"{t.kubelet_volume_mountpoint_regex}"',
        mountpoint="/",
        device="/dev/sda1",
        what="Filesystem",
        t=t,
    )


_VOLUME_MOUNT: Final = "/var/lib/kubelet/pods/0f5b3c1e/volumes/kubernetes.io~csi/pvc-1234/mount"


def persistent_volume_filling_up(t: AlertThresholds) -> AlertRule:
    return _filesystem_rule(
        name="PersistentVolumeFillingUp",
        percent=t.volume_free_warning_percent,
        severity=Severity.WARNING,
        for_="15m",
        mountpoint_matcher=f'mountpoint=~"{t.kubelet_volume_mountpoint_regex}"',
        mountpoint=_VOLUME_MOUNT,
        device="/dev/sdb",
        what="Volume",
        t=t,
    )


def persistent_volume_almost_full(t: AlertThresholds) -> AlertRule:
    return _filesystem_rule(
        name="PersistentVolumeAlmostFull",
        percent=t.volume_free_critical_percent,
        severity=Severity.CRITICAL,
        for_="5m",
        mountpoint_matcher=f'mountpoint=~"{t.kubelet_volume_mountpoint_regex}"',
        mountpoint=_VOLUME_MOUNT,
        device="/dev/sdb",
        what="Volume",
        t=t,
    )


def prometheus_storage_near_retention_size(t: AlertThresholds) -> AlertRule:
    pct = t.prometheus_retention_used_percent
    labels = {"job": "prometheus", "instance": "prometheus.vault-aio.svc:9090"}
    limit = 10 * 2**30
    wal = int(limit * 0.02)
    blocks_full = int(limit * (pct + (100 - pct) / 2) / 100)

    def series(blocks: str) -> tuple[InputSeries, ...]:
        return (
            _series("prometheus_tsdb_storage_blocks_bytes", labels, blocks),
            _series("prometheus_tsdb_wal_storage_size_bytes", labels, f"{wal}x45"),
            _series("prometheus_tsdb_retention_limit_bytes", labels, f"{limit}x45"),
        )

    m = "prometheus_tsdb"
    return AlertRule(
        name="PrometheusStorageNearRetentionSize",
        expr=(
            f'({m}_storage_blocks_bytes{{job="prometheus"}} + '
            f'{m}_wal_storage_size_bytes{{job="prometheus"}})\n'
            f'/ ({m}_retention_limit_bytes{{job="prometheus"}} > 0) * 100 > {_num(pct)}'
        ),
        for_="30m",
        severity=Severity.WARNING,
        summary="Prometheus storage uses more than {p}% of its retention size".replace("{p}", _num(pct)),
        description=(
            f"Prometheus' TSDB (blocks and WAL) has used more than {_num(pct)}% of its configured retention "
            "size for 30 minutes: the oldest data is now deleted by size before the retention time. If the "
            "volume is smaller than the retention size plus WAL headroom, it will fill up."
        ),
        scenarios=_gauge_scenarios(
            series=series,
            healthy=str(limit // 4),
            failing=str(blocks_full),
            for_minutes=30,
            firing=(labels,),
        ),
    )


def node_clock_not_synchronising(t: AlertThresholds) -> AlertRule:
    labels = {"job": "node", "instance": NODE}
    return AlertRule(
        name="NodeClockNotSynchronising",
        expr=(
            f"min_over_time(node_timex_sync_status{{{NODE_JOB}}}[5m]) == 0\n"
            f"and node_timex_maxerror_seconds{{{NODE_JOB}}} >= 16"
        ),
        for_="10m",
        severity=Severity.WARNING,
        summary="Clock of node {{ $labels.instance }} is not synchronised",
        description=(
            "The kernel of node {{ $labels.instance }} reports its clock unsynchronised for 10 minutes "
            "(node_timex_sync_status = 0, node_timex_maxerror_seconds at its 16 s ceiling). Check Chrony: "
            "Vault tokens, certificates, raft and the audit trail depend on correct time."
        ),
        scenarios=(
            Scenario(
                description="synchronisation is lost at 6m",
                series=(
                    _series("node_timex_sync_status", labels, "1x5 0x30"),
                    _series("node_timex_maxerror_seconds", labels, "0.01x5 16x30"),
                ),
                checks=(Check(at="15m"), Check(at="16m", firing=(labels,))),
            ),
            Scenario(
                description="synchronised: quiet",
                series=(
                    _series("node_timex_sync_status", labels, "1x30"),
                    _series("node_timex_maxerror_seconds", labels, "0.01x30"),
                ),
                checks=(Check(at="20m"),),
            ),
        ),
    )


def node_clock_skew_detected(t: AlertThresholds) -> AlertRule:
    s = t.clock_offset_seconds
    labels = {"job": "node", "instance": NODE}
    return AlertRule(
        name="NodeClockSkewDetected",
        expr=f"abs(node_timex_offset_seconds{{{NODE_JOB}}}) > {_num(s)}",
        for_="10m",
        severity=Severity.WARNING,
        summary="Clock of node {{ $labels.instance }} is off by more than {s}s".replace("{s}", _num(s)),
        description=(
            f"The kernel of node {{{{ $labels.instance }}}} reports a clock offset above {_num(s)} s for 10 "
            "minutes (node_timex_offset_seconds). Chrony is not correcting the clock fast enough or cannot "
            "reach its servers."
        ),
        scenarios=_gauge_scenarios(
            series=lambda values: (_series("node_timex_offset_seconds", labels, values),),
            healthy=_num(s / 10),
            failing=_num(-s * 4),
            for_minutes=10,
            firing=(labels,),
        ),
    )


# ---------------------------------------------------------------------------- The stack watching itself


def prometheus_rule_evaluation_failures(t: AlertThresholds) -> AlertRule:
    labels = {
        "job": "prometheus",
        "instance": "prometheus.vault-aio.svc:9090",
        "rule_group": "/etc/rules;vault",
    }
    return AlertRule(
        name="PrometheusRuleEvaluationFailures",
        expr='increase(prometheus_rule_evaluation_failures_total{job="prometheus"}[5m]) > 0',
        for_="5m",
        severity=Severity.CRITICAL,
        summary="Prometheus fails to evaluate rule group {{ $labels.rule_group }}",
        description=(
            "Prometheus has failed to evaluate rules of group {{ $labels.rule_group }} for 5 minutes "
            "(prometheus_rule_evaluation_failures_total). Alerts of that group, Vault's included, cannot "
            "fire."
        ),
        scenarios=(
            Scenario(
                description="evaluations start failing at 11m",
                series=(_series("prometheus_rule_evaluation_failures_total", labels, "0x10 1+1x20"),),
                checks=(Check(at="15m"), Check(at="16m", firing=(labels,))),
            ),
            Scenario(
                description="no failures: quiet",
                series=(_series("prometheus_rule_evaluation_failures_total", labels, "0x30"),),
                checks=(Check(at="20m"),),
            ),
        ),
    )


def prometheus_notification_errors(t: AlertThresholds) -> AlertRule:
    labels = {
        "job": "prometheus",
        "instance": "prometheus.vault-aio.svc:9090",
        "alertmanager": "http://alertmanager.vault-aio.svc:9093/api/v2/alerts",
    }
    return AlertRule(
        name="PrometheusNotificationErrors",
        expr='rate(prometheus_notifications_errors_total{job="prometheus"}[5m]) > 0',
        for_="10m",
        severity=Severity.CRITICAL,
        summary="Prometheus cannot deliver alerts to Alertmanager",
        description=(
            "Prometheus has failed to send alerts to {{ $labels.alertmanager }} for 10 minutes "
            "(prometheus_notifications_errors_total). Firing alerts reach nobody; this one is visible only "
            "in "
            "Prometheus' and Grafana's alert views."
        ),
        scenarios=(
            Scenario(
                description="sending fails from 11m",
                series=(_series("prometheus_notifications_errors_total", labels, "0x10 1+1x20"),),
                checks=(Check(at="20m"), Check(at="21m", firing=(labels,))),
            ),
            Scenario(
                description="no errors: quiet",
                series=(_series("prometheus_notifications_errors_total", labels, "0x30"),),
                checks=(Check(at="25m"),),
            ),
        ),
    )


def alertmanager_notifications_failing(t: AlertThresholds) -> AlertRule:
    am = {"job": "alertmanager", "instance": "alertmanager.vault-aio.svc:9093", "integration": "slack"}
    failed = {**am, "reason": "clientError"}
    m = "alertmanager_notifications"
    return AlertRule(
        name="AlertmanagerNotificationsFailing",
        expr=(
            f'sum by (integration) (rate({m}_failed_total{{job="alertmanager"}}[5m]))\n'
            f'/ sum by (integration) (rate({m}_total{{job="alertmanager"}}[5m])) > 0.01'
        ),
        for_="5m",
        severity=Severity.CRITICAL,
        summary="Alertmanager fails to deliver notifications to {{ $labels.integration }}",
        description=(
            "More than 1% of Alertmanager's notifications to the {{ $labels.integration }} integration "
            "failed "
            "over 5 minutes (alertmanager_notifications_failed_total): wrong credentials in the receiver's "
            "Secret, a blocked egress rule or an outage at the receiver. Alerts routed there are lost."
        ),
        scenarios=(
            Scenario(
                description="half the notifications fail from 11m",
                series=(
                    _series(f"{m}_total", am, "0+10x40"),
                    _series(f"{m}_failed_total", failed, "0x10 5+5x30"),
                ),
                checks=(Check(at="15m"), Check(at="17m", firing=({"integration": "slack"},))),
            ),
            Scenario(
                description="every notification delivered: quiet",
                series=(_series(f"{m}_total", am, "0+10x40"), _series(f"{m}_failed_total", failed, "0x40")),
                checks=(Check(at="20m"),),
            ),
        ),
    )


def prometheus_remote_write_behind(t: AlertThresholds) -> AlertRule:
    queue = {
        "job": "prometheus",
        "instance": "prometheus.vault-aio.svc:9090",
        "remote_name": "mimir",
        "url": "https://mimir.example.com/api/v1/push",
    }
    m = "prometheus_remote_storage_queue_highest"
    return AlertRule(
        name="PrometheusRemoteWriteBehind",
        expr=(
            f'max_over_time({m}_timestamp_seconds{{job="prometheus"}}[5m])\n'
            f'- max_over_time({m}_sent_timestamp_seconds{{job="prometheus"}}[5m]) > 120'
        ),
        for_="15m",
        severity=Severity.CRITICAL,
        summary="Prometheus' remote write to {{ $labels.remote_name }} falls behind",
        description=(
            "The newest sample {{ $labels.instance }} has sent to {{ $labels.url }} is more than 2 minutes "
            "older than the newest it has queued, for 15 minutes "
            "(prometheus_remote_storage_queue_highest_sent_timestamp_seconds). Prometheus retries: the "
            "store answers 5xx or 429 (rate limits), or cannot be reached (egress policy, outage, DNS); "
            "samples older than the WAL (about 2 hours) are lost to it. Refused writes (401, 403, 400) are "
            "not retried and do not show here: see PrometheusRemoteWriteFailing."
        ),
        scenarios=(
            Scenario(
                description="sending stops at 10m while samples keep being queued",
                series=(
                    _series(f"{m}_timestamp_seconds", queue, "1000+60x40"),
                    _series(f"{m}_sent_timestamp_seconds", queue, "995+60x10 1595x30"),
                ),
                # 125 s behind at 12m (65 s at 11m), so the alert fires 15m later, at 27m
                checks=(Check(at="26m"), Check(at="28m", firing=(queue,))),
            ),
            Scenario(
                description="sends keep up, a few seconds behind: quiet",
                series=(
                    _series(f"{m}_timestamp_seconds", queue, "1000+60x40"),
                    _series(f"{m}_sent_timestamp_seconds", queue, "995+60x40"),
                ),
                checks=(Check(at="30m"),),
            ),
        ),
    )


def prometheus_remote_write_failing(t: AlertThresholds) -> AlertRule:
    queue = {
        "job": "prometheus",
        "instance": "prometheus.vault-aio.svc:9090",
        "remote_name": "mimir",
        "url": "https://mimir.example.com/api/v1/push",
    }
    failed = 'rate(prometheus_remote_storage_samples_failed_total{job="prometheus"}[5m])'
    sent = 'rate(prometheus_remote_storage_samples_total{job="prometheus"}[5m])'
    return AlertRule(
        name="PrometheusRemoteWriteFailing",
        expr=f"{failed}\n/ ({failed} + {sent}) > 0.01",
        for_="15m",
        severity=Severity.CRITICAL,
        summary="Prometheus' remote write to {{ $labels.remote_name }} loses samples",
        description=(
            "More than 1% of the samples {{ $labels.instance }} sends to {{ $labels.url }} have failed for "
            "15 minutes (prometheus_remote_storage_samples_failed_total): the store refuses them with an "
            "error Prometheus does not retry (401/403: credentials; 400: out of order or too old; 413: too "
            "large). Those samples are dropped, never sent again."
        ),
        scenarios=(
            Scenario(
                description="every write refused from 11m",
                series=(
                    _series("prometheus_remote_storage_samples_total", queue, "0+600x40"),
                    _series("prometheus_remote_storage_samples_failed_total", queue, "0x10 600+600x30"),
                ),
                # the 5m rate of failures is above 1% from 11m: fires 15m later
                checks=(Check(at="25m"), Check(at="27m", firing=(queue,))),
            ),
            Scenario(
                description="a few refused samples, under 1%: quiet",
                series=(
                    _series("prometheus_remote_storage_samples_total", queue, "0+6000x40"),
                    _series("prometheus_remote_storage_samples_failed_total", queue, "0+30x40"),
                ),
                checks=(Check(at="30m"),),
            ),
        ),
    )


def alertmanager_cluster_members_inconsistent(t: AlertThresholds) -> AlertRule:
    pods = [{"job": "alertmanager", "instance": f"10.42.0.{21 + i}:9093"} for i in range(3)]
    m = 'alertmanager_cluster_members{job="alertmanager"}'
    return AlertRule(
        name="AlertmanagerClusterMembersInconsistent",
        # the right side counts the replicas scraped now: a replaced pod's old series (a new pod IP) is
        # marked stale at once instead of counting for five more minutes
        expr=f"max_over_time({m}[5m])\n< on (job) group_left () count by (job) ({m})",
        for_="15m",
        severity=Severity.WARNING,
        summary="Alertmanager {{ $labels.instance }} sees fewer cluster members than are running",
        description=(
            "Alertmanager {{ $labels.instance }} has seen fewer gossip members than the replicas Prometheus "
            "scrapes for 15 minutes (alertmanager_cluster_members). Silences and the "
            "notification log no longer reach it: a silence set elsewhere does not hold there, and it may "
            "notify again what another replica already sent. (A single Alertmanager runs without gossip and "
            "has no such series.)"
        ),
        scenarios=(
            Scenario(
                description="the third replica loses its peers at 10m",
                series=(
                    _series("alertmanager_cluster_members", pods[0], "3x40"),
                    _series("alertmanager_cluster_members", pods[1], "3x40"),
                    _series("alertmanager_cluster_members", pods[2], "3x10 1x30"),
                ),
                # the 5m max drops below 3 at 15m; fires 15m later
                checks=(Check(at="29m"), Check(at="31m", firing=(pods[2],))),
            ),
            Scenario(
                description="every replica sees the other two: quiet",
                series=tuple(_series("alertmanager_cluster_members", pod, "3x40") for pod in pods),
                checks=(Check(at="30m"),),
            ),
        ),
    )


def config_reload_failed(t: AlertThresholds) -> AlertRule:
    prom = {"job": "prometheus", "instance": "prometheus.vault-aio.svc:9090"}
    alloy = {"job": "alloy", "instance": NODE}
    return AlertRule(
        name="MonitoringConfigReloadFailed",
        expr=(
            'prometheus_config_last_reload_successful{job="prometheus"} == 0\n'
            'or alertmanager_config_last_reload_successful{job="alertmanager"} == 0\n'
            'or alloy_config_last_load_successful{job="alloy"} == 0'
        ),
        for_="10m",
        severity=Severity.WARNING,
        summary="{{ $labels.job }} on {{ $labels.instance }} runs a stale configuration",
        description=(
            "The last configuration reload of {{ $labels.job }} ({{ $labels.instance }}) failed 10 minutes "
            "ago "
            "or more; it keeps running the previous configuration, so recent changes to rules, receivers or "
            "scrape targets are not in effect."
        ),
        scenarios=(
            Scenario(
                description="Prometheus fails to reload at 6m; Alloy is fine",
                series=(
                    _series("prometheus_config_last_reload_successful", prom, "1x5 0x30"),
                    _series("alloy_config_last_load_successful", alloy, "1x35"),
                ),
                checks=(Check(at="15m"), Check(at="16m", firing=(prom,))),
            ),
            Scenario(
                description="Alloy fails to load its configuration at 6m",
                series=(_series("alloy_config_last_load_successful", alloy, "1x5 0x30"),),
                checks=(Check(at="15m"), Check(at="16m", firing=(alloy,))),
            ),
            Scenario(
                description="all reloads succeed: quiet",
                series=(
                    _series("prometheus_config_last_reload_successful", prom, "1x30"),
                    _series(
                        "alertmanager_config_last_reload_successful",
                        {"job": "alertmanager", "instance": "alertmanager.vault-aio.svc:9093"},
                        "1x30",
                    ),
                ),
                checks=(Check(at="20m"),),
            ),
        ),
    )


def target_down(t: AlertThresholds) -> AlertRule:
    loki = {"job": "loki", "instance": "loki.vault-aio.svc:3100"}
    wait = _minutes(t.target_down_for)
    return AlertRule(
        name="TargetDown",
        expr='up{job!="vault"} == 0',
        for_=t.target_down_for,
        severity=Severity.WARNING,
        summary="{{ $labels.job }} target {{ $labels.instance }} is down",
        description=(
            f"Scraping {{{{ $labels.job }}}} at {{{{ $labels.instance }}}} has failed for "
            f"{t.target_down_for}: the "
            "component is down or unreachable, and alerts based on its metrics cannot fire. (Vault has its "
            "own alert, VaultSealed.)"
        ),
        scenarios=(
            Scenario(
                description="Loki stops answering at 6m; a down Vault pod is left to VaultSealed",
                series=(
                    _series("up", loki, "1x5 0x30"),
                    _vault("up", VAULT_0, "1x5 0x30"),
                ),
                checks=(Check(at=f"{5 + wait}m"), Check(at=f"{6 + wait}m", firing=(loki,))),
            ),
            Scenario(
                description="every target up: quiet",
                series=(_series("up", loki, "1x30"),),
                checks=(Check(at="20m"),),
            ),
        ),
    )


def alloy_metrics_absent(t: AlertThresholds) -> AlertRule:
    alloy = {"job": "alloy", "instance": NODE}
    return AlertRule(
        name="AlloyMetricsAbsent",
        expr='absent(up{job="alloy"})',
        for_="10m",
        severity=Severity.WARNING,
        summary="No metrics arrive from Grafana Alloy",
        description=(
            "Prometheus has received no sample of Alloy's own metrics by remote write for 10 minutes. Node, "
            "clock, disk and certificate metrics come through Alloy, so the alerts on them are blind; pod "
            "and "
            "audit logs probably do not reach Loki either."
        ),
        scenarios=(
            Scenario(
                description="Alloy stops sending at 6m",
                series=(_series("up", alloy, "1x5"),),
                checks=(Check(at="15m"), Check(at="21m", firing=({"job": "alloy"},))),
            ),
            Scenario(
                description="Alloy sending: quiet",
                series=(_series("up", alloy, "1x30"),),
                checks=(Check(at="25m"),),
            ),
        ),
    )


def alloy_log_entries_dropped(t: AlertThresholds) -> AlertRule:
    alloy = {"job": "alloy", "instance": NODE}
    return AlertRule(
        name="AlloyLogEntriesDropped",
        expr='sum by (instance) (rate(loki_write_dropped_entries_total{job="alloy"}[5m])) > 0',
        for_="15m",
        severity=Severity.WARNING,
        summary="Alloy on {{ $labels.instance }} drops log lines",
        description=(
            "Alloy on node {{ $labels.instance }} has dropped log entries for 15 minutes "
            "(loki_write_dropped_entries_total): Loki refuses or cannot take them. Dropped lines may include "
            "Vault audit entries, so the audit trail in Loki has gaps."
        ),
        scenarios=(
            Scenario(
                description="drops start at 11m",
                series=(_series("loki_write_dropped_entries_total", alloy, "0x10 5+5x30"),),
                checks=(Check(at="25m"), Check(at="27m", firing=({"instance": NODE},))),
            ),
            Scenario(
                description="no drops: quiet",
                series=(_series("loki_write_dropped_entries_total", alloy, "0x40"),),
                checks=(Check(at="30m"),),
            ),
        ),
    )


@dataclass(frozen=True, kw_only=True)
class RuleGroup:
    """A named group of rules evaluated together."""

    name: str
    rules: tuple[AlertRule, ...]


VAULT_RULE_FACTORIES: Final[tuple[Callable[[AlertThresholds], AlertRule], ...]] = (
    vault_sealed,
    vault_no_active_node,
    vault_leadership_flapping,
    vault_autopilot_unhealthy,
    vault_raft_leader_contact_slow,
    vault_high_request_latency,
    vault_audit_device_failing,
    vault_high_token_creation_rate,
    vault_auth_failures_spike,
    vault_lease_count_high,
    vault_tls_certificate_expiring_soon,
    vault_tls_certificate_expiry_critical,
    vault_api_probe_failing,
)

STACK_RULE_FACTORIES: Final[tuple[Callable[[AlertThresholds], AlertRule], ...]] = (
    node_filesystem_space_low,
    node_filesystem_space_critical,
    persistent_volume_filling_up,
    persistent_volume_almost_full,
    prometheus_storage_near_retention_size,
    node_clock_not_synchronising,
    node_clock_skew_detected,
    prometheus_rule_evaluation_failures,
    prometheus_notification_errors,
    alertmanager_notifications_failing,
    alertmanager_cluster_members_inconsistent,
    prometheus_remote_write_behind,
    prometheus_remote_write_failing,
    config_reload_failed,
    target_down,
    alloy_metrics_absent,
    alloy_log_entries_dropped,
)


def prometheus_rule_groups(thresholds: AlertThresholds | None = None) -> tuple[RuleGroup, ...]:
    """The Prometheus alert rule groups: ``vault`` and ``vault-aio-stack``."""
    t = thresholds or AlertThresholds()
    groups = (
        RuleGroup(name=VAULT_GROUP, rules=tuple(factory(t) for factory in VAULT_RULE_FACTORIES)),
        RuleGroup(name=STACK_GROUP, rules=tuple(factory(t) for factory in STACK_RULE_FACTORIES)),
    )
    names = [rule.name for group in groups for rule in group.rules]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"alert names must be unique, got duplicates {duplicates}")
    return groups
