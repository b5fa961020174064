"""The whole stack's settings: one typed tree, parsed from an optional YAML file.

:class:`VaultAioProps` is both the Python API (``VaultAioChart(app, "vault-aio", VaultAioProps(...))``)
and the schema of ``vaultaio.yaml``: the file is validated into it by pydantic, so an unknown key, a wrong
type or an impossible value fails before any YAML is written, with the key's path, the value and what is
accepted.

Types are strict on both paths (``PROPS_CONFIG`` sets ``strict=True``): ``"no"`` is not a boolean and
``"3"`` is not an integer. The file is validated in pydantic's JSON mode, where a YAML list is a tuple
and a string names an enum member, exactly as in JSON; the Python API takes exactly the annotated types
(tuples, enum members, props instances), which is also what ``mypy`` checks. A key written twice in one
mapping of the file is an error naming the key and both lines (YAML would silently keep the last one).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from vaultaio_constructs.alertmanager.props import AlertmanagerProps
from vaultaio_constructs.alloy.props import AlloyProps
from vaultaio_constructs.chrony.props import ChronyProps
from vaultaio_constructs.common import (
    DEFAULT_KUBERNETES_VERSION,
    LITERAL_SECRET_ERROR,
    LITERAL_SECRET_MESSAGE,
    PROPS_CONFIG,
    DnsLabel,
    Hostname,
    KubernetesVersion,
    SecretKeyRef,
    StackNamespace,
    redact_url,
    redact_urls,
    url_credentials,
)
from vaultaio_constructs.fielddocs import document_fields
from vaultaio_constructs.grafana.props import GrafanaProps
from vaultaio_constructs.integrations.props import MonitoringProps
from vaultaio_constructs.loki.props import LokiProps
from vaultaio_constructs.network_props import NetworkProps
from vaultaio_constructs.placement import default_node_namespace, namespace_conflicts
from vaultaio_constructs.profiles import Profile
from vaultaio_constructs.prometheus.props import PrometheusProps
from vaultaio_constructs.schema import SCHEMA_FILE
from vaultaio_constructs.tempo.props import TempoProps
from vaultaio_constructs.vault.props import VaultProps

#: Environment variable naming a settings file; otherwise ``vaultaio.yaml`` beside ``app.py`` is used.
SETTINGS_ENV = "VAULTAIO_SETTINGS"
DEFAULT_SETTINGS_FILE = "vaultaio.yaml"


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class VaultAioProps:
    """Settings of the complete stack. Every field has a working default."""

    namespace: StackNamespace = Field(
        default="vault-aio",
        description=(
            "Main namespace of the stack: every component except the node agents (Pod Security "
            "``restricted``). Dedicated to the stack: it gets a default-deny NetworkPolicy and Pod Security "
            "labels, and ``kubectl delete -k`` deletes it, so Kubernetes' own namespaces (``kube-system``, "
            "``kube-public``, ``kube-node-lease``, ``default``) and those of the cluster DNS and the ingress "
            "controller are refused."
        ),
    )
    node_namespace: StackNamespace | None = Field(
        default=None,
        description=(
            "Namespace of the node agents, Alloy and Chrony, which need host access: the only namespace that "
            "admits privileged pods, dedicated to them as ``namespace`` is to the stack (``namespace`` "
            "itself is refused: it would admit privileged pods beside Vault). ``None``: ``<namespace>-node``."
        ),
    )
    instance: DnsLabel = Field(
        default="vault-aio",
        description="Value of ``app.kubernetes.io/instance`` on every object; part of every selector.",
    )
    cluster_domain: Hostname = Field(
        default="cluster.local",
        description="The cluster's DNS domain (for fully qualified Service names).",
    )
    storage_class: DnsLabel | None = Field(
        default=None,
        description="StorageClass for every PVC (``None``: the cluster's default StorageClass).",
    )
    profile: Profile = Field(
        default=Profile.SMALL,
        description=(
            "Sizing profile: ``small`` fits a 2 vCPU / 4 GiB VM with k3s; ``production`` raises every size."
        ),
    )
    kubernetes_version: KubernetesVersion = Field(
        default=DEFAULT_KUBERNETES_VERSION,
        description=(
            "Oldest Kubernetes minor version the manifests must apply to (``1.27`` or later). API fields "
            "newer than it are not written: from ``1.31`` Alloy's host mounts are recursively read-only "
            "(``recursiveReadOnly: Enabled``, which also needs containerd >= 2.0 or CRI-O >= 1.30 and Linux "
            ">= 5.12, else Alloy's pods do not start) and the node's filesystems are measured; below it they "
            'are not (see README, "Security").'
        ),
    )
    network: NetworkProps = Field(
        default_factory=NetworkProps,
        description=(
            "Network settings that the generated NetworkPolicies need about the cluster around the stack."
        ),
    )
    vault: VaultProps = Field(default_factory=VaultProps, description="Settings of the Vault component.")
    prometheus: PrometheusProps = Field(
        default_factory=PrometheusProps,
        description="Settings of the Prometheus component.",
    )
    alertmanager: AlertmanagerProps = Field(
        default_factory=AlertmanagerProps,
        description="Settings of the Alertmanager component.",
    )
    grafana: GrafanaProps = Field(
        default_factory=GrafanaProps,
        description="Settings of the Grafana component.",
    )
    loki: LokiProps = Field(
        default_factory=LokiProps,
        description="Settings of Loki. Defaults keep two weeks of logs on the profile's PVC size.",
    )
    tempo: TempoProps = Field(
        default_factory=TempoProps,
        description="Settings of Tempo. Defaults keep a week of traces on the profile's PVC size.",
    )
    alloy: AlloyProps = Field(default_factory=AlloyProps, description="Settings of the Alloy collector.")
    chrony: ChronyProps = Field(
        default_factory=ChronyProps,
        description="Settings of Chrony. The default synchronises with Google Public NTP, client only.",
    )
    monitoring: MonitoringProps = Field(
        default_factory=MonitoringProps,
        description=(
            "Monitoring the cluster already runs (Prometheus Operator custom resources); nothing by default."
        ),
    )

    def __post_init__(self) -> None:
        node_namespace = self.node_namespace or default_node_namespace(self.namespace)
        problems = namespace_conflicts(
            self.namespace,
            node_namespace,
            dns_namespace=self.network.dns.namespace,
            ingress_namespace_labels=self.network.ingress_controller.namespace_labels,
        )
        problems += self._impossible_combinations()
        issuer = self.vault.tls.issuer
        warning_days = self.prometheus.alerts.thresholds.tls_cert_warning_days
        if issuer is not None and issuer.renew_before_hours <= warning_days * 24:
            problems.append(
                f"'vault.tls.issuer.renew_before_hours' ({issuer.renew_before_hours}) must exceed "
                f"'prometheus.alerts.thresholds.tls_cert_warning_days' ({warning_days}) x 24 = "
                f"{warning_days * 24}: cert-manager must renew before the expiry warning fires, so the "
                "warning means 'Vault still serves the old certificate' (reload it, see docs/RUNBOOK.md)"
            )
        if problems:
            raise ValueError("; ".join(problems))

    # -- composition: which components run, which are external, what follows -------------------------------
    @property
    def has_prometheus(self) -> bool:
        """The stack has a Prometheus: its own or ``prometheus.external``."""
        return self.prometheus.enabled or self.prometheus.external is not None

    @property
    def has_alertmanager(self) -> bool:
        return self.alertmanager.enabled or self.alertmanager.external is not None

    @property
    def has_loki(self) -> bool:
        return self.loki.enabled or self.loki.external is not None

    @property
    def has_tempo(self) -> bool:
        return self.tempo.enabled or self.tempo.external is not None

    @property
    def alloy_pipelines(self) -> AlloyPipelines:
        """What Alloy ships: each ``alloy.ship_*`` setting, or (``None``) whether its destination exists."""
        a = self.alloy
        return AlloyPipelines(
            logs=self.has_loki if a.ship_logs is None else a.ship_logs,
            metrics=self.has_prometheus if a.ship_metrics is None else a.ship_metrics,
            traces=self.has_tempo if a.ship_traces is None else a.ship_traces,
        )

    def _impossible_combinations(self) -> list[str]:
        """Settings that cannot work together, each naming the keys and what to do."""
        problems = []
        if self.grafana.enabled and not self.has_prometheus:
            problems.append(
                "grafana.enabled is true but there is no Prometheus (prometheus.enabled is false and "
                "prometheus.external is not set): Grafana's dashboards query Prometheus; set "
                "prometheus.external or grafana.enabled: false"
            )
        for evaluator, what in (
            ("prometheus", "evaluates the stack's alert rules"),
            ("loki", "runs the audit-log alert rule (VaultLoginFailuresSpike) in its ruler"),
        ):
            enabled = self.prometheus.enabled if evaluator == "prometheus" else self.loki.enabled
            if enabled and not self.has_alertmanager:
                problems.append(
                    f"{evaluator}.enabled is true and {what}, but there is no Alertmanager "
                    "(alertmanager.enabled is false and alertmanager.external is not set): the alerts would "
                    f"go nowhere; set alertmanager.external, alertmanager.enabled: true or "
                    f"{evaluator}.enabled: false"
                )
        if self.alloy.enabled:
            for kind, setting, store, present in (
                ("logs", self.alloy.ship_logs, "loki", self.has_loki),
                ("metrics", self.alloy.ship_metrics, "prometheus", self.has_prometheus),
                ("traces", self.alloy.ship_traces, "tempo", self.has_tempo),
            ):
                if setting is True and not present:
                    problems.append(
                        f"alloy.ship_{kind} is true but there is no {store} ({store}.enabled is false and "
                        f"{store}.external is not set): set {store}.external or alloy.ship_{kind}: false"
                    )
            pipelines = self.alloy_pipelines
            if not (pipelines.logs or pipelines.metrics or pipelines.traces):
                problems.append(
                    "alloy.enabled is true but it has nothing to ship: no Loki, Prometheus or Tempo (their "
                    "'enabled' false and no 'external'), or alloy.ship_logs/ship_metrics/ship_traces all "
                    "false; set alloy.enabled: false or give it a destination"
                )
            elif self.alloy.otlp_clients and not pipelines.traces:
                problems.append(
                    "alloy.otlp_clients is set but Alloy forwards no traces (no Tempo: tempo.enabled is "
                    "false and tempo.external is not set, or alloy.ship_traces is false): remove "
                    "alloy.otlp_clients or give it a Tempo"
                )
        return problems


@dataclasses.dataclass(frozen=True, kw_only=True)
class AlloyPipelines:
    """What Alloy ships, resolved from its settings and the stack's composition."""

    logs: bool
    metrics: bool
    traces: bool


class SettingsError(ValueError):
    """The settings file is invalid; the message lists every problem with its key path."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key written twice in one mapping (YAML keeps the last silently).

    Keys merged in with ``<<`` may still be overridden: that is what a merge is for.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base constructor reports it
                break
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} on line {line} (first on line {first}): remove one of them",
                    key_node.start_mark,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


_ADAPTER: TypeAdapter[VaultAioProps] = TypeAdapter(VaultAioProps)

#: Types a settings value may have after YAML loading (what JSON can hold).
_JSON_SCALARS = (str, int, float, bool, type(None))


def _json_problems(value: Any, loc: tuple[str, ...]) -> list[str]:
    """Values YAML can hold but JSON (and so the settings schema) cannot: non-string keys, dates..."""
    key = ".".join(loc) or "(top level)"
    if isinstance(value, Mapping):
        problems = []
        for k, v in value.items():
            if not isinstance(k, str):
                problems.append(
                    f"  {key}: key {k!r} is a YAML {type(k).__name__}, not a string: quote it ('{k}': ...)"
                )
                continue
            problems += _json_problems(v, (*loc, k))
        return problems
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _json_problems(item, (*loc, str(i)))]
    if not isinstance(value, _JSON_SCALARS):
        return [f"  {key}: {value!r} is a YAML {type(value).__name__}: quote it to make it a string"]
    return []


def validate_settings_value(tp: Any, data: Any, source: str = "settings") -> Any:
    """Validate settings ``data`` (as loaded from YAML) into ``tp`` the way the settings file is.

    JSON mode, strict: lists become tuples, strings name enum members, and nothing is coerced (``"3"`` is
    not an integer, ``"no"`` not a boolean). Any props type works (``Seal``, ``VaultProps``...), which is
    how tests and tools build props from settings-shaped data.
    """
    problems = _json_problems(data, ())
    if problems:
        raise SettingsError("\n".join([f"invalid settings in {source}:", *problems]))
    adapter = _ADAPTER if tp is VaultAioProps else TypeAdapter(tp)
    try:
        return adapter.validate_json(json.dumps(data, allow_nan=True), strict=True)
    except ValidationError as err:
        raise SettingsError(format_validation_error(err, source, tp)) from None


def _candidates(tp: Any) -> list[Any]:
    """The dataclasses a field type can hold (unwrapping Annotated, Optional, unions and tuples)."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _candidates(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType, tuple, list):
        return [c for a in typing.get_args(tp) if a is not Ellipsis for c in _candidates(a)]
    return [tp] if dataclasses.is_dataclass(tp) else []


def _tag(cls: Any) -> str | None:
    """The discriminator value (``type`` default) of a tagged-union member such as a seal."""
    field = getattr(cls, "__pydantic_fields__", {}).get("type")  # dataclasses.fields() holds the FieldInfo
    return field.default if field is not None and isinstance(field.default, str) else None


def _dataclasses_at(loc: Sequence[int | str], root: Any = None) -> list[Any]:
    """The dataclass(es) that the value at ``loc`` of a ``root`` (default: the whole settings) may be
    (several for a tagged union)."""
    current: list[Any] = _candidates(root) if root is not None else [VaultAioProps]
    for part in loc:
        if isinstance(part, int):
            continue  # an index into a tuple: the element type was already unwrapped
        if len(current) > 1:  # a tagged union: this part of the location is the tag
            tagged = [c for c in current if _tag(c) == part]
            if tagged:
                current = tagged
                continue
        if len(current) != 1:
            return []
        hints = typing.get_type_hints(current[0], include_extras=True)
        if part not in hints:
            return []
        current = _candidates(hints[part])
    return current


def _fields_at(loc: Sequence[int | str], root: Any = None) -> list[str]:
    """Accepted keys of the dataclass at ``loc`` (for 'unknown setting' messages)."""
    found = _dataclasses_at(loc, root)
    return [f.name for f in dataclasses.fields(found[0])] if len(found) == 1 else []


def _shown(value: Any, message: str) -> str:
    """The offending value, unless the message already shows it or it is a whole mapping (cross-field
    errors already name the fields)."""
    text = repr(redact_url(value) if isinstance(value, str) else value)
    if isinstance(value, dict | list | tuple) or type(value).__name__ == "ArgsKwargs" or len(text) > 120:
        return ""
    if text in message:
        return ""
    return f" (got {text})"


#: Strings that a lax parser would have turned into a boolean.
_BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "y", "n", "1", "0"})


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _entries(n: int) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"


def _message(error: Any) -> str:
    """pydantic's message in an operator's words where pydantic speaks Python (tuples, dictionaries)."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "too_short":
        return f"needs at least {_entries(ctx['min_length'])}, got {ctx.get('actual_length', 0)}"
    if kind == "too_long":
        return f"takes at most {_entries(ctx['max_length'])}, got {ctx.get('actual_length')}"
    if kind == "missing":
        return "required setting is missing"
    if kind in ("dataclass_type", "dict_type", "model_type", "dataclass_exact_type"):
        return "should be a mapping of settings (key: value)"
    if kind in ("tuple_type", "list_type", "set_type"):
        return "should be a list"
    # strict types: say what to write when a quoted value would have been accepted without the quotes
    value = error.get("input")
    text = value.strip().lower() if isinstance(value, str) else None
    if kind == "bool_type":
        quoted = text in _BOOLEAN_WORDS
        return "Input should be true or false" + (
            " without quotes (a quoted word is a string)" if quoted else ""
        )
    if kind == "int_type" and text is not None and text.lstrip("+-").isdigit():
        return "Input should be a valid integer: write it without quotes (a quoted number is a string)"
    if kind == "float_type" and text is not None and _is_number(text):
        return "Input should be a valid number: write it without quotes (a quoted number is a string)"
    if kind == "string_type" and value is not None:
        return "Input should be a valid string: quote it"
    return str(error["msg"]).removeprefix("Value error, ")


def _without_credentials(line: str, value: Any) -> str:
    """``line`` with ``value`` (the refused input) redacted wherever a validator's message quotes it, when it
    holds credentials: a host refused for its form may still be ``user:password@host``."""
    if isinstance(value, str) and value and url_credentials(value) is not None:
        return line.replace(value, redact_url(value))
    return line


def format_validation_error(err: ValidationError, source: str, root: Any = None) -> str:
    """One line per problem: the key path, what is wrong, the value; ``root`` is the validated type
    (default: the whole settings)."""
    lines = [f"invalid settings in {source}:"]
    errors = err.errors()
    locs = [tuple(p for p in e["loc"] if p != "function-after") for e in errors]
    for e, loc in zip(errors, locs, strict=True):
        key = ".".join(str(p) for p in loc) or "(top level)"
        if e["type"] == "too_short" and any(len(o) > len(loc) and o[: len(loc)] == loc for o in locs):
            continue  # pydantic repeats a failed item as "too short" for its list: the item says why
        if e["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
            accepted = _fields_at(loc[:-1], root)
            hint = f"; accepted keys: {', '.join(accepted)}" if accepted else ""
            lines.append(f"  {key}: unknown setting{hint}")
            continue
        if e["type"] == "union_tag_not_found":
            tags = [t for t in (_tag(c) for c in _dataclasses_at(loc, root)) if t]
            lines.append(f"  {key}: missing 'type'; accepted types: {', '.join(repr(t) for t in tags)}")
            continue
        msg = _message(e)
        if e["type"] == LITERAL_SECRET_ERROR:  # never repeat a credential
            lines.append(f"  {key}: {msg}")
            continue
        if isinstance(e.get("input"), str) and SecretKeyRef in _dataclasses_at(loc):
            # a string where a plain SecretKeyRef belongs (seals, receivers) is most likely the secret too
            lines.append(f"  {key}: {LITERAL_SECRET_MESSAGE}")
            continue
        lines.append(_without_credentials(f"  {key}: {msg}{_shown(e.get('input'), msg)}", e.get("input")))
    # every URL a message quotes loses its userinfo, query values and fragment (settings errors end up in CI
    # logs); the validators already leave them out, this holds for any message that does not
    return redact_urls("\n".join(lines))


def parse_settings(data: Mapping[str, Any] | None, source: str = "settings") -> VaultAioProps:
    """Validate a settings mapping (as loaded from YAML) into :class:`VaultAioProps`."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise SettingsError(
            f"invalid settings in {source}: the top level must be a mapping, got {type(data).__name__}"
        )
    props: VaultAioProps = validate_settings_value(VaultAioProps, dict(data), source)
    return props


@dataclasses.dataclass(frozen=True)
class SettingsSource:
    """Where the settings of one synth come from: a file, or the defaults (``path`` is ``None``).

    ``warnings`` are things the operator should hear about although the synth can go on: a settings
    file beside ``app.py`` with a near-miss name (``vaultaio.yml``) that is not read, an empty file.
    """

    path: Path | None
    #: How the file was chosen: ``argument``, ``VAULTAIO_SETTINGS``, ``beside app.py``, or ``defaults``.
    origin: str
    warnings: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.path is None:
            return "defaults (no settings file)"
        return f"{self.path} (from {self.origin})"


def _near_misses(folder: Path) -> list[str]:
    """Files in ``folder`` whose names look like a misspelt ``vaultaio.yaml`` (the settings schema beside
    ``app.py``, ``vaultaio.schema.json``, is not one)."""
    try:
        names = [p.name for p in folder.iterdir() if p.name not in (DEFAULT_SETTINGS_FILE, SCHEMA_FILE)]
    except OSError:
        return []
    stem = DEFAULT_SETTINGS_FILE.removesuffix(".yaml")
    candidates = [n for n in names if n.lower().endswith((".yaml", ".yml", ".json"))]
    close = difflib.get_close_matches(DEFAULT_SETTINGS_FILE, candidates, n=3, cutoff=0.75)
    squashed = [n for n in candidates if n.lower().replace("-", "").replace("_", "").startswith(stem)]
    return sorted(set(close) | set(squashed))


def locate_settings(
    path: str | os.PathLike[str] | None = None, *, base_dir: Path | None = None
) -> SettingsSource:
    """Decide which settings file a synth reads: ``path``, ``$VAULTAIO_SETTINGS``, ``vaultaio.yaml`` in
    ``base_dir`` (default: the current directory), or none (the defaults).

    A file named explicitly (argument or environment) must be a readable file. Without one, a file
    beside ``app.py`` whose name is close to ``vaultaio.yaml`` is reported as a warning, because it is
    not read.
    """
    explicit = path or os.environ.get(SETTINGS_ENV)
    if explicit:
        origin = "argument" if path else SETTINGS_ENV
        file = Path(explicit)
        if file.is_dir():
            raise SettingsError(
                f"settings file {file} (from {origin}) is a directory: name a YAML file such as "
                f"{file / DEFAULT_SETTINGS_FILE}"
            )
        if not file.exists():
            raise SettingsError(f"settings file {file} (from {origin}) does not exist")
        if not file.is_file():
            raise SettingsError(f"settings file {file} (from {origin}) is not a regular file")
        return SettingsSource(file, origin)
    folder = base_dir or Path.cwd()
    file = folder / DEFAULT_SETTINGS_FILE
    if file.is_file():
        return SettingsSource(file, f"{DEFAULT_SETTINGS_FILE} beside app.py")
    warnings = tuple(
        f"{folder / name} is not read (only {DEFAULT_SETTINGS_FILE} or ${SETTINGS_ENV} is): "
        f"rename it to {DEFAULT_SETTINGS_FILE} or set {SETTINGS_ENV}={folder / name}"
        for name in _near_misses(folder)
    )
    return SettingsSource(None, "defaults", warnings)


def read_settings(source: SettingsSource) -> tuple[VaultAioProps, SettingsSource]:
    """Parse the file ``source`` names (the defaults when it names none).

    Returns the props and the source with any warning found while reading (an empty file).
    """
    if source.path is None:
        return VaultAioProps(), source
    file = source.path
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise SettingsError(
            f"cannot read settings file {file}: not UTF-8 text (byte 0x{err.object[err.start]:02x} at "
            f"offset {err.start}); save it as UTF-8"
        ) from None
    except OSError as err:
        raise SettingsError(f"cannot read settings file {file}: {err.strerror or err}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        context = f" {err.context}" if err.context else ""
        raise SettingsError(
            f"invalid settings in {file}: not valid YAML{where}: {err.problem}{context}"
        ) from None
    except yaml.YAMLError as err:
        raise SettingsError(f"invalid settings in {file}: not valid YAML: {err}") from None
    if data is None:
        warning = f"settings file {file} is empty: using the defaults"
        return VaultAioProps(), dataclasses.replace(source, warnings=(*source.warnings, warning))
    return parse_settings(data, str(file)), source


def load_settings(
    path: str | os.PathLike[str] | None = None, *, base_dir: Path | None = None
) -> VaultAioProps:
    """Load settings from ``path``, ``$VAULTAIO_SETTINGS``, or ``vaultaio.yaml`` in ``base_dir``.

    No file at all means the defaults. A file named explicitly (argument or environment) must exist.
    Use :func:`locate_settings` and :func:`read_settings` to also learn which file was read and the
    warnings worth showing (``app.py`` prints both).
    """
    props, _ = read_settings(locate_settings(path, base_dir=base_dir))
    return props
