"""The whole stack's settings: one typed tree, parsed from an optional YAML file.

:class:`VaultAioProps` is both the Python API (``VaultAioChart(app, "vault-aio", VaultAioProps(...))``)
and the schema of ``vaultaio.yaml``: the file is validated into it by pydantic, so an unknown key, a wrong
type or an impossible value fails before any YAML is written, with the key's path, the value and what is
accepted.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from vaultaio_constructs.alertmanager.construct import AlertmanagerProps
from vaultaio_constructs.alloy.construct import AlloyProps
from vaultaio_constructs.chrony.construct import ChronyProps
from vaultaio_constructs.common import PROPS_CONFIG, DnsLabel, Hostname
from vaultaio_constructs.grafana.construct import GrafanaProps
from vaultaio_constructs.loki.construct import LokiProps
from vaultaio_constructs.network import NetworkProps
from vaultaio_constructs.profiles import Profile
from vaultaio_constructs.prometheus.construct import PrometheusProps
from vaultaio_constructs.tempo.construct import TempoProps
from vaultaio_constructs.vault.construct import VaultProps

#: Environment variable naming a settings file; otherwise ``vaultaio.yaml`` beside ``app.py`` is used.
SETTINGS_ENV = "VAULTAIO_SETTINGS"
DEFAULT_SETTINGS_FILE = "vaultaio.yaml"


@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class VaultAioProps:
    """Settings of the complete stack. Every field has a working default."""

    #: Namespace holding every object of the stack.
    namespace: DnsLabel = "vault-aio"
    #: Value of ``app.kubernetes.io/instance`` on every object; part of every selector.
    instance: DnsLabel = "vault-aio"
    #: The cluster's DNS domain (for fully qualified Service names).
    cluster_domain: Hostname = "cluster.local"
    #: StorageClass for every PVC (``None``: the cluster's default StorageClass).
    storage_class: DnsLabel | None = None
    #: Sizing profile: ``small`` fits a 2 vCPU / 4 GiB VM with k3s; ``production`` raises every size.
    profile: Profile = Profile.SMALL
    network: NetworkProps = Field(default_factory=NetworkProps)
    vault: VaultProps = Field(default_factory=VaultProps)
    prometheus: PrometheusProps = Field(default_factory=PrometheusProps)
    alertmanager: AlertmanagerProps = Field(default_factory=AlertmanagerProps)
    grafana: GrafanaProps = Field(default_factory=GrafanaProps)
    loki: LokiProps = Field(default_factory=LokiProps)
    tempo: TempoProps = Field(default_factory=TempoProps)
    alloy: AlloyProps = Field(default_factory=AlloyProps)
    chrony: ChronyProps = Field(default_factory=ChronyProps)


class SettingsError(ValueError):
    """The settings file is invalid; the message lists every problem with its key path."""


_ADAPTER: TypeAdapter[VaultAioProps] = TypeAdapter(VaultAioProps)


def _fields_at(loc: Sequence[int | str]) -> list[str]:
    """Accepted keys of the dataclass at ``loc`` (for 'unknown setting' messages)."""
    cls: Any = VaultAioProps
    for part in loc:
        if not isinstance(part, str) or not dataclasses.is_dataclass(cls):
            return []
        hints = typing.get_type_hints(cls)
        if part not in hints:
            return []
        cls = next((a for a in typing.get_args(hints[part]) if dataclasses.is_dataclass(a)), hints[part])
    return [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else []


def format_validation_error(err: ValidationError, source: str) -> str:
    lines = [f"invalid settings in {source}:"]
    for e in err.errors():
        loc = [p for p in e["loc"] if p not in ("function-after",)]
        key = ".".join(str(p) for p in loc) or "(top level)"
        if e["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
            accepted = _fields_at(loc[:-1])
            hint = f"; accepted keys: {', '.join(accepted)}" if accepted else ""
            lines.append(f"  {key}: unknown setting{hint}")
            continue
        msg = e["msg"].removeprefix("Value error, ")
        lines.append(f"  {key}: {msg} (got {e.get('input')!r})")
    return "\n".join(lines)


def parse_settings(data: Mapping[str, Any] | None, source: str = "settings") -> VaultAioProps:
    """Validate a settings mapping (as loaded from YAML) into :class:`VaultAioProps`."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise SettingsError(
            f"invalid settings in {source}: the top level must be a mapping, got {type(data).__name__}"
        )
    try:
        return _ADAPTER.validate_python(dict(data))
    except ValidationError as err:
        raise SettingsError(format_validation_error(err, source)) from None


def load_settings(
    path: str | os.PathLike[str] | None = None, *, base_dir: Path | None = None
) -> VaultAioProps:
    """Load settings from ``path``, ``$VAULTAIO_SETTINGS``, or ``vaultaio.yaml`` in ``base_dir``.

    No file at all means the defaults. A file named explicitly (argument or environment) must exist.
    """
    explicit = path or os.environ.get(SETTINGS_ENV)
    if explicit:
        file = Path(explicit)
        if not file.is_file():
            raise SettingsError(
                f"settings file {file} (from {'argument' if path else SETTINGS_ENV}) does not exist"
            )
    else:
        file = (base_dir or Path.cwd()) / DEFAULT_SETTINGS_FILE
        if not file.is_file():
            return VaultAioProps()
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise SettingsError(f"invalid settings in {file}: not valid YAML: {err}") from None
    return parse_settings(data, str(file))
