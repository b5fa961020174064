"""A canary credential fed through every string setting never reaches a manifest, an error or a warning
(review finding 11).

The settings model is walked (``tests/test_settings_strings.py``: :data:`SAMPLES` give every string field of
:class:`VaultAioProps`, every nested props class and every tagged-union member a valid value, and a string
field added to the model without one fails there), so a new field is covered here without being listed.
Each string that is not in :data:`NON_SECRET` gets the credential-shaped values of :func:`credential_forms`
(a URL's or host's user information, also with a password holding ``/``, ``?`` or ``#``, a credential path
parameter, query parameter or fragment; for a header map, a credential-named header and an
``Authorization``-style value), each carrying its own canary, through both ways in:

- the settings file: a YAML file read by ``read_settings`` (what ``app.py`` runs), errors as printed;
- the Python API: the props constructors called with Python values (tuples, enum members, props objects).

Every value is meant to be refused: :func:`test_every_credential_form_is_refused` says so case by case, and
each refusal's error (pydantic's included, with its traceback) must not show the canary. Today no case is
accepted, so the manifest leg (:func:`test_an_accepted_credential_never_reaches_a_manifest`) scans only the
control: a canary in a field that is written on purpose (a plain ``headers`` value), which must be found, so
the scan is shown to see the manifests. It is the guard for a form made acceptable later (which must then
be removed from the refusal list explicitly): each accepted case is synthesized, and its manifests,
synth-time errors and warnings must not show its canary.
"""

from __future__ import annotations

import dataclasses
import enum
import fnmatch
import json
import traceback
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from app import synth_warnings
from tests.stack import synth_stack
from tests.test_settings_strings import (
    SAMPLES,
    Leaf,
    _members,
    _tag,
    model_string_paths,
    string_leaves,
    type_hints,
)
from vaultaio_constructs.common import SecretKeyRef
from vaultaio_constructs.settings import VaultAioProps, locate_settings, read_settings

CANARY = "CANARY-9f3a7c"

#: Fields documented as not secret: their values are names, labels, identifiers, patterns or durations that
#: are meant to be written into the manifests and shown in errors. Everything else, a field added later
#: included, is fed the canary. Model paths as ``tests/test_settings_strings.py`` writes them (``[]`` an
#: item, ``{key}``/``{value}`` a mapping entry, ``<tag>`` a tagged-union member); ``*`` matches anything.
NON_SECRET: dict[str, str] = {
    # where the stack lives and what it targets
    "namespace": "a namespace name",
    "node_namespace": "a namespace name",
    "instance": "a label value",
    "cluster_domain": "a DNS domain",
    "storage_class": "a StorageClass name",
    "kubernetes_version": "a version",
    "network.dns.namespace": "a namespace name",
    # images: public references
    "*.image_tag": "an image tag",
    "*.image_digest": "an image digest (public)",
    "*.image_repository": "an image repository",
    # names of things the settings define (the name and key of a SecretKeyRef are exempt by their type:
    # :data:`SECRET_REF_FIELDS`; a new field called 'name' elsewhere is fed the canary until listed here)
    "alertmanager.notifications.*_receivers.[].name": "a receiver name",
    "alloy.otlp_clients.[].name": "an OTLP client's name",
    "chrony.servers.[].name": "an NTP server's name",
    "grafana.database.<*>.name": "a database name",
    "*.storage.<*>.extra_egress.[].name": "an egress rule's name",
    "vault.seal.<*>.extra_egress.[].name": "an egress rule's name",
    "monitoring.prometheus_operator.name": "the name of the Prometheus resource",
    "prometheus.remote_write.[].name": "a remote-write destination's name",
    "vault.clients.[].name": "a Vault client's name",
    "vault.tls.issuer.name": "a cert-manager Issuer's name",
    "grafana.admin_secret_name": "a Secret name",
    "*.tls_secret_name": "a Secret name",
    "vault.tls.secret_name": "a Secret name",
    # labels and selectors: names by the Kubernetes rules
    "*labels.{key}": "a label key",
    "*labels.{value}": "a label value",
    "grafana.dashboard_sidecar.*": "a label and an annotation the sidecar reads, and a folder title",
    # networks
    "*cidrs.[]": "a CIDR",
    # durations, schedules, patterns and other configuration that is not a credential by its meaning
    "prometheus.alerts.thresholds.*": "a duration or a regular expression",
    "alertmanager.notifications.group_*": "a duration",
    "alertmanager.notifications.re*": "a duration",
    "alertmanager.notifications.routes.[].receiver": "a receiver name",
    "vault.prometheus_retention_time": "a duration",
    "vault.backup.schedule": "a cron schedule",
    "prometheus.remote_write.[].write_relabel_configs.*": "relabelling rules (label names and patterns)",
    "prometheus.replica_label": "a label name",
    "prometheus.external.remote_write_path": "a URL path",
    "alloy.varlog_globs.[]": "a path glob under /var/log",
    "grafana.home_dashboard": "a dashboard uid",
    "vault.pki_role": "a PKI role name",
    "monitoring.prometheus_operator.blackbox_probe.module": "a blackbox module name",
    # Ingress: names, and annotations that go into the Ingress verbatim (the field says so)
    "*.ingress.class_name": "an IngressClass name",
    "*.ingress.host": "the public host name",
    "*.ingress.annotations.*": "annotations for the controller, written into the Ingress as given",
    # identifiers of cloud accounts and keys, as the providers publish them (the secrets are SecretRefs)
    "*.role_arn": "an IAM role ARN",
    "*.gcp_service_account": "a service account email",
    "*.client_id": "an Azure client (application) id",
    "*.tenant_id": "an Azure tenant id / Loki's tenant (X-Scope-OrgID)",
    "*.region": "a cloud region",
    "vault.seal.<awskms>.kms_key_id": "a KMS key id or alias",
    "vault.seal.<gcpckms>.project": "a GCP project id",
    "vault.seal.<gcpckms>.key_ring": "a key ring name",
    "vault.seal.<gcpckms>.crypto_key": "a key name",
    "vault.seal.<azurekeyvault>.*": "Key Vault names, cloud environment and resource",
    "vault.seal.<transit>.key_name": "a transit key name",
    "vault.seal.<transit>.mount_path": "a mount path",
    "vault.seal.<transit>.namespace": "a Vault namespace",
    "vault.seal.<transit>.tls_server_name": "a host name",
    "*.storage.<*>.bucket": "a bucket name",
    "*.storage.<azure>.account_name": "a storage account name",
    "*.storage.<azure>.container": "a container name",
    "*.storage.<azure>.endpoint_suffix": "a DNS suffix",
    # notification addressing (the credentials are SecretRefs: auth_password, routing_key, api_url...)
    "alertmanager.notifications.email_receivers.[].to": "an email address",
    "alertmanager.notifications.email_receivers.[].from_address": "an email address",
    "alertmanager.notifications.email_receivers.[].auth_username": "an SMTP user (its password: a SecretRef)",
    "loki.external.basic_auth.username": "a Loki gateway's user (its password: a SecretRef)",
    "prometheus.external.basic_auth.username": "a Prometheus gateway's user (its password: a SecretRef)",
    "alertmanager.notifications.slack_receivers.[].channel": "a Slack channel",
    # remote write: header names, and values of headers that are not named like credentials (those are
    # refused and go into secret_headers; credential-named headers are fed below)
    "prometheus.remote_write.[].headers.{value}": "a header value written into the ConfigMap (documented)",
    "prometheus.remote_write.[].secret_headers.{key}": "a header name (its value is a SecretRef)",
    "prometheus.remote_write.[].tls.server_name": "a host name",
}

#: A field written on purpose, fed a control canary: it must be found (the scan sees the manifests).
CONTROL = ("prometheus", "remote_write", 0, "headers", "X-Scope-OrgID")


def _secret_ref_fields(tp: Any, path: str = "") -> Iterator[str]:
    """Model paths of the string fields of every :class:`SecretKeyRef` (``name``, ``key``): a Secret's name
    and key are written into the manifests, never its value (a literal is refused)."""
    for member in _members(tp):
        origin = typing.get_origin(member)
        if member is SecretKeyRef:
            yield from (f"{path}.{f.name}" for f in dataclasses.fields(SecretKeyRef))
        elif dataclasses.is_dataclass(member):
            tag = _tag(member)
            base = f"{path}.<{tag}>" if tag and len(_members(tp)) > 1 else path
            hints = type_hints(member)
            for f in dataclasses.fields(member):
                yield from _secret_ref_fields(hints[f.name], f"{base}.{f.name}".lstrip("."))
        elif origin in (tuple, list):
            for item in typing.get_args(member):
                if item is not Ellipsis:
                    yield from _secret_ref_fields(item, f"{path}.[]")
        elif origin is dict:
            yield from _secret_ref_fields(typing.get_args(member)[1], f"{path}.{{value}}")


SECRET_REF_FIELDS = frozenset(_secret_ref_fields(VaultAioProps))


def _listed(model_path: str) -> bool:
    return model_path in SECRET_REF_FIELDS or any(
        fnmatch.fnmatchcase(model_path, pattern) for pattern in NON_SECRET
    )


def non_secret(leaf: Leaf) -> bool:
    return _listed(leaf.model_path)


def credential_forms(leaf: Leaf, value: str, canary: str) -> list[tuple[str, Any]]:
    """``(form, replacement)`` pairs: the credential-shaped values a leaf is fed. A replacement is the new
    string, or for a header map's key a whole new ``{name: value}`` entry."""
    if leaf.is_key:
        if leaf.model_path.endswith("headers.{key}"):
            return [
                # not X-Api-Key: the sample already sends it from a Secret, and a duplicate is refused first
                ("credential-named header", {"Private-Token": canary}),
                ("Authorization header", {"Authorization": f"Bearer {canary}"}),
                ("bearer value", {"X-Upstream-One": f"Bearer {canary}"}),
                ("basic value", {"X-Upstream-Two": f"basic {canary}"}),
            ]
        return [
            ("credential in a key", f"canary:{canary}@host"),
            ("credential with '/' in a key", f"canary:ab/{canary}@host"),
        ]
    scheme, sep, rest = value.partition("://")
    # passwords that hold '/', '?' or '#' (openssl rand -base64 gives '/'), with the canary after them,
    # before them, and after a port-like head (which an RFC 3986 reading takes for host and port)
    reserved = {
        "'/' in the password": f"ab/{canary}",
        "'?' and '#' in the password": f"{canary}?ab#cd",
        "'#' and '?' before the password": f"ab#cd?{canary}/ef",
        "a port-like password head": f"1234/{canary}",
    }
    if not sep:  # a host, host:port or plain value: user:password@ before it
        return [("userinfo", f"canary:{canary}@{value}")] + [
            (f"userinfo, {label}", f"canary:{password}@{value}") for label, password in reserved.items()
        ]
    query = "&" if "?" in rest else "?"
    # a path parameter: before the query, in a path segment (one is added to a URL without a path)
    base, tail = rest, ""
    for i, char in enumerate(rest):
        if char in "?#":
            base, tail = rest[:i], rest[i:]
            break
    if "/" not in base:
        base += "/x"
    return [
        ("userinfo", f"{scheme}://canary:{canary}@{rest}"),
        ("token in the user part", f"{scheme}://{canary}@{rest}"),
        *(
            (f"userinfo, {label}", f"{scheme}://canary:{password}@{rest}")
            for label, password in reserved.items()
        ),
        ("credential path parameter", f"{scheme}://{base};token={canary}{tail}"),
        ("credential query", f"{value}{query}token={canary}"),
        ("credential fragment", f"{value}#access_token={canary}"),
    ]


def _copy(doc: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(doc))
    return copied


def _value_at(doc: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    node: Any = doc
    for part in path:
        node = node[part]
    return node


def _replace(doc: dict[str, Any], leaf: Leaf, new: Any) -> dict[str, Any]:
    """``doc`` with the leaf's string replaced by ``new`` (a key: the entry replaced by ``new``'s)."""
    parent: Any = _value_at(doc, leaf.data_path[:-1])
    last = leaf.data_path[-1]
    if leaf.is_key:
        parent.pop(last, None)  # gone already when another accepted value replaced the same entry
        parent.update(new)
    else:
        parent[last] = new
    return doc


# ---- the Python API: props built by their constructors ---------------------------------------------------


def build(tp: Any, data: Any) -> Any:
    """``data`` (settings-shaped) as the Python API takes it: props objects, tuples, enum members."""
    members = _members(tp)
    if isinstance(data, dict):
        classes = [m for m in members if dataclasses.is_dataclass(m)]
        if classes:
            if len(classes) > 1:
                classes = [c for c in classes if _tag(c) == data.get("type")]
            (cls,) = classes
            hints = type_hints(cls)
            constructor: Any = cls
            return constructor(**{k: build(hints[k], v) for k, v in data.items()})
        (mapping,) = [m for m in members if typing.get_origin(m) is dict]
        key_type, value_type = typing.get_args(mapping)
        return {build(key_type, k): build(value_type, v) for k, v in data.items()}
    if isinstance(data, list):
        (sequence,) = [m for m in members if typing.get_origin(m) in (tuple, list)]
        (item,) = [a for a in typing.get_args(sequence) if a is not Ellipsis]
        return tuple(build(item, v) for v in data)
    for member in members:
        if isinstance(member, type) and issubclass(member, enum.Enum) and isinstance(data, str):
            return member(data)
    return data


def _python_props(doc: dict[str, Any]) -> VaultAioProps:
    props: VaultAioProps = build(VaultAioProps, doc)
    return props


def _settings_file_props(doc: dict[str, Any], folder: Path) -> tuple[VaultAioProps, tuple[str, ...]]:
    path = folder / "vaultaio.yaml"
    path.write_text(yaml.safe_dump(doc))
    props, source = read_settings(locate_settings(path))
    return props, source.warnings


def _error_text(err: BaseException) -> str:
    """All a user sees of an error: its message and the traceback's lines."""
    return str(err) + "".join(traceback.format_exception(err))


# ---- the table ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    sample: int
    leaf: Leaf
    form: str
    replacement: Any
    canary: str

    @property
    def id(self) -> str:
        return f"{self.sample}:{self.leaf.model_path}:{self.form}"


def _cases() -> list[Case]:
    cases: list[Case] = []
    for i, doc in enumerate(SAMPLES):
        for leaf in string_leaves(doc, VaultAioProps):
            if non_secret(leaf):
                continue
            value = _value_at(doc, leaf.data_path)
            if leaf.is_key:
                value = leaf.data_path[-1]
            for form, _ in credential_forms(leaf, str(value), CANARY):
                canary = f"{CANARY}-{len(cases):03d}"  # one per case: a leak names its case
                replacement = dict(credential_forms(leaf, str(value), canary))[form]
                cases.append(Case(i, leaf, form, replacement, canary))
    return cases


CASES = _cases()
WAYS = ("settings file", "python")


def test_the_table_covers_the_credential_fields() -> None:
    """The walk reaches the fields that carry URLs, hosts and headers (and so will reach new ones)."""
    paths = {c.leaf.model_path for c in CASES}
    for expected in (
        "vault.seal.<transit>.address",
        "grafana.root_url",
        "loki.external.url",
        "prometheus.remote_write.[].url",
        "prometheus.remote_write.[].headers.{key}",
        "alertmanager.notifications.webhook_receivers.[].url",
        "monitoring.prometheus_operator.blackbox_probe.prober_url",
        "chrony.servers.[].address",
    ):
        assert expected in paths, expected
    assert len(paths) >= 30, sorted(paths)
    # every string the model can hold is either fed the canary or listed as not secret
    fed_or_listed = paths | {p for p in model_string_paths(VaultAioProps) if _listed(p)}
    assert not set(model_string_paths(VaultAioProps)) - fed_or_listed
    model_paths = _all_model_paths()
    unused = [p for p in NON_SECRET if not any(fnmatch.fnmatchcase(m, p) for m in model_paths)]
    assert not unused, f"allowlist entries that match no field: {unused}"


def test_every_case_carries_its_own_canary() -> None:
    for case in CASES:
        assert case.canary in json.dumps(case.replacement), case.id
    assert len({c.canary for c in CASES}) == len(CASES)


def _all_model_paths() -> set[str]:
    return {leaf.model_path for doc in SAMPLES for leaf in string_leaves(doc, VaultAioProps)}


def _accepted(case: Case, way: str, folder: Path) -> bool:
    """Feed one case; ``True`` when the settings were accepted (the synth must then hide the canary)."""
    doc = _replace(_copy(SAMPLES[case.sample]), case.leaf, case.replacement)
    try:
        if way == "python":
            _python_props(doc)
        else:
            _settings_file_props(doc, folder)
    except (ValueError, TypeError) as err:  # SettingsError and pydantic's ValidationError are ValueErrors
        text = _error_text(err)
        assert case.canary not in text, f"{way}: the error shows the credential of {case.id}:\n{err}"
        return False
    return True


@pytest.fixture(scope="module")
def accepted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Case]]:
    """Every case, both ways in: those accepted, by way (each refused one was checked on the way)."""
    folder = tmp_path_factory.mktemp("canary")
    return {way: [c for c in CASES if _accepted(c, way, folder)] for way in WAYS}


@pytest.mark.parametrize("way", WAYS)
def test_a_refused_credential_is_never_shown(accepted: dict[str, list[Case]], way: str) -> None:
    # the fixture fed every case and checked every error; what is accepted is the same either way in
    assert {c.id for c in accepted[way]} == {c.id for c in accepted[WAYS[0]]}


def test_every_credential_form_is_refused(accepted: dict[str, list[Case]]) -> None:
    """Case by case: no credential-shaped value is accepted (so none can reach a manifest). A form made
    acceptable on purpose is listed here, and the manifest leg below then checks it."""
    allowed: set[str] = set()
    for way in WAYS:
        assert not {c.id for c in accepted[way]} - allowed, f"{way}: credential-shaped values accepted"
    # the H2 shapes reach the URL and host fields
    for path in ("grafana.root_url", "chrony.servers.[].address"):
        forms = {c.form for c in CASES if c.leaf.model_path == path}
        assert {"userinfo, '/' in the password", "userinfo, a port-like password head"} <= forms, forms
    assert "credential path parameter" in {c.form for c in CASES if c.leaf.model_path == "grafana.root_url"}


def _synth_scan(sample: int, cases: list[Case], folder: Path, control: str | None) -> None:
    """Synthesize ``sample`` with ``cases`` (and the control canary): no case's canary in the manifests,
    warnings or a synth error; the control found. A synth error with several cases retries each alone, so
    one case refused at synth time does not skip the scan of the others."""
    doc = _copy(SAMPLES[sample])
    for case in cases:
        doc = _replace(doc, case.leaf, case.replacement)
    if control is not None:
        _value_at(doc, CONTROL[:-1])[CONTROL[-1]] = control
    canaries = [c.canary for c in cases]
    props, warnings = _settings_file_props(doc, folder)
    assert _python_props(doc) == props, "both ways in give the same props: one synth checks both"
    said = "\n".join([*warnings, *synth_warnings(props)])
    assert not [c for c in canaries if c in said], f"a warning shows a credential:\n{said}"
    try:
        text = synth_stack(props).yaml()
    except ValueError as err:  # refused by a component at synth time: the error must not show them
        assert cases, f"sample {sample} must synthesize without a canary: {err}"
        shown = [c for c in canaries if c in _error_text(err)]
        assert not shown, f"a synth error shows {shown}:\n{err}"
        if len(cases) > 1 or control is not None:
            for case in cases:
                _synth_scan(sample, [case], folder, None)
            if control is not None:
                _synth_scan(sample, [], folder, control)
        return
    leaked = [c.id for c in cases if c.canary in text]
    assert not leaked, f"credentials written into the manifests: {leaked}"
    if control is not None:
        assert control in text, "the control canary is missing: the scan does not see the manifests"


def test_an_accepted_credential_never_reaches_a_manifest(
    accepted: dict[str, list[Case]], tmp_path: Path
) -> None:
    """One synth per sample with every value accepted there (none today: see the module docstring), and
    the first sample with the control canary, which must be found."""
    for sample in sorted({0} | {c.sample for c in accepted["settings file"]}):
        mine = [c for c in accepted["settings file"] if c.sample == sample]
        _synth_scan(sample, mine, tmp_path, f"{CANARY}-control" if sample == 0 else None)
