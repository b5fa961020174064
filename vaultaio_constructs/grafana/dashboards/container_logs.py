"""Container Logs: every pod's logs with namespace, component, pod and container filters and a search box.

Streams are the pod logs Grafana Alloy ships with ``job="kubernetes-pods"`` and the labels of
:data:`vaultaio_constructs.loglabels.POD_LOG_LABELS`. The search box is an RE2 regular expression applied as
a line filter (``|~ "$search"``); empty matches every line. The first row shows whether the log pipeline
itself is healthy (Loki ingesting, Alloy not dropping entries) before the volume graphs and the lines.
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
from vaultaio_constructs.loglabels import JOB_PODS

UID = "container-logs"
TITLE = "Container Logs"

_STREAMS = (
    f'{{job="{JOB_PODS}", namespace=~"$namespace", app=~"$app", pod=~"$pod", container=~"$container"}}'
    ' |~ "$search"'
)
_ERROR_LIKE = '|~ "(?i)(error|fail|fatal|panic|exception)"'


def _pipeline_row() -> Row:
    return Row(
        title="Log pipeline health",
        panels=[
            stat(
                "Loki",
                [promql('up{job="loki"}', instant=True)],
                description="Whether Prometheus can scrape Loki.",
                mappings={"0": ("Down", "red"), "1": ("Up", "green")},
                steps=("red", ((1, "green"),)),
            ),
            stat(
                "Alloy agents reporting",
                [promql('count(up{job="alloy"} == 1) or vector(0)', instant=True)],
                description="Grafana Alloy pods whose self-metrics reach Prometheus (one per node).",
                steps=("red", ((1, "green"),)),
            ),
            stat(
                "Lines ingested",
                [
                    promql(
                        'sum(rate(loki_distributor_lines_received_total{job="loki"}[$__rate_interval]))',
                        instant=True,
                    )
                ],
                description="Log lines per second Loki receives from all agents.",
                unit=Unit.COUNTS_PER_SECOND,
                steps=("blue", ()),
                graph=True,
            ),
            stat(
                "Entries dropped by Alloy",
                [
                    promql(
                        'sum(increase(loki_write_dropped_entries_total{job="alloy"}[$__range])) or vector(0)',
                        instant=True,
                    )
                ],
                description="Log entries Alloy gave up sending to Loki in the selected time range.",
                unit=Unit.SHORT,
                steps=("green", ((1, "red"),)),
                decimals=0,
            ),
            stat(
                "Matching lines",
                [logql(f"sum(count_over_time({_STREAMS} [$__range])) or vector(0)", instant=True)],
                description="Lines matching the filters and search in the selected time range.",
                uid=DatasourceUid.LOKI,
                unit=Unit.SHORT,
                steps=("blue", ()),
            ),
            stat(
                "Error-like lines",
                [
                    logql(
                        f"sum(count_over_time({_STREAMS} {_ERROR_LIKE} [$__range])) or vector(0)",
                        instant=True,
                    )
                ],
                description="Matching lines that mention error, fail, fatal, panic or exception.",
                uid=DatasourceUid.LOKI,
                unit=Unit.SHORT,
                steps=("green", ((1, "orange"),)),
            ),
        ],
    )


def _volume_row() -> Row:
    return Row(
        title="Log volume",
        panels=[
            timeseries(
                "Lines by pod",
                [logql(f"sum by (pod) (count_over_time({_STREAMS} [$__interval]))", "{{pod}}")],
                description="Matching lines per interval, by pod.",
                uid=DatasourceUid.LOKI,
                unit=Unit.SHORT,
                stacked=True,
                bars=True,
                width=12,
            ),
            timeseries(
                "Error-like lines by container",
                [
                    logql(
                        f"sum by (pod, container) (count_over_time({_STREAMS} {_ERROR_LIKE} [$__interval]))",
                        "{{pod}}/{{container}}",
                    )
                ],
                description="Matching lines that look like errors, per interval, by container.",
                uid=DatasourceUid.LOKI,
                unit=Unit.SHORT,
                stacked=True,
                bars=True,
                width=12,
            ),
        ],
    )


def _lines_row() -> Row:
    return Row(
        title="Logs",
        panels=[
            logs(
                "Container logs",
                [logql(_STREAMS, max_lines=1000)],
                description="Log lines, newest first. Lines carrying a trace id link to the trace in Tempo.",
                height=22,
            )
        ],
    )


def container_logs() -> dashboard_model.Dashboard:
    """The Container Logs dashboard."""
    pods = f'{{job="{JOB_PODS}"'
    return assemble(
        uid=UID,
        title=TITLE,
        description="Logs of every pod in the stack, filtered by namespace, component, pod and container, "
        "with a regular-expression search.",
        tags=["logs"],
        variables=[
            query_variable(
                "namespace",
                label="Namespace",
                uid=DatasourceUid.LOKI,
                query=f"label_values({pods}}}, namespace)",
            ),
            query_variable(
                "app",
                label="Component",
                uid=DatasourceUid.LOKI,
                query=f'label_values({pods}, namespace=~"$namespace"}}, app)',
                description="app.kubernetes.io/name of the pod.",
            ),
            query_variable(
                "pod",
                label="Pod",
                uid=DatasourceUid.LOKI,
                query=f'label_values({pods}, namespace=~"$namespace", app=~"$app"}}, pod)',
            ),
            query_variable(
                "container",
                label="Container",
                uid=DatasourceUid.LOKI,
                query=f'label_values({pods}, namespace=~"$namespace", app=~"$app", pod=~"$pod"}}, container)',
            ),
            textbox_variable(
                "search",
                label="Search (regex)",
                default="",
                description="RE2 regular expression; lines must match it. Empty shows every line.",
            ),
        ],
        rows=[_pipeline_row(), _volume_row(), _lines_row()],
        time_from="now-1h",
        refresh="30s",
    )
