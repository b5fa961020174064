"""Trace Explorer: recent traces from Tempo, slow and failing spans, and the logs that link to them.

Vault itself emits no traces (no version has an OTLP exporter). Traces reach Tempo through Grafana Alloy's
OTLP receiver from instrumented clients and from an ingress or mesh in front of Vault; an ingress can also
inject a W3C ``traceparent`` header that Vault's audit device records when the header is audited
(``vault write sys/config/auditing/request-headers/traceparent hmac=false``). The Loki data source's derived
fields turn trace ids in log lines into links to Tempo, and Tempo's trace-to-logs setting opens the matching
log lines from a span.

Span-duration statistics come from TraceQL searches (the spans table), not from Tempo's
metrics-generator: the dashboards do not rely on ``traces_spanmetrics_*`` series, which exist only when the
generator remote-writes them.
"""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as dashboard_model

from vaultaio_constructs.grafana.dashboards.common import (
    DatasourceUid,
    Row,
    Unit,
    assemble,
    custom_variable,
    logql,
    logs,
    note,
    promql,
    query_variable,
    stat,
    table,
    traceql,
)
from vaultaio_constructs.loglabels import AUDIT_LOG_TYPE, JOB_PODS

UID = "trace-explorer"
TITLE = "Trace Explorer"

#: Grafana's Tempo variable query: label values (type 1) of the ``service.name`` attribute.
SERVICE_VARIABLE_QUERY: dict[str, object] = {
    "label": "service.name",
    "refId": "TempoDatasourceVariableQueryEditor-VariableQuery",
    "type": 1,
}

_MATCH = 'resource.service.name=~"$service" && duration >= $min_duration'

_ABOUT = (
    "Vault does not emit traces. Spans come from instrumented clients and from the ingress in front of "
    "Vault, "
    "sent over OTLP to Grafana Alloy (ports 4317/4318) and on to Tempo. Click a trace id to open it; a "
    "span's "
    "**Logs for this span** link searches the stack's pod logs for the trace id, and log lines with a "
    "`trace_id` or `traceparent` link back to Tempo."
)


def _pipeline_row() -> Row:
    return Row(
        title="Trace pipeline health",
        panels=[
            stat(
                "Tempo",
                [promql('up{job="tempo"}', instant=True)],
                description="Whether Prometheus can scrape Tempo.",
                mappings={"0": ("Down", "red"), "1": ("Up", "green")},
                steps=("red", ((1, "green"),)),
            ),
            stat(
                "Spans accepted by Alloy",
                [
                    promql(
                        'sum(rate(otelcol_receiver_accepted_spans_total{job="alloy"}[$__rate_interval])) or '
                        "vector(0)",
                        instant=True,
                    )
                ],
                description="Spans per second Alloy's OTLP receiver accepted from clients.",
                unit=Unit.OPS_PER_SECOND,
                steps=("blue", ()),
                graph=True,
            ),
            stat(
                "Spans refused by Alloy",
                [
                    promql(
                        'sum(increase(otelcol_receiver_refused_spans_total{job="alloy"}[$__range])) or '
                        "vector(0)",
                        instant=True,
                    )
                ],
                description="Spans Alloy's OTLP receiver could not push into its pipeline in the time range.",
                unit=Unit.SHORT,
                steps=("green", ((1, "red"),)),
                decimals=0,
            ),
            stat(
                "Export failures to Tempo",
                [
                    promql(
                        'sum(increase(otelcol_exporter_send_failed_spans_total{job="alloy"}[$__range]))'
                        " or vector(0)",
                        instant=True,
                    )
                ],
                description="Spans Alloy failed to send to Tempo in the time range.",
                unit=Unit.SHORT,
                steps=("green", ((1, "red"),)),
                decimals=0,
            ),
            stat(
                "Spans received by Tempo",
                [
                    promql(
                        'sum(rate(tempo_distributor_spans_received_total{job="tempo"}[$__rate_interval]))'
                        " or vector(0)",
                        instant=True,
                    )
                ],
                description="Spans per second Tempo's distributor received.",
                unit=Unit.OPS_PER_SECOND,
                steps=("blue", ()),
                graph=True,
            ),
            stat(
                "Spans discarded by Tempo",
                [
                    promql(
                        'sum(increase(tempo_discarded_spans_total{job="tempo"}[$__range])) or vector(0)',
                        instant=True,
                    )
                ],
                description="Spans Tempo refused (rate limits, trace too large...) in the time range.",
                unit=Unit.SHORT,
                steps=("green", ((1, "red"),)),
                decimals=0,
            ),
            note("Where traces come from", _ABOUT),
        ],
    )


def _traces_row() -> Row:
    return Row(
        title="Recent traces",
        panels=[
            table(
                "Traces",
                [traceql(f"{{{_MATCH}}}", limit=50)],
                description="Most recent traces of the selected service at least as long as the minimum "
                "duration. Click a trace id to open the trace view.",
                uid=DatasourceUid.TEMPO,
                hide_columns=(),
                width=24,
                height=12,
            ),
            table(
                "Failed traces",
                [traceql(f"{{{_MATCH} && status = error}}", limit=50)],
                description="Traces containing a span with error status.",
                uid=DatasourceUid.TEMPO,
                hide_columns=(),
                width=24,
                height=10,
            ),
        ],
    )


def _spans_row() -> Row:
    return Row(
        title="Span durations",
        panels=[
            table(
                "Slowest server spans",
                [traceql(f"{{{_MATCH} && kind = server}}", limit=50, spans=True)],
                description="Server spans of the selected service over the minimum duration, with their "
                "durations (TraceQL search; sort by the duration column).",
                uid=DatasourceUid.TEMPO,
                hide_columns=(),
                width=24,
                height=10,
            ),
        ],
    )


def _logs_row() -> Row:
    return Row(
        title="Logs with trace context",
        panels=[
            logs(
                "Pod logs mentioning a trace",
                [
                    logql(
                        f'{{job="{JOB_PODS}", namespace=~"$namespace"}} |~ "(?i)(trace_?id|traceparent)"',
                        max_lines=500,
                    )
                ],
                description="Pod log lines carrying a trace id; the TraceID link opens the trace in Tempo.",
                width=12,
                height=12,
            ),
            logs(
                "Vault audit entries with traceparent",
                [
                    logql(
                        f'{{log_type="{AUDIT_LOG_TYPE}", audit_type="request"}} |= "traceparent"',
                        max_lines=500,
                    )
                ],
                description="Audit entries whose request carried an audited traceparent header (set by the "
                "ingress); the TraceParent link opens the trace in Tempo.",
                width=12,
                height=12,
            ),
        ],
    )


def trace_explorer() -> dashboard_model.Dashboard:
    """The Trace Explorer dashboard."""
    return assemble(
        uid=UID,
        title=TITLE,
        description="Recent traces in Tempo by service, failing and slow spans, and logs linked to traces.",
        tags=["traces"],
        variables=[
            query_variable(
                "service",
                label="Service",
                uid=DatasourceUid.TEMPO,
                query=SERVICE_VARIABLE_QUERY,
                multi=False,
                description="service.name resource attribute of the spans.",
            ),
            custom_variable(
                "min_duration",
                label="Minimum duration",
                values=("0ms", "100ms", "250ms", "500ms", "1s", "5s"),
                description="Only traces or spans at least this long.",
            ),
            query_variable(
                "namespace",
                label="Namespace (logs)",
                uid=DatasourceUid.LOKI,
                query=f'label_values({{job="{JOB_PODS}"}}, namespace)',
            ),
        ],
        rows=[_pipeline_row(), _traces_row(), _spans_row(), _logs_row()],
        time_from="now-1h",
        refresh="30s",
    )
