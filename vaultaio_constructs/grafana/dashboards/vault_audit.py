"""Vault Audit Logs: authentications, policy violations and access patterns from the audit JSON in Loki.

Grafana Alloy labels each audit entry with the low-cardinality stream labels of
:data:`vaultaio_constructs.loglabels.AUDIT_EXTRA_LABELS` (``log_type="vault_audit"``, ``audit_type``,
``operation``, ``mount_type``, ``error`` = ``true``/``false``); everything else stays in the line and is read
with ``| json``. The parser names each extracted field explicitly so the JSON ``error`` message cannot clash
with the ``error`` stream label. Only response entries are counted: Vault writes a request and a response
entry per request, and the response entry carries the request, the auth block and the error.
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
    query_variable,
    stat,
    table,
    textbox_variable,
    timeseries,
)

UID = "vault-audit"
TITLE = "Vault Audit Logs"

#: Fields read from the audit entry (schema: Vault audit docs, "Audit entry JSON shape").
JSON_FIELDS = (
    'json request_path="request.path", remote_address="request.remote_address", '
    'display_name="auth.display_name", policy_allowed="auth.policy_results.allowed", error_message="error"'
)
_LOGIN_PATH = '| request_path=~"auth/.+/login.*"'
_PERMISSION_DENIED = '| error_message=~".*permission denied.*"'


def _responses(*, error: str | None = None) -> str:
    """Stream selector for audit responses following the dashboard's label variables."""
    error_matcher = f', error="{error}"' if error is not None else ""
    return (
        '{log_type="vault_audit", audit_type="response", pod=~"$pod", operation=~"$operation", '
        f'mount_type=~"$mount_type"{error_matcher}}}'
    )


def _pipeline(*, error: str | None = None, extra: str = "") -> str:
    """Selector, JSON extraction, the path and client search boxes, then ``extra`` filters."""
    filters = f' | request_path=~"$path" | remote_address=~"$client"{" " + extra if extra else ""}'
    return f'{_responses(error=error)} | {JSON_FIELDS} | __error__=""{filters}'


def _count_range(pipeline: str) -> str:
    return f"sum(count_over_time({pipeline} [$__range])) or vector(0)"


def _overview_row() -> Row:
    return Row(
        title="Overview",
        panels=[
            stat(
                "Requests",
                [logql(_count_range(_pipeline()), instant=True)],
                description="Audited requests (response entries) in the selected time range.",
                uid=DatasourceUid.LOKI,
                unit=Unit.SHORT,
                steps=("blue", ()),
            ),
            stat(
                "Errors",
                [logql(_count_range(_pipeline(error="true")), instant=True)],
                description="Requests whose response carried an error.",
                uid=DatasourceUid.LOKI,
                unit=Unit.SHORT,
                steps=("green", ((1, "orange"),)),
            ),
            stat(
                "Failed logins",
                [logql(_count_range(_pipeline(error="true", extra=_LOGIN_PATH)), instant=True)],
                description="Login requests (auth/<mount>/login...) that failed.",
                uid=DatasourceUid.LOKI,
                unit=Unit.SHORT,
                steps=("green", ((1, "orange"), (20, "red"))),
            ),
            stat(
                "Permission denied",
                [logql(_count_range(_pipeline(error="true", extra=_PERMISSION_DENIED)), instant=True)],
                description="Requests refused because no policy granted the capability.",
                uid=DatasourceUid.LOKI,
                unit=Unit.SHORT,
                steps=("green", ((1, "orange"), (20, "red"))),
            ),
            stat(
                "Distinct clients",
                [
                    logql(
                        f"count(sum by (remote_address) (count_over_time({_pipeline()} [$__range])))",
                        instant=True,
                    )
                ],
                description="Distinct client addresses (request.remote_address) seen.",
                uid=DatasourceUid.LOKI,
                unit=Unit.SHORT,
                steps=("blue", ()),
            ),
            stat(
                "Distinct identities",
                [
                    logql(
                        f"count(sum by (display_name) (count_over_time({_pipeline()} [$__range])))",
                        instant=True,
                    )
                ],
                description="Distinct token display names (auth.display_name) seen.",
                uid=DatasourceUid.LOKI,
                unit=Unit.SHORT,
                steps=("blue", ()),
            ),
        ],
    )


def _authentication_row() -> Row:
    return Row(
        title="Authentication",
        panels=[
            timeseries(
                "Logins: success and failure",
                [
                    logql(
                        f"sum(count_over_time({_pipeline(error='false', extra=_LOGIN_PATH)} [$__interval]))",
                        "success",
                    ),
                    logql(
                        f"sum(count_over_time({_pipeline(error='true', extra=_LOGIN_PATH)} [$__interval]))",
                        "failure",
                    ),
                ],
                description="Login requests per interval by outcome.",
                uid=DatasourceUid.LOKI,
                unit=Unit.SHORT,
                bars=True,
                width=12,
            ),
            timeseries(
                "Logins by auth method",
                [
                    logql(
                        f"sum by (mount_type) (count_over_time({_pipeline(extra=_LOGIN_PATH)} "
                        "[$__interval]))",
                        "{{mount_type}}",
                    )
                ],
                description="Login requests per interval by auth method type.",
                uid=DatasourceUid.LOKI,
                unit=Unit.SHORT,
                stacked=True,
                width=12,
            ),
            table(
                "Failed logins by path and client",
                [
                    logql(
                        "topk(20, sum by (request_path, remote_address) (count_over_time("
                        f"{_pipeline(error='true', extra=_LOGIN_PATH)} [$__range])))",
                        instant=True,
                    )
                ],
                description="Login paths (auth mount and role or user) and client addresses with failures.",
                uid=DatasourceUid.LOKI,
                sort_by="Value",
                width=24,
            ),
        ],
    )


def _policy_row() -> Row:
    return Row(
        title="Policy violations",
        panels=[
            timeseries(
                "Permission denied by identity",
                [
                    logql(
                        "sum by (display_name) (count_over_time("
                        f"{_pipeline(error='true', extra=_PERMISSION_DENIED)} [$__interval]))",
                        "{{display_name}}",
                    )
                ],
                description="Requests refused by policy per interval, by token display name.",
                uid=DatasourceUid.LOKI,
                unit=Unit.SHORT,
                stacked=True,
                width=12,
            ),
            table(
                "Permission denied: paths, identities and clients",
                [
                    logql(
                        "topk(20, sum by (request_path, display_name, remote_address) (count_over_time("
                        f"{_pipeline(error='true', extra=_PERMISSION_DENIED)} [$__range])))",
                        instant=True,
                    )
                ],
                description="Where permission was denied, for whom and from where.",
                uid=DatasourceUid.LOKI,
                sort_by="Value",
                width=12,
            ),
        ],
    )


def _access_row() -> Row:
    return Row(
        title="Access patterns",
        panels=[
            timeseries(
                "Requests by operation",
                [
                    logql(
                        f"sum by (operation) (count_over_time({_pipeline()} [$__interval]))",
                        "{{operation}}",
                    )
                ],
                description="Requests per interval by operation (create, read, update, delete, list...).",
                uid=DatasourceUid.LOKI,
                unit=Unit.SHORT,
                stacked=True,
                width=12,
            ),
            timeseries(
                "Requests by mount type",
                [
                    logql(
                        f"sum by (mount_type) (count_over_time({_pipeline()} [$__interval]))",
                        "{{mount_type}}",
                    )
                ],
                description="Requests per interval by the type of mount they hit (kv, pki, token, "
                "userpass...).",
                uid=DatasourceUid.LOKI,
                unit=Unit.SHORT,
                stacked=True,
                width=12,
            ),
            table(
                "Top paths",
                [
                    logql(
                        f"topk(20, sum by (request_path) (count_over_time({_pipeline()} [$__range])))",
                        instant=True,
                    )
                ],
                description="Most requested paths.",
                uid=DatasourceUid.LOKI,
                sort_by="Value",
                width=8,
            ),
            table(
                "Top clients",
                [
                    logql(
                        f"topk(20, sum by (remote_address) (count_over_time({_pipeline()} [$__range])))",
                        instant=True,
                    )
                ],
                description="Client addresses with the most requests.",
                uid=DatasourceUid.LOKI,
                sort_by="Value",
                width=8,
            ),
            table(
                "Top identities",
                [
                    logql(
                        f"topk(20, sum by (display_name) (count_over_time({_pipeline()} [$__range])))",
                        instant=True,
                    )
                ],
                description="Token display names with the most requests.",
                uid=DatasourceUid.LOKI,
                sort_by="Value",
                width=8,
            ),
            table(
                "Errors by path",
                [
                    logql(
                        "topk(20, sum by (request_path, error_message) (count_over_time("
                        f"{_pipeline(error='true')} [$__range])))",
                        instant=True,
                    )
                ],
                description="Paths returning errors, with the error text.",
                uid=DatasourceUid.LOKI,
                sort_by="Value",
                width=24,
            ),
        ],
    )


def _entries_row() -> Row:
    return Row(
        title="Audit entries",
        panels=[
            logs(
                "Audit responses",
                [logql(_pipeline(), max_lines=1000)],
                description="Raw audit response entries matching the filters; expand a line for all fields.",
            )
        ],
    )


def vault_audit() -> dashboard_model.Dashboard:
    """The Vault Audit Logs dashboard: overview, authentication, policy violations, access, raw entries."""
    return assemble(
        uid=UID,
        title=TITLE,
        description="Authentications, permission-denied requests and access patterns by path, operation and "
        "client, from Vault's audit log in Loki.",
        tags=["vault", "audit", "logs"],
        variables=[
            query_variable(
                "pod",
                label="Vault pod",
                uid=DatasourceUid.LOKI,
                query='label_values({log_type="vault_audit"}, pod)',
            ),
            query_variable(
                "operation",
                label="Operation",
                uid=DatasourceUid.LOKI,
                query='label_values({log_type="vault_audit"}, operation)',
            ),
            query_variable(
                "mount_type",
                label="Mount type",
                uid=DatasourceUid.LOKI,
                query='label_values({log_type="vault_audit"}, mount_type)',
            ),
            textbox_variable(
                "path",
                label="Path (regex)",
                default=".*",
                description="RE2 regular expression matched against request.path.",
            ),
            textbox_variable(
                "client",
                label="Client address (regex)",
                default=".*",
                description="RE2 regular expression matched against request.remote_address.",
            ),
        ],
        rows=[_overview_row(), _authentication_row(), _policy_row(), _access_row(), _entries_row()],
    )
