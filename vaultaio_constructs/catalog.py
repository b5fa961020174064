"""The metric catalogue: every metric name this stack exports, keyed by the ``job`` label it arrives under.

Alert rules and dashboards may use only names listed here; tests cross-check every PromQL expression the
library renders against this module, so a renamed or invented metric fails the build instead of an alert
silently never firing. Add names by targeted edits, each with the source that documents it for the pinned
version (``vaultaio_constructs/versions.py``).

Conventions:

* Vault runs with ``telemetry { disable_hostname = true }``, so names have no host prefix. Vault counters
  carry no ``_total`` suffix and summaries expose ``{quantile=...}`` plus ``_sum`` / ``_count``
  (hashicorp/go-metrics Prometheus sink).
* Histograms and summaries list their series names explicitly (``_bucket``, ``_sum``, ``_count``); the base
  name of a summary is listed too because its quantile series carry it.
* ``up``, ``scrape_duration_seconds`` and ``scrape_samples_scraped`` are synthesised by whichever scraper
  collected the job: Prometheus for ``vault`` and the single-replica components, Grafana Alloy's
  ``prometheus.scrape`` (the same Prometheus scrape library) for ``node``, ``alloy`` and ``blackbox``, whose
  samples then arrive by remote write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


def _summary(name: str) -> frozenset[str]:
    """Series of a summary: the quantile series (base name), ``_sum`` and ``_count``."""
    return frozenset({name, f"{name}_sum", f"{name}_count"})


def _histogram(name: str) -> frozenset[str]:
    """Series of a classic histogram: ``_bucket``, ``_sum`` and ``_count``."""
    return frozenset({f"{name}_bucket", f"{name}_sum", f"{name}_count"})


#: Series every scrape job produces (Prometheus scrape loop, also used by Alloy's ``prometheus.scrape``).
SCRAPE_SERIES: Final = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})

#: Vault 2.0.4 with ``disable_hostname = true``. Source: Vault telemetry reference, "All Vault telemetry
#: metrics" (web-unified-docs ``content/vault/v2.x/content/docs/internals/telemetry/metrics/all.mdx`` and the
#: ``website/content/partials/telemetry-metrics/vault/**`` partials it includes); metric types from those
#: partials (token.creation counter; core.handle_request, core.handle_login_request and
#: raft.leader.lastContact and core.leadership_lost summaries in ms; core.response_status_code counter
#: with ``code`` and ``type`` labels, since 1.20; audit.log_*_failure counters; expire.num_leases and
#: autopilot.healthy gauges).
_VAULT: Final = (
    frozenset(
        {
            # core state
            "vault_core_unsealed",
            "vault_core_active",
            "vault_core_performance_standby",
            "vault_core_in_flight_requests",
            "vault_core_locked_users",
            "vault_core_mount_table_num_entries",
            "vault_core_mount_table_size",
            "vault_core_response_status_code",
            # audit
            "vault_audit_log_request_failure",
            "vault_audit_log_response_failure",
            "vault_audit_sink_success",
            "vault_audit_sink_failure",
            "vault_audit_fallback_success",
            "vault_audit_fallback_miss",
            # autopilot / raft
            "vault_autopilot_healthy",
            "vault_autopilot_failure_tolerance",
            "vault_autopilot_node_healthy",
            "vault_raft_peers",
            "vault_raft_state_candidate",
            "vault_raft_state_follower",
            "vault_raft_state_leader",
            "vault_raft_transition_heartbeat_timeout",
            "vault_raft_transition_leader_lease_timeout",
            "vault_raft_storage_follower_applied_index_delta",
            "vault_raft_storage_follower_last_heartbeat_ms",
            "vault_raft_storage_stats_applied_index",
            "vault_raft_storage_stats_commit_index",
            "vault_raft_storage_stats_fsm_pending",
            # leases and tokens
            "vault_expire_num_leases",
            "vault_expire_num_irrevocable_leases",
            "vault_expire_leases_by_expiration",
            "vault_expire_lease_expiration",
            "vault_expire_lease_expiration_error",
            "vault_secret_lease_creation",
            "vault_token_creation",
            "vault_token_count",
            "vault_token_count_by_auth",
            "vault_token_count_by_policy",
            "vault_token_count_by_ttl",
            "vault_identity_num_entities",
            "vault_secret_kv_count",
            # Go runtime
            "vault_runtime_alloc_bytes",
            "vault_runtime_sys_bytes",
            "vault_runtime_num_goroutines",
            "vault_runtime_heap_objects",
        }
    )
    | _summary("vault_core_handle_request")
    | _summary("vault_core_leadership_lost")
    | _summary("vault_core_handle_login_request")
    | _summary("vault_core_check_token")
    | _summary("vault_core_fetch_acl_and_token")
    | _summary("vault_raft_leader_lastContact")
    | _summary("vault_raft_commitTime")
    | _summary("vault_raft_apply")
    | _summary("vault_token_create")
    | _summary("vault_token_store")
    | _summary("vault_token_lookup")
    | _summary("vault_audit_log_request")
    | _summary("vault_audit_log_response")
    | _summary("vault_barrier_get")
    | _summary("vault_barrier_put")
    | _summary("vault_runtime_gc_pause_ns")
    | SCRAPE_SERIES
)

#: Grafana Alloy v1.18.1 ``prometheus.exporter.unix`` (embedded node_exporter; default Linux collectors,
#: which include cpu, diskstats, filesystem, loadavg, meminfo, netdev, stat, time, timex, uname).
#: Source: Alloy reference ``prometheus.exporter.unix`` (collectors list) and node_exporter collector docs.
#: ``node_filesystem_*`` carry ``device``, ``fstype`` and ``mountpoint``; ``instance`` is the node name.
_NODE: Final = (
    frozenset(
        {
            "node_cpu_seconds_total",
            "node_load1",
            "node_load5",
            "node_load15",
            "node_memory_MemTotal_bytes",
            "node_memory_MemFree_bytes",
            "node_memory_MemAvailable_bytes",
            "node_memory_Buffers_bytes",
            "node_memory_Cached_bytes",
            "node_memory_SwapTotal_bytes",
            "node_memory_SwapFree_bytes",
            "node_filesystem_avail_bytes",
            "node_filesystem_free_bytes",
            "node_filesystem_size_bytes",
            "node_filesystem_files",
            "node_filesystem_files_free",
            "node_filesystem_readonly",
            "node_filesystem_device_error",
            "node_disk_read_bytes_total",
            "node_disk_written_bytes_total",
            "node_disk_reads_completed_total",
            "node_disk_writes_completed_total",
            "node_disk_io_time_seconds_total",
            "node_network_receive_bytes_total",
            "node_network_transmit_bytes_total",
            "node_network_receive_errs_total",
            "node_network_transmit_errs_total",
            "node_network_receive_drop_total",
            "node_network_transmit_drop_total",
            "node_boot_time_seconds",
            "node_time_seconds",
            "node_timex_sync_status",
            "node_timex_offset_seconds",
            "node_timex_maxerror_seconds",
            "node_timex_estimated_error_seconds",
            "node_uname_info",
            "node_context_switches_total",
            "node_intr_total",
            "node_procs_running",
            "node_procs_blocked",
        }
    )
    | SCRAPE_SERIES
)

#: Grafana Alloy ``prometheus.exporter.blackbox`` (embedded blackbox_exporter, http prober) probing Vault's
#: API listener over TLS. Source: blackbox_exporter prober metrics (``prober/http.go``, ``prober/tls.go``);
#: ``probe_ssl_earliest_cert_expiry`` is the earliest ``NotAfter`` (unix seconds) in the served chain.
_BLACKBOX: Final = (
    frozenset(
        {
            "probe_success",
            "probe_duration_seconds",
            "probe_dns_lookup_time_seconds",
            "probe_ip_protocol",
            "probe_http_status_code",
            "probe_http_ssl",
            "probe_http_version",
            "probe_http_redirects",
            "probe_http_content_length",
            "probe_http_duration_seconds",
            "probe_ssl_earliest_cert_expiry",
            "probe_ssl_last_chain_expiry_timestamp_seconds",
            "probe_ssl_last_chain_info",
            "probe_tls_version_info",
        }
    )
    | SCRAPE_SERIES
)

#: Prometheus v3.14.0 self-monitoring (``/metrics``). Source: Prometheus ``rules/group.go`` and
#: ``rules/manager.go`` (rule metrics, label ``rule_group``), ``notifier`` (notification metrics),
#: ``tsdb/db.go`` (storage and retention metrics), ``config`` reload metrics,
#: ``storage/remote/queue_manager.go`` (a queue per ``remote_write`` entry: ``remote_name``, ``url``).
_PROMETHEUS: Final = (
    frozenset(
        {
            "prometheus_build_info",
            "prometheus_config_last_reload_successful",
            "prometheus_config_last_reload_success_timestamp_seconds",
            "prometheus_rule_evaluation_failures_total",
            "prometheus_rule_evaluations_total",
            "prometheus_rule_group_iterations_missed_total",
            "prometheus_rule_group_last_duration_seconds",
            "prometheus_rule_group_interval_seconds",
            "prometheus_notifications_sent_total",
            "prometheus_notifications_errors_total",
            "prometheus_notifications_dropped_total",
            "prometheus_notifications_queue_length",
            "prometheus_notifications_queue_capacity",
            "prometheus_notifications_alertmanagers_discovered",
            "prometheus_tsdb_storage_blocks_bytes",
            "prometheus_tsdb_wal_storage_size_bytes",
            "prometheus_tsdb_retention_limit_bytes",
            "prometheus_tsdb_retention_limit_seconds",
            "prometheus_tsdb_size_retentions_total",
            "prometheus_tsdb_time_retentions_total",
            "prometheus_remote_storage_samples_total",
            "prometheus_remote_storage_samples_failed_total",
            "prometheus_remote_storage_samples_dropped_total",
            "prometheus_remote_storage_samples_pending",
            "prometheus_remote_storage_queue_highest_timestamp_seconds",
            "prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
            "prometheus_tsdb_head_series",
            "prometheus_tsdb_head_samples_appended_total",
            "prometheus_tsdb_compactions_failed_total",
            "prometheus_tsdb_wal_corruptions_total",
            "prometheus_target_scrapes_exceeded_sample_limit_total",
            "prometheus_http_requests_total",
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
        }
    )
    | _histogram("prometheus_http_request_duration_seconds")
    | _summary("prometheus_rule_evaluation_duration_seconds")
    | SCRAPE_SERIES
)

#: Alertmanager v0.34.0 (``/metrics``). Source: Alertmanager ``notify/notify.go`` (notification counters with
#: label ``integration``; failures also carry ``reason``), ``dispatch``, ``config/coordinator.go`` and
#: ``cluster/delegate.go``, ``cluster/cluster.go`` (gossip; registered only when clustering is on, i.e. with
#: ``replicas`` > 1).
_ALERTMANAGER: Final = (
    frozenset(
        {
            "alertmanager_build_info",
            "alertmanager_config_last_reload_successful",
            "alertmanager_alerts",
            "alertmanager_alerts_received_total",
            "alertmanager_alerts_invalid_total",
            "alertmanager_notifications_total",
            "alertmanager_notifications_failed_total",
            "alertmanager_notification_requests_total",
            "alertmanager_notification_requests_failed_total",
            "alertmanager_silences",
            "alertmanager_cluster_members",
            "alertmanager_cluster_failed_peers",
            "alertmanager_cluster_health_score",
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
        }
    )
    | _histogram("alertmanager_notification_latency_seconds")
    | SCRAPE_SERIES
)

#: Grafana 13.2.0 (``/metrics``). Source: Grafana ``pkg/infra/metrics`` and ``pkg/middleware`` (requests).
_GRAFANA: Final = (
    frozenset(
        {
            "grafana_build_info",
            "grafana_stat_totals_dashboard",
            "grafana_http_request_in_flight",
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
        }
    )
    | _histogram("grafana_http_request_duration_seconds")
    | SCRAPE_SERIES
)

#: Loki 3.7.6 single binary (``/metrics``). Source: Loki ``pkg/distributor``, ``pkg/ingester`` and
#: ``pkg/util/server`` request metrics.
_LOKI: Final = (
    frozenset(
        {
            "loki_build_info",
            "loki_distributor_lines_received_total",
            "loki_distributor_bytes_received_total",
            "loki_ingester_memory_streams",
            "loki_ingester_chunks_flushed_total",
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
        }
    )
    | _histogram("loki_request_duration_seconds")
    | SCRAPE_SERIES
)

#: Tempo 2.10.8 single binary (``/metrics``). Source: Tempo ``modules/distributor`` and ``modules/ingester``.
_TEMPO: Final = (
    frozenset(
        {
            "tempo_build_info",
            "tempo_distributor_spans_received_total",
            "tempo_ingester_live_traces",
            # spans refused (label ``reason``): Tempo docs "Distributor refusing spans" (troubleshooting,
            # alias max-trace-limit-reached) and grafana/tempo CHANGELOG (PR #1420); present since Tempo 1.x
            "tempo_discarded_spans_total",
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
        }
    )
    | _histogram("tempo_request_duration_seconds")
    | SCRAPE_SERIES
)

#: Grafana Alloy v1.18.1 ``prometheus.exporter.self`` (Alloy's own ``/metrics``, including the
#: ``prometheus.remote_write`` and ``loki.write`` component metrics). Source: Alloy ``/metrics`` exposition
#: (``alloy_config_*``, ``alloy_component_controller_*``), Prometheus remote-write queue manager metrics.
_ALLOY: Final = (
    frozenset(
        {
            "alloy_build_info",
            "alloy_config_last_load_successful",
            "alloy_config_load_failures_total",
            "alloy_config_hash",
            "alloy_component_controller_running_components",
            "prometheus_remote_storage_samples_total",
            "prometheus_remote_storage_samples_failed_total",
            "prometheus_remote_storage_samples_pending",
            "loki_write_sent_entries_total",
            "loki_write_dropped_entries_total",
            # OTLP receiver / exporter pipeline counters of ``otelcol.*`` components (labels ``receiver`` /
            # ``exporter``, ``transport``); source: grafana/alloy
            # ``operations/alloy-mixin/alerts/opentelemetry.libsonnet`` (OtelcolReceiverRefusedSpans,
            # OtelcolExporterFailedSpans alerts).
            "otelcol_receiver_accepted_spans_total",
            "otelcol_receiver_refused_spans_total",
            "otelcol_exporter_sent_spans_total",
            "otelcol_exporter_send_failed_spans_total",
        }
    )
    | _histogram("alloy_component_evaluation_seconds")
    | SCRAPE_SERIES
)

#: job label -> metric names exported under it.
KNOWN_METRICS: Final[dict[str, frozenset[str]]] = {
    "vault": _VAULT,
    "node": _NODE,
    "blackbox": _BLACKBOX,
    "prometheus": _PROMETHEUS,
    "alertmanager": _ALERTMANAGER,
    "grafana": _GRAFANA,
    "loki": _LOKI,
    "tempo": _TEMPO,
    "alloy": _ALLOY,
}

#: Every metric name any job exports.
ALL_METRICS: Final = frozenset().union(*KNOWN_METRICS.values())


def jobs_exporting(metric: str) -> frozenset[str]:
    """The jobs whose scrape yields ``metric`` (empty when no component of the stack exports it)."""
    return frozenset(job for job, names in KNOWN_METRICS.items() if metric in names)


# ------------------------------------------------------------------------------ PromQL cross-checking

_PROMQL_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_PROMQL_RANGE = re.compile(r"\[[^\]]*\]")
_PROMQL_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_PROMQL_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_PROMQL_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}")
_PROMQL_JOB = re.compile(r'\bjob\s*=\s*"([^"]*)"')
_PROMQL_KEYWORDS: Final = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right"}
)
_PROMQL_AGGREGATIONS: Final = frozenset(
    {"sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values"}
)


@dataclass(frozen=True)
class MetricUse:
    """One metric name used by a PromQL expression, with the ``job`` its selector pins (if any)."""

    metric: str
    job: str | None


def metrics_in_promql(expr: str) -> tuple[MetricUse, ...]:
    """Every metric name a PromQL expression selects, in order of appearance.

    A small scanner, not a parser: it removes strings, label matchers, range selectors and grouping
    clauses, then treats identifiers not followed by ``(`` (functions) and not keywords as metric names.
    ``job`` is read from an equality matcher ``job="..."`` in the metric's own selector.
    """
    jobs: dict[int, str | None] = {}
    masked = expr
    # Record each selector's job matcher keyed by the position of its metric name, then blank the braces.
    for match in _PROMQL_SELECTOR.finditer(expr):
        job = _PROMQL_JOB.search(match.group(2))
        jobs[match.start()] = job.group(1) if job else None
        start, end = match.start(2) - 1, match.end(2) + 1
        masked = masked[:start] + " " * (end - start) + masked[end:]
    masked = _PROMQL_STRING.sub(lambda m: " " * len(m.group(0)), masked)
    masked = _PROMQL_RANGE.sub(lambda m: " " * len(m.group(0)), masked)
    masked = _PROMQL_GROUPING.sub(lambda m: " " * len(m.group(0)), masked)
    uses: list[MetricUse] = []
    for match in _PROMQL_IDENT.finditer(masked):
        name = match.group(0)
        following = masked[match.end() :].lstrip()
        if name in _PROMQL_KEYWORDS or following.startswith("("):
            continue
        if name in _PROMQL_AGGREGATIONS and following.startswith(("by", "without")):
            continue
        uses.append(MetricUse(metric=name, job=jobs.get(match.start())))
    return tuple(uses)


def unknown_metrics(expr: str) -> tuple[str, ...]:
    """Metrics an expression uses that the catalogue does not list (for its ``job`` when it pins one)."""
    problems = []
    for use in metrics_in_promql(expr):
        known = KNOWN_METRICS.get(use.job, frozenset()) if use.job is not None else ALL_METRICS
        if use.metric not in known:
            where = f" for job {use.job!r}" if use.job is not None else ""
            problems.append(f"{use.metric}{where}")
    return tuple(problems)
