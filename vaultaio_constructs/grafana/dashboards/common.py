"""Shared building blocks for the stack's dashboards: data source references, query and panel factories,
variables, and a deterministic layout.

Every dashboard module builds its panels with the grafana-foundation-sdk builders through these helpers and
hands them to :func:`assemble` as :class:`Row` values, top-down from "is it healthy" to detail. ``assemble``
places panels on Grafana's 24-column grid, numbers panels and queries (stable ids and ``refId`` values) and
returns the typed ``Dashboard`` model; :func:`to_json` serialises it with sorted keys so the same code always
yields the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from grafana_foundation_sdk.builders import dashboard as dashboard_builder
from grafana_foundation_sdk.builders import logs as logs_builder
from grafana_foundation_sdk.builders import loki as loki_builder
from grafana_foundation_sdk.builders import prometheus as prometheus_builder
from grafana_foundation_sdk.builders import stat as stat_builder
from grafana_foundation_sdk.builders import table as table_builder
from grafana_foundation_sdk.builders import tempo as tempo_builder
from grafana_foundation_sdk.builders import text as text_builder
from grafana_foundation_sdk.builders import timeseries as timeseries_builder
from grafana_foundation_sdk.builders.common import (
    ReduceDataOptions,
    StackingConfig,
    TableSortByFieldState,
    VizLegendOptions,
    VizTooltipOptions,
)
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as common_model
from grafana_foundation_sdk.models import dashboard as dashboard_model
from grafana_foundation_sdk.models import loki as loki_model
from grafana_foundation_sdk.models import prometheus as prometheus_model
from grafana_foundation_sdk.models import tempo as tempo_model
from grafana_foundation_sdk.models import text as text_model

#: Width of Grafana's dashboard grid, in columns.
GRID_COLUMNS: Final = 24

#: Tag every dashboard of the stack carries (the provider's folder groups them too).
STACK_TAG: Final = "vault-aio"


class DatasourceUid(StrEnum):
    """UIDs of the provisioned data sources; ``provisioning.render_datasources`` sets exactly these."""

    PROMETHEUS = "prometheus"
    LOKI = "loki"
    TEMPO = "tempo"
    ALERTMANAGER = "alertmanager"


class Unit(StrEnum):
    """Grafana unit ids used by the dashboards (Grafana's ``valueFormats`` registry)."""

    NONE = "none"
    SHORT = "short"
    PERCENT_UNIT = "percentunit"
    BYTES = "bytes"
    BYTES_PER_SECOND = "Bps"
    BITS_PER_SECOND = "bps"
    SECONDS = "s"
    MILLISECONDS = "ms"
    NANOSECONDS = "ns"
    DURATION = "dtdurations"
    REQUESTS_PER_SECOND = "reqps"
    OPS_PER_SECOND = "ops"
    IO_OPS_PER_SECOND = "iops"
    COUNTS_PER_SECOND = "cps"
    PACKETS_PER_SECOND = "pps"
    DATETIME = "dateTimeAsIso"


#: The dashboard variable that picks the data source of each type. Every query names its data source through
#: it (``${datasource}``), so the same dashboard works in the stack's Grafana, where the variable defaults to
#: the provisioned UID, and in any other Grafana that loads the ConfigMaps through its dashboard sidecar:
#: there Grafana falls back to the first data source of that type when the UID is unknown, and the variable
#: lets people pick another one. ``datasource`` for Prometheus is the name the community dashboards use.
DATASOURCE_VARIABLES: Final = {
    DatasourceUid.PROMETHEUS: "datasource",
    DatasourceUid.LOKI: "loki_datasource",
    DatasourceUid.TEMPO: "tempo_datasource",
    DatasourceUid.ALERTMANAGER: "alertmanager_datasource",
}
_DATASOURCE_LABELS: Final = {
    DatasourceUid.PROMETHEUS: "Prometheus",
    DatasourceUid.LOKI: "Loki",
    DatasourceUid.TEMPO: "Tempo",
    DatasourceUid.ALERTMANAGER: "Alertmanager",
}


def datasource(uid: DatasourceUid) -> dashboard_model.DataSourceRef:
    """A reference to the data source of ``uid``'s type, through its dashboard variable (the type equals the
    provisioned UID for all four)."""
    return dashboard_model.DataSourceRef(type_val=str(uid), uid=f"${{{DATASOURCE_VARIABLES[uid]}}}")


def datasource_variable(uid: DatasourceUid) -> dashboard_builder.DatasourceVariable:
    """The variable that picks the data source of ``uid``'s type; defaults to the provisioned one."""
    return (
        dashboard_builder.DatasourceVariable(DATASOURCE_VARIABLES[uid])
        .label(_DATASOURCE_LABELS[uid])
        .type(str(uid))
        .current(dashboard_model.VariableOption(selected=True, text=_DATASOURCE_LABELS[uid], value=str(uid)))
    )


# --------------------------------------------------------------------------------------------------------
# Queries


def promql(
    expr: str, legend: str = "", *, instant: bool = False, table: bool = False
) -> prometheus_builder.Dataquery:
    """A Prometheus query; ``instant`` for single-value panels, ``table`` for table-formatted results."""
    query = prometheus_builder.Dataquery().expr(expr).datasource(datasource(DatasourceUid.PROMETHEUS))
    if legend:
        query = query.legend_format(legend)
    query = query.instant() if instant else query.range()
    if table:
        query = query.format(prometheus_model.PromQueryFormat.TABLE)
    return query


def logql(
    expr: str, legend: str = "", *, instant: bool = False, max_lines: int | None = None
) -> loki_builder.Dataquery:
    """A Loki query: a log query for logs panels or a metric query (``count_over_time`` ...)."""
    query = (
        loki_builder.Dataquery()
        .expr(expr)
        .datasource(datasource(DatasourceUid.LOKI))
        .query_type(str(loki_model.LokiQueryType.INSTANT if instant else loki_model.LokiQueryType.RANGE))
    )
    if legend:
        query = query.legend_format(legend)
    if max_lines is not None:
        query = query.max_lines(max_lines)
    return query


def traceql(expr: str, *, limit: int = 20, spans: bool = False) -> tempo_builder.TempoQuery:
    """A Tempo TraceQL search returning a table of traces (or of matching spans with ``spans``)."""
    return (
        tempo_builder.TempoQuery()
        .query_type("traceql")
        .query(expr)
        .limit(limit)
        .spss(3)
        .table_type(tempo_model.SearchTableType.SPANS if spans else tempo_model.SearchTableType.TRACES)
        .datasource(datasource(DatasourceUid.TEMPO))
    )


def selector(**matchers: str) -> str:
    """A label selector ``{a="x", b=~"y"}`` from keyword arguments; a value starting with ``~`` is a regex
    match (``~`` is dropped), ``!`` a negative match and ``!~`` a negative regex. Keys keep their order."""
    parts: list[str] = []
    for name, value in matchers.items():
        if value.startswith("!~"):
            op, val = "!~", value[2:]
        elif value.startswith("~"):
            op, val = "=~", value[1:]
        elif value.startswith("!"):
            op, val = "!=", value[1:]
        else:
            op, val = "=", value
        parts.append(f'{name}{op}"{val}"')
    return "{" + ", ".join(parts) + "}"


# --------------------------------------------------------------------------------------------------------
# Field options


def value_mappings(mapping: dict[str, tuple[str, str]]) -> list[dashboard_model.ValueMapping]:
    """Value -> (text, colour) mappings, e.g. ``{"0": ("Sealed", "red"), "1": ("Unsealed", "green")}``."""
    options = {
        value: dashboard_model.ValueMappingResult(text=text, color=color, index=index)
        for index, (value, (text, color)) in enumerate(sorted(mapping.items()))
    }
    return [dashboard_model.ValueMap(options=options)]


def thresholds(base: str, *steps: tuple[float, str]) -> dashboard_builder.ThresholdsConfig:
    """Absolute thresholds: ``base`` colour below the first step, then ``(value, colour)`` steps."""
    return (
        dashboard_builder.ThresholdsConfig()
        .mode(dashboard_model.ThresholdsMode.ABSOLUTE)
        .steps(
            [dashboard_model.Threshold(value=None, color=base)]
            + [dashboard_model.Threshold(value=value, color=color) for value, color in steps]
        )
    )


# --------------------------------------------------------------------------------------------------------
# Panels. Each factory returns an SDK builder with its size set; ``assemble`` positions it.

Targets = Sequence[cogbuilder.Builder[cogvariants.Dataquery]]

_PanelBuilder = (
    stat_builder.Panel
    | timeseries_builder.Panel
    | table_builder.Panel
    | logs_builder.Panel
    | text_builder.Panel
)


def _panel_common(
    panel: _PanelBuilder,
    *,
    title: str,
    description: str,
    uid: DatasourceUid,
    targets: Targets,
    width: int,
    height: int,
) -> None:
    panel.title(title).description(description).datasource(datasource(uid)).span(width).height(height)
    for target in targets:
        panel.with_target(target)


def stat(
    title: str,
    targets: Targets,
    *,
    description: str,
    unit: Unit = Unit.NONE,
    uid: DatasourceUid = DatasourceUid.PROMETHEUS,
    mappings: dict[str, tuple[str, str]] | None = None,
    steps: tuple[str, tuple[tuple[float, str], ...]] = ("green", ()),
    width: int = 4,
    height: int = 4,
    no_value: str = "No data",
    decimals: int | None = None,
    graph: bool = False,
) -> stat_builder.Panel:
    """A single-value panel coloured by thresholds (``steps`` = base colour, then (value, colour) steps)."""
    panel = stat_builder.Panel()
    _panel_common(
        panel, title=title, description=description, uid=uid, targets=targets, width=width, height=height
    )
    base, rest = steps
    panel.unit(str(unit)).no_value(no_value).thresholds(thresholds(base, *rest))
    panel.color_mode(common_model.BigValueColorMode.BACKGROUND)
    panel.graph_mode(common_model.BigValueGraphMode.AREA if graph else common_model.BigValueGraphMode.NONE)
    panel.text_mode(common_model.BigValueTextMode.AUTO)
    panel.reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    if mappings:
        panel.mappings(value_mappings(mappings))
    if decimals is not None:
        panel.decimals(decimals)
    return panel


def timeseries(
    title: str,
    targets: Targets,
    *,
    description: str,
    unit: Unit,
    uid: DatasourceUid = DatasourceUid.PROMETHEUS,
    width: int = 12,
    height: int = 8,
    stacked: bool = False,
    bars: bool = False,
    min_value: float | None = 0,
    max_value: float | None = None,
) -> timeseries_builder.Panel:
    """A time series graph with a table legend (last, max) and a shared tooltip."""
    panel = timeseries_builder.Panel()
    _panel_common(
        panel, title=title, description=description, uid=uid, targets=targets, width=width, height=height
    )
    panel.unit(str(unit)).fill_opacity(10).line_width(1).show_points(common_model.VisibilityMode.NEVER)
    panel.legend(
        VizLegendOptions()
        .display_mode(common_model.LegendDisplayMode.TABLE)
        .placement(common_model.LegendPlacement.BOTTOM)
        .show_legend(True)
        .calcs(["lastNotNull", "max"])
    )
    panel.tooltip(
        VizTooltipOptions()
        .mode(common_model.TooltipDisplayMode.MULTI)
        .sort(common_model.SortOrder.DESCENDING)
    )
    if stacked:
        panel.stacking(StackingConfig().mode(common_model.StackingMode.NORMAL))
    if bars:
        panel.draw_style(common_model.GraphDrawStyle.BARS).fill_opacity(80)
    if min_value is not None:
        panel.min(min_value)
    if max_value is not None:
        panel.max(max_value)
    return panel


def table(
    title: str,
    targets: Targets,
    *,
    description: str,
    uid: DatasourceUid = DatasourceUid.PROMETHEUS,
    unit: Unit = Unit.NONE,
    width: int = 12,
    height: int = 8,
    sort_by: str | None = None,
    hide_columns: Sequence[str] = ("Time",),
) -> table_builder.Panel:
    """A table panel; instant query results are merged by label into rows (``merge`` transformation)."""
    panel = table_builder.Panel()
    _panel_common(
        panel, title=title, description=description, uid=uid, targets=targets, width=width, height=height
    )
    panel.unit(str(unit)).filterable(True)
    if uid is not DatasourceUid.TEMPO:
        panel.with_transformation(dashboard_model.DataTransformerConfig(id_val="merge", options={}))
    if hide_columns:
        panel.with_transformation(
            dashboard_model.DataTransformerConfig(
                id_val="organize",
                options={"excludeByName": {name: True for name in sorted(hide_columns)}},
            )
        )
    if sort_by:
        panel.sort_by([TableSortByFieldState().display_name(sort_by).desc(True)])
    return panel


def logs(
    title: str,
    targets: Targets,
    *,
    description: str,
    width: int = GRID_COLUMNS,
    height: int = 14,
) -> logs_builder.Panel:
    """A log lines panel, newest first, with time, labels folded into details, and wrapping."""
    panel = logs_builder.Panel()
    _panel_common(
        panel,
        title=title,
        description=description,
        uid=DatasourceUid.LOKI,
        targets=targets,
        width=width,
        height=height,
    )
    panel.show_time(True).show_labels(False).show_common_labels(False).wrap_log_message(True)
    panel.prettify_log_message(False).enable_log_details(True).sort_order(
        common_model.LogsSortOrder.DESCENDING
    )
    panel.dedup_strategy(common_model.LogsDedupStrategy.NONE)
    return panel


def note(title: str, markdown: str, *, width: int = GRID_COLUMNS, height: int = 3) -> text_builder.Panel:
    """A Markdown text panel explaining what the dashboard can and cannot show."""
    panel = text_builder.Panel().title(title).mode(text_model.TextMode.MARKDOWN).content(markdown)
    return panel.span(width).height(height)


# --------------------------------------------------------------------------------------------------------
# Variables


def _all_option() -> dashboard_model.VariableOption:
    return dashboard_model.VariableOption(selected=True, text=["All"], value=["$__all"])


def query_variable(
    name: str,
    *,
    label: str,
    uid: DatasourceUid,
    query: str | dict[str, object],
    multi: bool = True,
    include_all: bool = True,
    all_value: str = ".*",
    description: str = "",
) -> dashboard_builder.QueryVariable:
    """A variable filled from a data source (``label_values(...)`` for Prometheus and Loki), refreshed when
    the time range changes, sorted alphabetically, defaulting to All."""
    variable = (
        dashboard_builder.QueryVariable(name)
        .label(label)
        .datasource(datasource(uid))
        .query(query)
        .refresh(dashboard_model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dashboard_model.VariableSort.ALPHABETICAL_ASC)
        .multi(multi)
        .include_all(include_all)
    )
    if include_all:
        variable = variable.all_value(all_value).current(_all_option())
    if description:
        variable = variable.description(description)
    return variable


def textbox_variable(
    name: str, *, label: str, default: str = "", description: str = ""
) -> dashboard_builder.TextBoxVariable:
    """A free-text variable (a search box)."""
    variable = (
        dashboard_builder.TextBoxVariable(name)
        .label(label)
        .default_value(default)
        .current(dashboard_model.VariableOption(selected=True, text=default, value=default))
    )
    if description:
        variable = variable.description(description)
    return variable


def custom_variable(
    name: str, *, label: str, values: Sequence[str], description: str = ""
) -> dashboard_builder.CustomVariable:
    """A variable with a fixed list of values; the first is the default."""
    if not values:
        raise ValueError(f"custom variable {name!r} needs at least one value")
    options = [
        dashboard_model.VariableOption(selected=index == 0, text=value, value=value)
        for index, value in enumerate(values)
    ]
    variable = (
        dashboard_builder.CustomVariable(name)
        .label(label)
        .values(",".join(values))
        .options(options)
        .current(dashboard_model.VariableOption(selected=True, text=values[0], value=values[0]))
        .multi(False)
    )
    if description:
        variable = variable.description(description)
    return variable


# --------------------------------------------------------------------------------------------------------
# Layout


@dataclass(frozen=True, kw_only=True)
class Row:
    """A titled group of panels; rows are laid out top-down in the order given."""

    #: Row title shown in Grafana.
    title: str
    #: Panels left to right, wrapping at the grid width.
    panels: Sequence[cogbuilder.Builder[dashboard_model.Panel]] = field(default_factory=tuple)
    #: Collapsed rows keep their panels inside the row and load them only when expanded.
    #: Default: expanded.
    collapsed: bool = False


def _ref_id(index: int) -> str:
    return chr(ord("A") + index)


def assemble(
    *,
    uid: str,
    title: str,
    description: str,
    tags: Sequence[str],
    rows: Sequence[Row],
    variables: Sequence[cogbuilder.Builder[dashboard_model.VariableModel]] = (),
    time_from: str = "now-6h",
    refresh: str = "1m",
) -> dashboard_model.Dashboard:
    """Build the dashboard: rows top-down, panels positioned on the grid, ids 1..n in reading order."""
    if not rows:
        raise ValueError(f"dashboard {uid!r} needs at least one row")
    builder = (
        dashboard_builder.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(sorted({STACK_TAG, *tags}))
        .time(time_from, "now")
        .refresh(refresh)
        .timezone("browser")
        .tooltip(dashboard_model.DashboardCursorSync.CROSSHAIR)
        .readonly()
    )
    model = builder.build()
    model.editable = False
    model.version = 1
    panels: list[dashboard_model.Panel | dashboard_model.RowPanel] = []
    next_id = 1
    y = 0
    for row in rows:
        row_panel = dashboard_model.RowPanel(
            title=row.title,
            collapsed=row.collapsed,
            grid_pos=dashboard_model.GridPos(h=1, w=GRID_COLUMNS, x=0, y=y),
            id_val=next_id,
            panels=[],
        )
        next_id += 1
        y += 1
        x = 0
        line_height = 0
        placed: list[dashboard_model.Panel] = []
        for panel_builder in row.panels:
            panel = panel_builder.build()
            size = panel.grid_pos or dashboard_model.GridPos()
            if x + size.w > GRID_COLUMNS:
                x = 0
                y += line_height
                line_height = 0
            panel.grid_pos = dashboard_model.GridPos(h=size.h, w=size.w, x=x, y=y)
            panel.id_val = next_id
            next_id += 1
            for index, target in enumerate(panel.targets or []):
                target.ref_id = _ref_id(index)  # type: ignore[attr-defined]
            x += size.w
            line_height = max(line_height, size.h)
            placed.append(panel)
        y += line_height
        if row.collapsed:
            row_panel.panels = placed
            panels.append(row_panel)
        else:
            panels.append(row_panel)
            panels.extend(placed)
    model.panels = panels
    built = [variable.build() for variable in variables]
    # the data-source variables of every type the panels and variables query, first (others refer to them)
    used = {
        ref.type_val
        for ref in [
            *(p.datasource for p in _all_panels(panels)),
            *(v.datasource for v in built),
        ]
        if ref is not None
    }
    pickers = [datasource_variable(uid).build() for uid in DatasourceUid if str(uid) in used]
    model.templating = dashboard_model.DashboardDashboardTemplating(list_val=[*pickers, *built])
    return model


def _all_panels(
    panels: Sequence[dashboard_model.Panel | dashboard_model.RowPanel],
) -> list[dashboard_model.Panel | dashboard_model.RowPanel]:
    out: list[dashboard_model.Panel | dashboard_model.RowPanel] = []
    for panel in panels:
        out.append(panel)
        if isinstance(panel, dashboard_model.RowPanel):
            out.extend(panel.panels or [])
    return out


def to_json(model: dashboard_model.Dashboard) -> str:
    """Deterministic JSON text of a dashboard: sorted keys, two-space indent, trailing newline."""
    return json.dumps(model, cls=JSONEncoder, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
