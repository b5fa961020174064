"""Vault Overview: seal and HA state, requests, tokens, secret engines, leases, raft storage and audit health.

Metric sources (see ``vaultaio_constructs/catalog.py``): Vault's own telemetry under ``job="vault"``
(every pod, sealed and standby included, ``disable_hostname = true``), the TLS probe under
``job="blackbox"``, and the Vault audit log in Loki for per-engine operations (Vault has no per-engine
counter with a fixed name: the ``vault_route_*`` summaries embed the mount path in the metric name).

Vault counters have no ``_total`` suffix, and its summaries carry quantiles for the last 10 s only, so
latencies are averages from ``rate(x_sum) / rate(x_count)``. Gauges that only the active node emits (token,
lease and KV counts) are de-duplicated with ``max without (instance)`` because a former active node keeps
exporting its last value until ``prometheus_retention_time`` passes.
"""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as dashboard_model

from vaultaio_constructs.grafana.dashboards.common import (
    DatasourceUid,
    Row,
    Unit,
    assemble,
    logql,
    promql,
    query_variable,
    stat,
    timeseries,
)

UID = "vault-overview"
TITLE = "Vault Overview"

#: Selector fragments: every Vault query names its job; per-node panels follow the ``instance`` variable.
_VAULT = 'job="vault"'
_NODE = 'job="vault", instance=~"$instance"'
#: Audit-log stream selector for responses (one entry per request) of one secret-engine type.
_AUDIT_RESPONSES = '{log_type="vault_audit", audit_type="response", mount_type="%s"}'
_RI = "$__rate_interval"


def _avg_latency(summary: str, selector: str) -> str:
    """Average duration (ms) per node from a go-metrics summary's ``_sum`` and ``_count``."""
    return (
        f"sum by (instance) (rate({summary}_sum{{{selector}}}[{_RI}]))"
        f" / sum by (instance) (rate({summary}_count{{{selector}}}[{_RI}]))"
    )


def _health_row() -> Row:
    return Row(
        title="Health",
        panels=[
            stat(
                "Seal status",
                [promql(f"vault_core_unsealed{{{_NODE}}}", "{{instance}}", instant=True)],
                description="vault_core_unsealed per Vault pod: 1 unsealed, 0 sealed. Sealed pods still "
                "report "
                "through the unauthenticated metrics listener.",
                mappings={"0": ("Sealed", "red"), "1": ("Unsealed", "green")},
                steps=("red", ((1, "green"),)),
                width=6,
            ),
            stat(
                "Metrics scrape",
                [promql(f"up{{{_NODE}}}", "{{instance}}", instant=True)],
                description="Whether Prometheus could scrape each Vault pod. Down with no seal status means "
                "the "
                "pod is not running or not reachable.",
                mappings={"0": ("Down", "red"), "1": ("Up", "green")},
                steps=("red", ((1, "green"),)),
                width=6,
            ),
            stat(
                "Active nodes",
                [promql(f"sum(vault_core_active{{{_VAULT}}})", instant=True)],
                description="Number of pods reporting vault_core_active = 1. Exactly one is healthy; 0 means "
                "no "
                "node serves requests.",
                steps=("red", ((1, "green"), (2, "red"))),
                width=3,
            ),
            stat(
                "Standby nodes",
                [promql(f"count(vault_core_active{{{_VAULT}}} == 0) or vector(0)", instant=True)],
                description="Unsealed pods in standby (vault_core_active = 0).",
                steps=("blue", ()),
                width=3,
            ),
            stat(
                "Raft autopilot",
                [promql(f"max(vault_autopilot_healthy{{{_VAULT}}})", instant=True)],
                description="vault_autopilot_healthy from the active node: 1 when every raft server is "
                "healthy.",
                mappings={"0": ("Unhealthy", "red"), "1": ("Healthy", "green")},
                steps=("red", ((1, "green"),)),
                width=3,
            ),
            stat(
                "Audit failures",
                [
                    promql(
                        f"(sum(increase(vault_audit_log_request_failure{{{_VAULT}}}[$__range])) or vector(0))"
                        f" + (sum(increase(vault_audit_log_response_failure{{{_VAULT}}}[$__range])) or "
                        "vector(0))",
                        instant=True,
                    )
                ],
                description="Audit entries Vault failed to write in the selected time range. Vault refuses "
                "requests when no audit device can record them.",
                steps=("green", ((1, "red"),)),
                decimals=0,
                width=3,
            ),
            stat(
                "TLS certificate expires in",
                [promql('min(probe_ssl_earliest_cert_expiry{job="blackbox"}) - time()', instant=True)],
                description="Time until the earliest expiry in the certificate chain served by Vault's API "
                "listener (blackbox probe from Grafana Alloy).",
                unit=Unit.DURATION,
                steps=("red", ((7 * 86400, "orange"), (30 * 86400, "green"))),
                width=4,
            ),
            stat(
                "API health probe",
                [promql('min(probe_success{job="blackbox"})', instant=True)],
                description="Result of the blackbox probe of /v1/sys/health over TLS.",
                mappings={"0": ("Failing", "red"), "1": ("OK", "green")},
                steps=("red", ((1, "green"),)),
                width=4,
            ),
            stat(
                "Requests",
                [promql(f"sum(rate(vault_core_handle_request_count{{{_VAULT}}}[{_RI}]))", instant=True)],
                description="Non-login requests per second handled by all Vault nodes.",
                unit=Unit.REQUESTS_PER_SECOND,
                steps=("blue", ()),
                graph=True,
                width=4,
            ),
            stat(
                "Server errors",
                [
                    promql(
                        f'sum(rate(vault_core_response_status_code{{{_VAULT}, type="5xx"}}[{_RI}])) or '
                        "vector(0)",
                        instant=True,
                    )
                ],
                description="5xx responses per second (vault_core_response_status_code, type 5xx).",
                unit=Unit.REQUESTS_PER_SECOND,
                steps=("green", ((0.001, "red"),)),
                width=4,
            ),
            stat(
                "Leases",
                [promql(f"max(vault_expire_num_leases{{{_VAULT}}})", instant=True)],
                description="Leases tracked by the expiration manager (active node).",
                unit=Unit.SHORT,
                steps=("blue", ()),
                width=4,
            ),
            stat(
                "Tokens",
                [promql(f"sum(max without (instance) (vault_token_count{{{_VAULT}}}))", instant=True)],
                description="Service tokens in the token store, refreshed every usage_gauge_period (10 min).",
                unit=Unit.SHORT,
                steps=("blue", ()),
                width=4,
            ),
        ],
    )


def _requests_row() -> Row:
    return Row(
        title="Requests",
        panels=[
            timeseries(
                "Request rate by node",
                [
                    promql(
                        f"sum by (instance) (rate(vault_core_handle_request_count{{{_NODE}}}[{_RI}]))",
                        "{{instance}}",
                    )
                ],
                description="Non-login requests per second per Vault pod (vault_core_handle_request).",
                unit=Unit.REQUESTS_PER_SECOND,
                width=8,
            ),
            timeseries(
                "Responses by status class",
                [
                    promql(
                        f"sum by (type) (rate(vault_core_response_status_code{{{_NODE}}}[{_RI}]))",
                        "{{type}}",
                    )
                ],
                description="Responses per second by HTTP status class (vault_core_response_status_code).",
                unit=Unit.REQUESTS_PER_SECOND,
                stacked=True,
                width=8,
            ),
            timeseries(
                "Average request latency",
                [promql(_avg_latency("vault_core_handle_request", _NODE), "{{instance}}")],
                description="Mean time to handle a non-login request, from the summary's sum and count.",
                unit=Unit.MILLISECONDS,
                width=8,
            ),
            timeseries(
                "Login request rate",
                [
                    promql(
                        f"sum by (instance) (rate(vault_core_handle_login_request_count{{{_NODE}}}[{_RI}]))",
                        "{{instance}}",
                    )
                ],
                description="Login requests per second (successful and failed) per Vault pod.",
                unit=Unit.REQUESTS_PER_SECOND,
                width=8,
            ),
            timeseries(
                "Average login latency",
                [promql(_avg_latency("vault_core_handle_login_request", _NODE), "{{instance}}")],
                description="Mean time to handle a login request.",
                unit=Unit.MILLISECONDS,
                width=8,
            ),
            timeseries(
                "In-flight requests",
                [promql(f"sum by (instance) (vault_core_in_flight_requests{{{_NODE}}})", "{{instance}}")],
                description="Requests being processed at scrape time.",
                unit=Unit.SHORT,
                width=8,
            ),
        ],
    )


def _tokens_row() -> Row:
    return Row(
        title="Tokens and authentication",
        panels=[
            timeseries(
                "Token creation by auth method",
                [
                    promql(
                        f"sum by (auth_method) (rate(vault_token_creation{{{_NODE}}}[{_RI}]))",
                        "{{auth_method}}",
                    )
                ],
                description="Tokens created per second (vault_token_creation), by auth method.",
                unit=Unit.OPS_PER_SECOND,
                stacked=True,
                width=8,
            ),
            timeseries(
                "Client errors by status code",
                [
                    promql(
                        f"sum by (code) (rate(vault_core_response_status_code{{{_NODE}, "
                        f'type="4xx"}}[{_RI}]))',
                        "{{code}}",
                    )
                ],
                description="4xx responses per second. Failed logins and permission-denied requests appear "
                "here; the Vault Audit Logs dashboard shows which paths and clients.",
                unit=Unit.REQUESTS_PER_SECOND,
                stacked=True,
                width=8,
            ),
            timeseries(
                "Locked users",
                [
                    promql(
                        f"sum(max without (instance) (vault_core_locked_users{{{_VAULT}}}))", "locked users"
                    )
                ],
                description="Users locked out after repeated failed logins (userpass, ldap, approle).",
                unit=Unit.SHORT,
                width=8,
            ),
            timeseries(
                "Tokens by auth method",
                [
                    promql(
                        f"sum by (auth_method) (max without (instance) "
                        f"(vault_token_count_by_auth{{{_VAULT}}}))",
                        "{{auth_method}}",
                    )
                ],
                description="Service tokens by the auth method that created them (refreshed every 10 min).",
                unit=Unit.SHORT,
                stacked=True,
                width=12,
            ),
            timeseries(
                "Tokens by creation TTL",
                [
                    promql(
                        f"sum by (creation_ttl) (max without (instance) "
                        f"(vault_token_count_by_ttl{{{_VAULT}}}))",
                        "{{creation_ttl}}",
                    )
                ],
                description="Service tokens by TTL bucket at creation; +Inf are tokens that never expire.",
                unit=Unit.SHORT,
                stacked=True,
                width=12,
            ),
        ],
    )


def _secret_engines_row() -> Row:
    return Row(
        title="Secret engines (KV and PKI)",
        panels=[
            timeseries(
                "KV secrets stored by mount",
                [
                    promql(
                        f"sum by (mount_point) (max without (instance) (vault_secret_kv_count{{{_VAULT}}}))",
                        "{{mount_point}}",
                    )
                ],
                description="Secrets stored per KV mount (usage gauge, refreshed every 10 min).",
                unit=Unit.SHORT,
                width=8,
            ),
            timeseries(
                "KV operations",
                [logql(f"sum by (operation) (rate({_AUDIT_RESPONSES % 'kv'} [5m]))", "{{operation}}")],
                description="KV requests per second by operation, from the audit log (response entries).",
                unit=Unit.OPS_PER_SECOND,
                uid=DatasourceUid.LOKI,
                stacked=True,
                width=8,
            ),
            timeseries(
                "PKI operations",
                [logql(f"sum by (operation) (rate({_AUDIT_RESPONSES % 'pki'} [5m]))", "{{operation}}")],
                description="PKI requests per second by operation, from the audit log (response entries).",
                unit=Unit.OPS_PER_SECOND,
                uid=DatasourceUid.LOKI,
                stacked=True,
                width=8,
            ),
            timeseries(
                "PKI certificates issued or signed",
                [
                    logql(
                        'sum(count_over_time({log_type="vault_audit", audit_type="response", '
                        'mount_type="pki", '
                        'error="false"} | json request_path="request.path" | __error__="" '
                        '| request_path=~".+/(issue|sign|sign-verbatim)/.+" [$__interval]))',
                        "certificates",
                    )
                ],
                description="Successful issue and sign requests on PKI mounts per interval.",
                unit=Unit.SHORT,
                uid=DatasourceUid.LOKI,
                bars=True,
                width=12,
            ),
            timeseries(
                "Secret engine errors",
                [
                    logql(
                        'sum by (mount_type) (count_over_time({log_type="vault_audit", '
                        'audit_type="response", '
                        'mount_type=~"kv|pki", error="true"} [$__interval]))',
                        "{{mount_type}}",
                    )
                ],
                description="KV and PKI requests that returned an error, per interval.",
                unit=Unit.SHORT,
                uid=DatasourceUid.LOKI,
                bars=True,
                width=12,
            ),
        ],
    )


def _leases_row() -> Row:
    return Row(
        title="Leases",
        panels=[
            timeseries(
                "Leases",
                [
                    promql(f"max without (instance) (vault_expire_num_leases{{{_VAULT}}})", "leases"),
                    promql(
                        f"max without (instance) (vault_expire_num_irrevocable_leases{{{_VAULT}}})",
                        "irrevocable",
                    ),
                ],
                description="Leases tracked by the active node, and leases Vault failed to revoke.",
                unit=Unit.SHORT,
                width=8,
            ),
            timeseries(
                "Lease creation and expiry",
                [
                    promql(f"sum(rate(vault_secret_lease_creation{{{_VAULT}}}[{_RI}]))", "created"),
                    promql(f"sum(rate(vault_expire_lease_expiration{{{_VAULT}}}[{_RI}]))", "expired"),
                    promql(
                        f"sum(rate(vault_expire_lease_expiration_error{{{_VAULT}}}[{_RI}]))",
                        "expiry errors",
                    ),
                ],
                description="Leases created, expired and failing to expire, per second.",
                unit=Unit.OPS_PER_SECOND,
                width=8,
            ),
            timeseries(
                "Leases by expiration window",
                [
                    promql(
                        f"max by (expiring) (vault_expire_leases_by_expiration{{{_VAULT}}})",
                        "{{expiring}}",
                    )
                ],
                description="Leases grouped by when they expire (lease_metrics_epsilon buckets).",
                unit=Unit.SHORT,
                width=8,
            ),
        ],
    )


def _raft_row() -> Row:
    return Row(
        title="Raft storage",
        panels=[
            timeseries(
                "Leader last contact (average)",
                [promql(_avg_latency("vault_raft_leader_lastContact", _NODE), "{{instance}}")],
                description="Mean time since followers last heard from the leader; healthy below 200 ms.",
                unit=Unit.MILLISECONDS,
                width=8,
            ),
            timeseries(
                "Raft commit time (average)",
                [promql(_avg_latency("vault_raft_commitTime", _NODE), "{{instance}}")],
                description="Mean time for the leader to commit a log entry.",
                unit=Unit.MILLISECONDS,
                width=8,
            ),
            timeseries(
                "Leadership changes",
                [
                    promql(
                        f"sum by (instance) (increase(vault_raft_state_leader{{{_NODE}}}[1h]))",
                        "{{instance}} became leader",
                    ),
                    promql(
                        f"sum by (instance) (increase(vault_raft_state_candidate{{{_NODE}}}[1h]))",
                        "{{instance}} started an election",
                    ),
                ],
                description="Elections and leader changes in the preceding hour; should stay at 0.",
                unit=Unit.SHORT,
                width=8,
            ),
            timeseries(
                "Autopilot failure tolerance",
                [promql(f"max(vault_autopilot_failure_tolerance{{{_VAULT}}})", "servers that may fail")],
                description="How many voters can fail while the cluster keeps quorum.",
                unit=Unit.SHORT,
                width=8,
            ),
            timeseries(
                "FSM pending and follower lag",
                [
                    promql(
                        f"max by (instance) (vault_raft_storage_stats_fsm_pending{{{_NODE}}})",
                        "{{instance}} pending",
                    ),
                    promql(
                        f"max without (instance) "
                        f"(vault_raft_storage_follower_applied_index_delta{{{_VAULT}}})",
                        "follower applied-index lag",
                    ),
                ],
                description="Raft entries waiting to be applied, and how far followers trail the leader.",
                unit=Unit.SHORT,
                width=8,
            ),
            timeseries(
                "Storage latency (average)",
                [
                    promql(_avg_latency("vault_barrier_get", _NODE), "{{instance}} get"),
                    promql(_avg_latency("vault_barrier_put", _NODE), "{{instance}} put"),
                ],
                description="Mean barrier read and write time (encrypted storage layer over raft).",
                unit=Unit.MILLISECONDS,
                width=8,
            ),
        ],
    )


def _audit_row() -> Row:
    return Row(
        title="Audit devices",
        panels=[
            timeseries(
                "Audit write failures",
                [
                    promql(
                        f"sum by (instance) (rate(vault_audit_log_request_failure{{{_NODE}}}[{_RI}]))",
                        "{{instance}} request",
                    ),
                    promql(
                        f"sum by (instance) (rate(vault_audit_log_response_failure{{{_NODE}}}[{_RI}]))",
                        "{{instance}} response",
                    ),
                ],
                description="Failed audit writes per second; any value means requests may be refused.",
                unit=Unit.OPS_PER_SECOND,
                width=12,
            ),
            timeseries(
                "Audit write latency (average)",
                [
                    promql(_avg_latency("vault_audit_log_request", _NODE), "{{instance}} request"),
                    promql(_avg_latency("vault_audit_log_response", _NODE), "{{instance}} response"),
                ],
                description="Mean time to write request and response entries to all audit devices.",
                unit=Unit.MILLISECONDS,
                width=12,
            ),
        ],
    )


def _runtime_row() -> Row:
    return Row(
        title="Go runtime",
        collapsed=True,
        panels=[
            timeseries(
                "Memory",
                [
                    promql(f"vault_runtime_alloc_bytes{{{_NODE}}}", "{{instance}} heap allocated"),
                    promql(f"vault_runtime_sys_bytes{{{_NODE}}}", "{{instance}} from OS"),
                ],
                description="Heap bytes allocated and total bytes obtained from the OS.",
                unit=Unit.BYTES,
                width=8,
            ),
            timeseries(
                "Goroutines",
                [promql(f"vault_runtime_num_goroutines{{{_NODE}}}", "{{instance}}")],
                description="Goroutines per Vault pod; steady growth suggests a leak or stuck requests.",
                unit=Unit.SHORT,
                width=8,
            ),
            timeseries(
                "GC pause (average)",
                [promql(_avg_latency("vault_runtime_gc_pause_ns", _NODE), "{{instance}}")],
                description="Mean garbage-collection pause.",
                unit=Unit.NANOSECONDS,
                width=8,
            ),
        ],
    )


def vault_overview() -> dashboard_model.Dashboard:
    """The Vault Overview dashboard, health first, then requests, tokens, engines, leases, raft, audit."""
    return assemble(
        uid=UID,
        title=TITLE,
        description="Seal and HA state, request rate and latency, tokens, KV and PKI activity, leases, raft "
        "storage and audit-device health of the Vault cluster.",
        tags=["vault"],
        variables=[
            query_variable(
                "instance",
                label="Vault pod",
                uid=DatasourceUid.PROMETHEUS,
                query='label_values(up{job="vault"}, instance)',
                description="Vault pods (scrape targets) shown in per-node panels.",
            )
        ],
        rows=[
            _health_row(),
            _requests_row(),
            _tokens_row(),
            _secret_engines_row(),
            _leases_row(),
            _raft_row(),
            _audit_row(),
            _runtime_row(),
        ],
    )
