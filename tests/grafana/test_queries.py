"""Every query the dashboards and data sources run: PromQL compiles (promtool), metrics exist in the
catalogue under the job they are selected from, LogQL selectors use only the labels Alloy attaches."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.grafana.queries import (
    Query,
    dashboard_queries,
    label_values_selector,
    logql_json_labels,
    logql_stream_selectors,
    promql_selectors,
    referenced_variables,
    substitute,
    variable_defaults,
)
from tests.tools import require_tool
from vaultaio_constructs.catalog import KNOWN_METRICS
from vaultaio_constructs.grafana import provisioning
from vaultaio_constructs.loglabels import ALL_LOG_LABELS

NAMES = ["vault-overview", "vault-audit", "vm-system", "container-logs", "trace-explorer"]
#: Dashboards with Prometheus panels (the audit dashboard reads only Loki).
PROMQL_NAMES = [name for name in NAMES if name != "vault-audit"]


def _promql(model: dict[str, Any]) -> list[Query]:
    """PromQL of panels and variables; ``label_values(sel, label)`` contributes its selector."""
    found = []
    for query in dashboard_queries(model):
        if query.datasource != "prometheus":
            continue
        selector = label_values_selector(query.expr)
        found.append(Query(query.dashboard, query.panel, query.datasource, selector or query.expr))
    return found


def _logql(model: dict[str, Any]) -> list[Query]:
    found = []
    for query in dashboard_queries(model):
        if query.datasource != "loki":
            continue
        selector = label_values_selector(query.expr)
        found.append(Query(query.dashboard, query.panel, query.datasource, selector or query.expr))
    return found


def _provisioned_promql() -> list[Query]:
    return [
        Query("datasources", name, "prometheus", expr) for name, expr in provisioning.TRACE_TO_METRICS_QUERIES
    ]


def _rule_file(tmp_path: Path, name: str, exprs: list[str]) -> Path:
    rules = [{"record": f"dashboard:{name.replace('-', '_')}:q{i}", "expr": e} for i, e in enumerate(exprs)]
    path = tmp_path / f"{name}.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": name, "rules": rules}]}, sort_keys=True))
    return path


def _promtool_check(tmp_path: Path, name: str, exprs: list[str]) -> None:
    promtool = require_tool("promtool")
    path = _rule_file(tmp_path, name, exprs)
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"promtool rejected a query of {name}:\n{result.stdout}\n{result.stderr}"
    assert f"SUCCESS: {len(exprs)} rules found" in result.stdout


@pytest.mark.parametrize("name", PROMQL_NAMES)
def test_every_promql_expression_compiles(
    models: dict[str, dict[str, Any]], name: str, tmp_path: Path
) -> None:
    model = models[name]
    values = variable_defaults(model)
    exprs = [substitute(q.expr, values) for q in _promql(model)]
    assert exprs
    for expr in exprs:
        assert "$" not in expr, f"unsubstituted variable in {expr!r}"
    _promtool_check(tmp_path, name, exprs)


def test_provisioned_promql_compiles(tmp_path: Path) -> None:
    _promtool_check(tmp_path, "datasources", [q.expr for q in _provisioned_promql()])


def test_promtool_check_catches_a_broken_query(tmp_path: Path) -> None:
    """Guard against a check that cannot fail: promtool must reject a malformed expression."""
    promtool = require_tool("promtool")
    path = _rule_file(tmp_path, "broken", ['sum by (instance (rate(up{job="vault"}[5m]))'])
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0


def _metric_problems(queries: list[Query]) -> list[str]:
    problems = []
    for query in queries:
        for selector in promql_selectors(query.expr):
            job = selector.equal("job")
            where = f"{query.dashboard} / {query.panel}: {selector.metric}"
            if job is None:
                problems.append(f'{where} has no job="..." matcher')
            elif job not in KNOWN_METRICS:
                problems.append(f"{where} selects unknown job {job!r}")
            elif selector.metric not in KNOWN_METRICS[job]:
                problems.append(f"{where} is not exported by job {job!r} (vaultaio_constructs/catalog.py)")
    return problems


@pytest.mark.parametrize("name", PROMQL_NAMES)
def test_every_metric_is_in_the_catalogue_under_its_job(models: dict[str, dict[str, Any]], name: str) -> None:
    queries = _promql(models[name])
    assert not _metric_problems(queries)


def test_provisioned_metrics_are_in_the_catalogue() -> None:
    assert not _metric_problems(_provisioned_promql())


def test_metric_reader_finds_names_and_jobs() -> None:
    """The reader behind the catalogue check sees metrics inside functions, by-clauses and binary ops."""
    expr = (
        "sum by (instance) (rate("
        'vault_core_handle_request_sum{job="vault", instance=~"$i"}[$__rate_interval]))'
        ' / on (instance) count by (cpu) (node_cpu_seconds_total{job="node", mode="idle"}) or vector(0)'
        " - time() + made_up_metric"
    )
    found = [(s.metric, s.equal("job")) for s in promql_selectors(expr)]
    assert found == [
        ("vault_core_handle_request_sum", "vault"),
        ("node_cpu_seconds_total", "node"),
        ("made_up_metric", None),
    ]
    problems = _metric_problems([Query("t", "p", "prometheus", 'vault_core_sealed{job="vault"} + made_up')])
    assert len(problems) == 2


def _label_problems(queries: list[Query]) -> list[str]:
    problems = []
    for query in queries:
        for matchers in logql_stream_selectors(query.expr):
            where = f"{query.dashboard} / {query.panel}"
            unknown = {label for label, _, _ in matchers} - ALL_LOG_LABELS
            if unknown:
                problems.append(f"{where}: labels {sorted(unknown)} are not attached by Alloy (loglabels.py)")
            # Loki needs one matcher that cannot match the empty string; variables may be "All" (.*).
            worst_case = [
                (op, substitute(value, dict.fromkeys(referenced_variables(value), ".*")))
                for _, op, value in matchers
            ]
            if not any(
                (op == "=" and value) or (op == "=~" and not re.fullmatch(value, ""))
                for op, value in worst_case
            ):
                problems.append(f"{where}: selector {matchers} can match every stream")
        for label in logql_json_labels(query.expr):
            if label in ALL_LOG_LABELS:
                problems.append(f"{where}: | json extracts {label!r}, which clashes with a stream label")
    return problems


@pytest.mark.parametrize("name", NAMES)
def test_every_logql_selector_uses_pipeline_labels(models: dict[str, dict[str, Any]], name: str) -> None:
    queries = _logql(models[name])
    assert all(logql_stream_selectors(q.expr) for q in queries), "every LogQL query needs a stream selector"
    assert not _label_problems(queries)


def test_provisioned_logql_uses_pipeline_labels() -> None:
    query = provisioning.TRACE_TO_LOGS_QUERY
    assert logql_stream_selectors(query) == [[("job", "=", "kubernetes-pods")]]
    assert not _label_problems([Query("datasources", "tracesToLogsV2", "loki", query)])


def test_label_check_catches_an_unknown_label() -> None:
    bad = Query("t", "p", "loki", '{service_name="vault", namespace=~".*"} | json error="error"')
    problems = _label_problems([bad])
    assert any("service_name" in p for p in problems)
    assert any("clashes" in p for p in problems)
    assert any("every stream" in p for p in _label_problems([Query("t", "p", "loki", '{pod=~"$pod"}')]))


def test_audit_queries_read_the_audit_fields_under_their_own_names(models: dict[str, dict[str, Any]]) -> None:
    exprs = [q.expr for q in _logql(models["vault-audit"])]
    assert any('log_type="vault_audit", audit_type="response"' in e for e in exprs)
    json_labels = {label for e in exprs for label in logql_json_labels(e)}
    assert json_labels == {
        "request_path",
        "remote_address",
        "display_name",
        "policy_allowed",
        "error_message",
    }
    assert any('request_path=~"auth/.+/login.*"' in e and 'error="true"' in e for e in exprs)
    assert any('error_message=~".*permission denied.*"' in e for e in exprs)
