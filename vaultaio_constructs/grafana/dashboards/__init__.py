"""The stack's dashboards as code, and the value type the Grafana construct provisions them from.

Each dashboard module has a factory returning the typed ``Dashboard`` model built with grafana-foundation-sdk;
:func:`builtin_dashboards` serialises them into :class:`GrafanaDashboard` values (deterministic JSON). The
construct puts each value into a ConfigMap labelled ``grafana_dashboard: "1"``; users add their own with
:meth:`GrafanaDashboard.from_model` or :meth:`GrafanaDashboard.from_json`.
"""

from __future__ import annotations

import functools
import json
from typing import Annotated, Final, Self

from grafana_foundation_sdk.models import dashboard as dashboard_model
from pydantic import Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.common import PROPS_CONFIG, DnsLabel
from vaultaio_constructs.fielddocs import document_fields
from vaultaio_constructs.grafana.dashboards.common import DatasourceUid, to_json
from vaultaio_constructs.grafana.dashboards.container_logs import container_logs
from vaultaio_constructs.grafana.dashboards.trace_explorer import trace_explorer
from vaultaio_constructs.grafana.dashboards.vault_audit import vault_audit
from vaultaio_constructs.grafana.dashboards.vault_overview import vault_overview
from vaultaio_constructs.grafana.dashboards.vm_system import vm_system

#: Grafana's limit on dashboard UIDs.
MAX_UID_LENGTH: Final = 40


def _datasource_uids(node: object) -> set[str]:
    """UIDs of the data sources a parsed dashboard (or part) needs: every ``"datasource": {"uid": ...}``
    reference, where a reference through a picker variable (``"uid": "${datasource}"``, see
    :data:`~vaultaio_constructs.grafana.dashboards.common.DATASOURCE_VARIABLES`) means the provisioned data
    source of its ``type`` (type and UID are equal for the stack's data sources), and every picker variable
    itself (``"type": "datasource"``, ``"query": <type>``)."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("datasource")
        if isinstance(ref, dict) and isinstance(ref.get("uid"), str):
            uid = ref["uid"]
            found.add(str(ref.get("type", "")) if uid.startswith("${") else uid)
        if node.get("type") == "datasource" and isinstance(node.get("query"), str):
            found.add(node["query"])
        for value in node.values():
            found |= _datasource_uids(value)
    elif isinstance(node, list):
        for value in node:
            found |= _datasource_uids(value)
    return found


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class GrafanaDashboard:
    """One dashboard to provision: a unique key, its title and its JSON model.

    ``name`` keys the dashboard in the construct (duplicates are refused there) and names its file
    (``<name>.json``) and ConfigMap. The JSON must be an object whose ``title`` equals ``title`` and which
    carries a ``uid`` (so the dashboard keeps its URL across restarts).
    """

    name: DnsLabel = Field(
        description="Key of the dashboard: a DNS label, used for the file and ConfigMap names.",
    )
    title: Annotated[str, Field(min_length=1)] = Field(
        description="Dashboard title; must equal the JSON model's ``title``.",
    )
    json: Annotated[str, Field(min_length=2)] = Field(description="The dashboard JSON model.")

    def __post_init__(self) -> None:
        try:
            model = json.loads(self.json)
        except json.JSONDecodeError as err:
            raise ValueError(f"'json' of dashboard {self.name!r} is not valid JSON: {err}") from None
        if not isinstance(model, dict):
            raise ValueError(
                f"'json' of dashboard {self.name!r} must be a JSON object, got {type(model).__name__}"
            )
        if model.get("title") != self.title:
            raise ValueError(
                f"'title' ({self.title!r}) must equal the dashboard JSON's title ({model.get('title')!r})"
            )
        uid = model.get("uid")
        if not isinstance(uid, str) or not 1 <= len(uid) <= MAX_UID_LENGTH:
            raise ValueError(
                f"dashboard {self.name!r} needs a 'uid' string of 1 to {MAX_UID_LENGTH} characters, got "
                f"{uid!r}"
            )

    @property
    def uid(self) -> str:
        """The dashboard's UID (from the JSON model)."""
        uid: str = json.loads(self.json)["uid"]
        return uid

    @property
    def datasource_uids(self) -> frozenset[str]:
        """UIDs of every data source the dashboard refers to (``"datasource": {"uid": ...}`` anywhere in it:
        panels, targets and template variables)."""
        return frozenset(_datasource_uids(json.loads(self.json)))

    def restricted_to(self, uids: frozenset[str] | set[str]) -> GrafanaDashboard | None:
        """This dashboard without what needs a data source outside ``uids``: panels (in rows too) and
        template variables that query one, then rows left empty. ``None`` when no panel is left.

        For the built-in dashboards of a stack composed without Loki or Tempo: the Vault Overview keeps
        its metrics and loses its audit-log panels, the Vault Audit Logs dashboard goes away.
        """
        if self.datasource_uids <= uids:
            return self
        model = json.loads(self.json)

        def usable(node: object) -> bool:
            return _datasource_uids(node) <= uids

        def keep(panels: list[dict[str, object]]) -> list[dict[str, object]]:
            kept = []
            for panel in panels:
                if panel.get("type") == "row":
                    nested = keep(list(panel.get("panels") or []))  # type: ignore[call-overload]
                    if panel.get("panels") and not nested:
                        continue
                    kept.append({**panel, "panels": nested})
                elif usable({k: v for k, v in panel.items() if k != "panels"}):
                    kept.append(panel)
            # an expanded row followed by nothing of its own is empty
            return [
                p
                for i, p in enumerate(kept)
                if p.get("type") != "row"
                or p.get("panels")
                or (i + 1 < len(kept) and kept[i + 1].get("type") != "row")
            ]

        model["panels"] = keep(model.get("panels") or [])
        if not [p for p in model["panels"] if p.get("type") != "row"]:
            return None
        templating = model.get("templating") or {}
        if templating.get("list"):
            templating["list"] = [v for v in templating["list"] if usable(v)]
        text = json.dumps(model, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        return GrafanaDashboard(name=self.name, title=self.title, json=text)

    @property
    def file_name(self) -> str:
        """File name in the dashboards directory and key in the ConfigMap."""
        return f"{self.name}.json"

    @classmethod
    def from_model(cls, name: str, model: dashboard_model.Dashboard) -> Self:
        """From a grafana-foundation-sdk ``Dashboard`` model (serialised with sorted keys)."""
        return cls(name=name, title=model.title or "", json=to_json(model))

    @classmethod
    def from_json(cls, name: str, text: str) -> Self:
        """From dashboard JSON text (for example exported from Grafana); the title is read from it."""
        try:
            model = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"'json' of dashboard {name!r} is not valid JSON: {err}") from None
        title = model.get("title") if isinstance(model, dict) else None
        return cls(name=name, title=title if isinstance(title, str) else "", json=text)


#: The data source each built-in dashboard is about: without it the dashboard is left out; without any
#: other one it uses, it loses those panels only (:meth:`GrafanaDashboard.restricted_to`).
BUILTIN_PRIMARY_DATASOURCE: Final = {
    "vault-overview": DatasourceUid.PROMETHEUS,
    "vault-audit": DatasourceUid.LOKI,
    "vm-system": DatasourceUid.PROMETHEUS,
    "container-logs": DatasourceUid.LOKI,
    "trace-explorer": DatasourceUid.TEMPO,
}


@functools.cache
def builtin_dashboards() -> tuple[GrafanaDashboard, ...]:
    """The five dashboards the stack ships, from health overview to detail (built once per process:
    they depend on nothing but this code, and the result is immutable)."""
    return (
        GrafanaDashboard.from_model("vault-overview", vault_overview()),
        GrafanaDashboard.from_model("vault-audit", vault_audit()),
        GrafanaDashboard.from_model("vm-system", vm_system()),
        GrafanaDashboard.from_model("container-logs", container_logs()),
        GrafanaDashboard.from_model("trace-explorer", trace_explorer()),
    )


__all__ = [
    "BUILTIN_PRIMARY_DATASOURCE",
    "DatasourceUid",
    "GrafanaDashboard",
    "builtin_dashboards",
    "container_logs",
    "trace_explorer",
    "vault_audit",
    "vault_overview",
    "vm_system",
]
