"""The generated Alloy configuration: components, wiring between them, labels, targets, validation."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from tests.alloy.alloy_parser import block_to_parsed, parse
from vaultaio_constructs import loglabels
from vaultaio_constructs.alloy.config import (
    ALLOY_ARGS,
    ALLOY_CONFIG_PATH,
    ALLOY_HOST_PATHS,
    ALLOY_HTTP_PORT,
    ALLOY_NODE_NAME_ENV,
    ALLOY_OTLP_GRPC_PORT,
    ALLOY_OTLP_HTTP_PORT,
    ALLOY_STORAGE_PATH,
    HOST_PROC,
    HOST_ROOT,
    HOST_SYS,
    JOURNAL_DIR,
    POD_LOG_DIR,
    VAULT_HEALTH_PATH,
    AlloyConfig,
    alloy_components,
    find_component,
    render_alloy_config,
)
from vaultaio_constructs.alloy.syntax import Attr, Block, Expr, Ref, env, references

NS = "vault-aio"
LOKI = "http://loki.vault-aio.svc:3100/loki/api/v1/push"
TEMPO = "tempo.vault-aio.svc:4317"
PROM = "http://prometheus.vault-aio.svc:9090/api/v1/write"
VAULT = "https://vault.vault-aio.svc:8200"
NODE = env(ALLOY_NODE_NAME_ENV)

#: Exports of every component kind the config uses (Alloy reference docs, "Exported fields").
EXPORTS: dict[str, set[str]] = {
    "discovery.kubernetes": {"targets"},
    "discovery.relabel": {"output", "rules"},
    "local.file_match": {"targets"},
    "loki.source.file": set(),
    "loki.source.kubernetes": set(),
    "loki.source.journal": set(),
    "loki.process": {"receiver"},
    "loki.relabel": {"receiver", "rules"},
    "loki.write": {"receiver"},
    "prometheus.exporter.unix": {"targets"},
    "prometheus.exporter.self": {"targets"},
    "prometheus.exporter.blackbox": {"targets"},
    "prometheus.scrape": set(),
    "prometheus.remote_write": {"receiver"},
    "otelcol.receiver.otlp": set(),
    "otelcol.processor.batch": {"input"},
    "otelcol.exporter.otlp": {"input"},
}


def make(**overrides: Any) -> AlloyConfig:
    values: dict[str, Any] = {
        "namespaces": (NS,),
        "loki_push_url": LOKI,
        "tempo_otlp_grpc_address": TEMPO,
        "prometheus_remote_write_urls": (PROM,),
        "vault_api_url": VAULT,
        "node_filesystems": True,
    }
    values.update(overrides)
    return AlloyConfig(**values)


@pytest.fixture(scope="module")
def blocks() -> tuple[Block, ...]:
    return alloy_components(make())


def comp(blocks: tuple[Block, ...], name: str, label: str) -> Block:
    return find_component(blocks, name, label)


def only(blk: Block, name: str) -> Block:
    (child,) = blk.blocks(name)
    return child


def relabel_targets(blk: Block) -> dict[str, Any]:
    """target_label -> source label list or fixed replacement, for each ``rule`` of ``blk``."""
    out: dict[str, Any] = {}
    for rule in blk.blocks("rule"):
        target = rule.attr("target_label")
        assert isinstance(target, str)
        try:
            out[target] = ("from", rule.attr("source_labels"))
        except KeyError:
            out[target] = ("fixed", rule.attr("replacement"))
    return out


def test_rendered_file_parses_and_matches_the_model(blocks: tuple[Block, ...]) -> None:
    parsed = parse(render_alloy_config(make()))
    assert parsed["blocks"] == [block_to_parsed(b) for b in blocks]


def test_rendering_is_deterministic() -> None:
    assert render_alloy_config(make()) == render_alloy_config(make())


def test_only_known_components_and_every_reference_resolves(blocks: tuple[Block, ...]) -> None:
    components = {(b.name, b.label): b for b in blocks if b.label is not None}
    assert {name for name, _ in components} <= set(EXPORTS)
    assert [b.name for b in blocks if b.label is None] == ["logging"]
    used: set[tuple[str, str]] = set()
    for blk in blocks:
        for ref in references(blk):
            assert (ref.component, ref.label) in components, f"{ref.text} refers to a missing component"
            assert ref.export in EXPORTS[ref.component], f"{ref.text}: {ref.component} has no {ref.export!r}"
            used.add((ref.component, ref.label))
    # Nothing is declared and left unused: every component with exports feeds something.
    unused = {key for key in components if EXPORTS[key[0]] and key not in used}
    assert unused == set()


def test_pod_logs_come_from_this_namespace_on_this_node(blocks: tuple[Block, ...]) -> None:
    pods = comp(blocks, "discovery.kubernetes", "pods")
    assert pods.attr("role") == "pod"
    assert only(pods, "namespaces").attr("names") == [NS]
    selectors = only(pods, "selectors")
    assert selectors.attr("role") == "pod"
    field = selectors.attr("field")
    assert isinstance(field, Expr)
    assert field.text == f'"spec.nodeName=" + sys.env("{ALLOY_NODE_NAME_ENV}")'


def test_pod_log_labels_are_the_contract(blocks: tuple[Block, ...]) -> None:
    relabel = comp(blocks, "discovery.relabel", "pod_logs")
    targets = relabel_targets(relabel)
    assert set(targets) == set(loglabels.POD_LOG_LABELS)
    assert targets["job"] == ("fixed", loglabels.JOB_PODS)
    assert targets["app"] == ("from", ["__meta_kubernetes_pod_label_app_kubernetes_io_name"])
    assert targets["component"] == ("from", ["__meta_kubernetes_pod_label_app_kubernetes_io_component"])
    assert targets["node"] == ("from", ["__meta_kubernetes_pod_node_name"])
    # Pod logs come through the API: no file path, so no filename label and no CRI stream label either.
    assert not any(r.attr("target_label") == "__path__" for r in relabel.blocks("rule"))


def test_pod_log_pipeline_order(blocks: tuple[Block, ...]) -> None:
    # loki.source.kubernetes tails each container through the API server (pods/log): no host file, no CRI
    # framing (the API returns the plain lines), so the audit stage is the only one
    source = comp(blocks, "loki.source.kubernetes", "pod_logs")
    assert source.attr("targets") == Ref("discovery.relabel", "pod_logs", "output")
    assert source.attr("forward_to") == [Ref("loki.process", "pod_logs", "receiver")]
    assert not any(b.name == "loki.source.file" and b.label == "pod_logs" for b in blocks)
    process = comp(blocks, "loki.process", "pod_logs")
    stages = [b.name for b in process.body if isinstance(b, Block)]
    assert stages == ["stage.match"]
    assert process.attr("forward_to") == [Ref("loki.write", "default", "receiver")]
    assert only(comp(blocks, "loki.write", "default"), "endpoint").attr("url") == LOKI


# --- Vault audit entries -----------------------------------------------------------------------------

REQUEST = {
    "time": "2026-08-01T10:00:00Z",
    "type": "request",
    "auth": {"token_type": "service", "policies": ["default"]},
    "request": {
        "id": "r1",
        "operation": "update",
        "mount_type": "userpass",
        "path": "auth/userpass/login/bob",
    },
}
RESPONSE_ERROR = {
    "time": "2026-08-01T10:00:00Z",
    "type": "response",
    "auth": {"token_type": "service"},
    "request": {
        "id": "r1",
        "operation": "update",
        "mount_type": "userpass",
        "path": "auth/userpass/login/bob",
    },
    "response": {"mount_type": "userpass"},
    "error": "invalid username or password",
}
RESPONSE_OK = {**RESPONSE_ERROR, "error": ""}
SERVER_JSON = {"@level": "info", "@message": "core: vault is unsealed", "@module": "core", "@timestamp": "x"}


def audit_stage_labels(process: Block, labels: dict[str, str], line: str) -> dict[str, str]:
    """Apply the generated ``stage.match`` the way Alloy would, returning the labels added."""
    match = only(process, "stage.match")
    selector = match.attr("selector")
    assert isinstance(selector, str)
    stream, _, line_filter = selector.partition(" |~ ")
    wanted = dict(re.findall(r'(\w+)="([^"]*)"', stream))
    regex = line_filter.strip("`")
    if any(labels.get(k) != v for k, v in wanted.items()) or not re.search(regex, line):
        return {}
    doc = json.loads(line)
    extracted: dict[str, Any] = {}
    expressions = only(match, "stage.json").attr("expressions")
    assert isinstance(expressions, dict)
    for name, path in expressions.items():
        value: Any = doc
        for part in str(path).split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            extracted[name] = value
    template = only(match, "stage.template")
    source_text = re.search(r"\.(\w+)", str(template.attr("template")))
    assert source_text is not None
    extracted[str(template.attr("source"))] = "true" if extracted.get(source_text.group(1)) else "false"
    added = dict(only(match, "stage.static_labels").attr("values"))  # type: ignore[arg-type]
    mapping = only(match, "stage.labels").attr("values")
    assert isinstance(mapping, dict)
    for label, source in mapping.items():
        if source in extracted and extracted[source] != "":
            added[label] = str(extracted[source])
    return added


VAULT_POD = {"app": "vault", "container": "vault"}


@pytest.mark.parametrize(
    ("labels", "entry", "expected"),
    [
        (
            VAULT_POD,
            REQUEST,
            {
                "log_type": "vault_audit",
                "audit_type": "request",
                "operation": "update",
                "mount_type": "userpass",
                "error": "false",
            },
        ),
        (
            VAULT_POD,
            RESPONSE_ERROR,
            {
                "log_type": "vault_audit",
                "audit_type": "response",
                "operation": "update",
                "mount_type": "userpass",
                "error": "true",
            },
        ),
        (
            VAULT_POD,
            RESPONSE_OK,
            {
                "log_type": "vault_audit",
                "audit_type": "response",
                "operation": "update",
                "mount_type": "userpass",
                "error": "false",
            },
        ),
        (VAULT_POD, SERVER_JSON, {}),
        ({"app": "grafana", "container": "grafana"}, REQUEST, {}),
        ({"app": "vault", "container": "snapshot"}, REQUEST, {}),
    ],
)
def test_vault_audit_labels(
    blocks: tuple[Block, ...], labels: dict[str, str], entry: dict[str, Any], expected: dict[str, str]
) -> None:
    process = comp(blocks, "loki.process", "pod_logs")
    assert audit_stage_labels(process, labels, json.dumps(entry, separators=(",", ":"))) == expected


def test_audit_labels_are_the_contract(blocks: tuple[Block, ...]) -> None:
    match = only(comp(blocks, "loki.process", "pod_logs"), "stage.match")
    static = only(match, "stage.static_labels").attr("values")
    dynamic = only(match, "stage.labels").attr("values")
    assert isinstance(static, dict) and isinstance(dynamic, dict)
    assert static == {"log_type": loglabels.AUDIT_LOG_TYPE}
    assert set(static) | set(dynamic) == set(loglabels.AUDIT_EXTRA_LABELS)
    # The whole line is kept: no output stage rewrites it.
    assert not match.blocks("stage.output")


def test_vault_names_are_settings() -> None:
    process = find_component(
        alloy_components(make(vault_app="secrets", vault_container="server")), "loki.process", "pod_logs"
    )
    selector = only(process, "stage.match").attr("selector")
    assert isinstance(selector, str)
    assert selector.startswith('{app="secrets", container="server"}')


# --- node logs ---------------------------------------------------------------------------------------


def test_journal_labels_are_the_contract(blocks: tuple[Block, ...]) -> None:
    relabel = comp(blocks, "loki.relabel", "journal")
    targets = relabel_targets(relabel)
    assert set(targets) == set(loglabels.JOURNAL_LABELS)
    assert targets["job"] == ("fixed", loglabels.JOB_JOURNAL)
    assert targets["node"] == ("fixed", NODE)
    assert targets["unit"] == ("from", ["__journal__systemd_unit"])
    assert targets["level"] == ("from", ["__journal_priority_keyword"])
    # both journal locations, with the same labels: persistent and volatile (issue 14, item 15)
    sources = {b.label: b for b in blocks if b.name == "loki.source.journal"}
    assert {label: b.attr("path") for label, b in sources.items()} == {
        "node": JOURNAL_DIR,
        "node_volatile": "/run/log/journal",
    }
    for journal in sources.values():
        assert journal.attr("relabel_rules") == Ref("loki.relabel", "journal", "rules")
        assert journal.attr("forward_to") == [Ref("loki.write", "default", "receiver")]


def test_varlog_labels_are_the_contract(blocks: tuple[Block, ...]) -> None:
    files = comp(blocks, "local.file_match", "node_varlog")
    targets = files.attr("path_targets")
    assert isinstance(targets, list)
    for target in targets:
        assert isinstance(target, dict)
        visible = {k for k in target if not k.startswith("__")}
        # loki.source.file adds "filename" from __path__.
        assert visible | {"filename"} == set(loglabels.VARLOG_LABELS)
        assert target["job"] == loglabels.JOB_VARLOG
        assert target["node"] == NODE
        path = str(target["__path__"])
        assert path.startswith("/var/log/") and not path.startswith(("/var/log/pods", "/var/log/containers"))
        assert "**" not in path


def test_node_log_sources_can_be_switched_off() -> None:
    blocks = alloy_components(make(collect_journal=False, varlog_globs=()))
    names = {b.name for b in blocks}
    assert "loki.source.journal" not in names and "loki.relabel" not in names
    assert not [b for b in blocks if b.label == "node_varlog"]


def test_every_label_a_stream_can_carry_is_in_the_contract(blocks: tuple[Block, ...]) -> None:
    labels = set(relabel_targets(comp(blocks, "discovery.relabel", "pod_logs")))
    labels |= set(relabel_targets(comp(blocks, "loki.relabel", "journal")))
    labels |= {"filename"}
    match = only(comp(blocks, "loki.process", "pod_logs"), "stage.match")
    labels |= set(only(match, "stage.static_labels").attr("values"))  # type: ignore[arg-type]
    labels |= set(only(match, "stage.labels").attr("values"))  # type: ignore[arg-type]
    assert labels == set(loglabels.ALL_LOG_LABELS)


# --- metrics ------------------------------------------------------------------------------------------


def test_node_exporter_reads_the_host_mounts(blocks: tuple[Block, ...]) -> None:
    unix = comp(blocks, "prometheus.exporter.unix", "node")
    assert (unix.attr("procfs_path"), unix.attr("sysfs_path"), unix.attr("rootfs_path")) == (
        HOST_PROC,
        HOST_SYS,
        HOST_ROOT,
    )
    assert "timex" in unix.attr("enable_collectors")  # type: ignore[operator]
    fs = only(unix, "filesystem")
    fs_types = re.compile(str(fs.attr("fs_types_exclude")))
    for pseudo in ("proc", "sysfs", "tmpfs", "overlay", "cgroup2", "devtmpfs", "nsfs", "squashfs"):
        assert fs_types.match(pseudo), pseudo
    for real in ("ext4", "xfs", "btrfs"):
        assert not fs_types.match(real), real
    mounts = re.compile(str(fs.attr("mount_points_exclude")))
    assert mounts.match("/var/lib/kubelet/pods/x/volume-subpaths/v/c/0") and mounts.match("/proc")
    assert not mounts.match("/") and not mounts.match("/var/lib/data")
    # Pod volumes are not measured: mounted after Alloy started (no propagation) and below a 0750 root
    # directory, statfs() would fail or measure the parent filesystem
    assert mounts.match("/var/lib/kubelet/pods/x/volumes/kubernetes.io~csi/pvc-1/mount")


def test_without_the_host_root_the_collectors_that_read_it_are_off() -> None:
    unix = comp(alloy_components(make(node_filesystems=False)), "prometheus.exporter.unix", "node")
    assert not any(isinstance(a, Attr) and a.name == "rootfs_path" for a in unix.body)
    assert unix.attr("disable_collectors") == ["btrfs", "filesystem", "os"]
    assert not unix.blocks("filesystem")
    assert (unix.attr("procfs_path"), unix.attr("sysfs_path")) == (HOST_PROC, HOST_SYS)


@pytest.mark.parametrize(
    ("job", "exporter"),
    [
        ("node", Ref("prometheus.exporter.unix", "node", "targets")),
        ("alloy", Ref("prometheus.exporter.self", "alloy", "targets")),
        ("blackbox", Ref("prometheus.exporter.blackbox", "vault_tls", "targets")),
    ],
)
def test_scrape_jobs_set_job_and_instance_and_remote_write(
    blocks: tuple[Block, ...], job: str, exporter: Ref
) -> None:
    scrape = comp(blocks, "prometheus.scrape", job)
    relabel_ref = scrape.attr("targets")
    assert isinstance(relabel_ref, Ref) and relabel_ref.component == "discovery.relabel"
    relabel = comp(blocks, "discovery.relabel", relabel_ref.label)
    assert relabel.attr("targets") == exporter
    assert relabel_targets(relabel) == {"job": ("fixed", job), "instance": ("fixed", NODE)}
    assert scrape.attr("job_name") == job
    assert scrape.attr("scrape_interval") == "30s"
    assert scrape.attr("forward_to") == [Ref("prometheus.remote_write", "default", "receiver")]
    assert only(comp(blocks, "prometheus.remote_write", "default"), "endpoint").attr("url") == PROM


def test_vault_tls_probe(blocks: tuple[Block, ...]) -> None:
    blackbox = comp(blocks, "prometheus.exporter.blackbox", "vault_tls")
    modules = yaml.safe_load(str(blackbox.attr("config")))
    module = modules["modules"]["vault_tls"]
    assert module["prober"] == "http"
    http = module["http"]
    assert http["fail_if_not_ssl"] is True
    assert http["tls_config"] == {"ca_file": "/etc/vault-ca/ca.crt", "insecure_skip_verify": False}
    assert http["valid_status_codes"] == [200]
    target = only(blackbox, "target")
    assert target.attr("module") == "vault_tls"
    assert target.attr("address") == VAULT + VAULT_HEALTH_PATH
    assert "standbyok=true" in VAULT_HEALTH_PATH and "sealedcode=200" in VAULT_HEALTH_PATH


def test_scrape_interval_and_ca_settings() -> None:
    blocks = alloy_components(make(scrape_interval_seconds=15, vault_ca_file="/tls/ca.pem"))
    assert find_component(blocks, "prometheus.scrape", "node").attr("scrape_interval") == "15s"
    config = find_component(blocks, "prometheus.exporter.blackbox", "vault_tls").attr("config")
    assert json.loads(str(config))["modules"]["vault_tls"]["http"]["tls_config"]["ca_file"] == "/tls/ca.pem"


# --- traces -------------------------------------------------------------------------------------------


def test_otlp_receiver_batches_to_tempo(blocks: tuple[Block, ...]) -> None:
    receiver = comp(blocks, "otelcol.receiver.otlp", "default")
    assert only(receiver, "grpc").attr("endpoint") == f"0.0.0.0:{ALLOY_OTLP_GRPC_PORT}"
    assert only(receiver, "http").attr("endpoint") == f"0.0.0.0:{ALLOY_OTLP_HTTP_PORT}"
    assert (ALLOY_OTLP_GRPC_PORT, ALLOY_OTLP_HTTP_PORT) == (4317, 4318)
    assert only(receiver, "output").attr("traces") == [Ref("otelcol.processor.batch", "default", "input")]
    batch = comp(blocks, "otelcol.processor.batch", "default")
    assert only(batch, "output").attr("traces") == [Ref("otelcol.exporter.otlp", "tempo", "input")]
    client = only(comp(blocks, "otelcol.exporter.otlp", "tempo"), "client")
    assert client.attr("endpoint") == TEMPO
    assert only(client, "tls").attr("insecure") is True


# --- process and host access --------------------------------------------------------------------------


def test_command_line_disables_reporting_and_listens_for_probes() -> None:
    assert ALLOY_ARGS[:2] == ("run", ALLOY_CONFIG_PATH)
    assert "--disable-reporting" in ALLOY_ARGS
    assert f"--server.http.listen-addr=0.0.0.0:{ALLOY_HTTP_PORT}" in ALLOY_ARGS
    assert f"--storage.path={ALLOY_STORAGE_PATH}" in ALLOY_ARGS
    assert ALLOY_HTTP_PORT == 12345


def test_host_paths_cover_what_the_config_reads(blocks: tuple[Block, ...]) -> None:
    mounts = {h.mount_path for h in ALLOY_HOST_PATHS}
    text = render_alloy_config(make())
    used = {JOURNAL_DIR, "/run/log/journal", HOST_PROC, HOST_SYS, HOST_ROOT}
    for path in used:
        assert path in text
        assert any(path == m or path.startswith(m + "/") for m in mounts), path
    assert all(h.reason for h in ALLOY_HOST_PATHS)
    assert {h.host_path for h in ALLOY_HOST_PATHS} == {
        "/var/log",
        "/run/log/journal",
        "/etc/machine-id",
        "/proc",
        "/sys",
        "/",
    }
    # pod logs come through the API: no component reads the pod log directory of the host
    assert f'"{POD_LOG_DIR}' not in text


# --- validation ---------------------------------------------------------------------------------------


def test_fails_vault_url_without_tls() -> None:
    with pytest.raises(
        ValueError, match=r"'vault_api_url' must be an https:// URL with a host, got 'http://v:8200'"
    ):
        make(vault_api_url="http://v:8200")


def test_fails_vault_url_with_a_path() -> None:
    with pytest.raises(ValueError, match=r"'vault_api_url' must be the API base URL without a path"):
        make(vault_api_url="https://v:8200/v1/sys/health")


@pytest.mark.parametrize("address", ["http://tempo:4317", "tempo", "tempo:http", "tempo:70000"])
def test_fails_tempo_address_not_host_port(address: str) -> None:
    with pytest.raises(ValueError, match=r"'tempo_otlp_grpc_address' must be host:port without a scheme"):
        make(tempo_otlp_grpc_address=address)


@pytest.mark.parametrize(
    ("setting", "value"), [("loki_push_url", "loki:3100"), ("prometheus_remote_write_urls", ("prom:9090",))]
)
def test_fails_sink_url_not_http(setting: str, value: object) -> None:
    with pytest.raises(ValueError, match=rf"'{setting}' must be an http:// or https:// URL"):
        make(**{setting: value})


def test_one_remote_write_endpoint_per_prometheus_replica() -> None:
    """An HA pair gets every sample on both replicas: one endpoint block (own queue) per URL."""
    urls = tuple(f"http://prometheus-{i}.prometheus-internal.{NS}.svc:9090/api/v1/write" for i in range(2))
    write = find_component(
        alloy_components(make(prometheus_remote_write_urls=urls)), "prometheus.remote_write", "default"
    )
    assert [e.body for e in write.blocks("endpoint")] == [(Attr("url", url),) for url in urls]
    with pytest.raises(ValueError, match=r"'prometheus_remote_write_urls' lists a URL twice"):
        make(prometheus_remote_write_urls=(urls[0], urls[0]))


@pytest.mark.parametrize(
    "glob",
    [
        "/var/log/pods/*/*/*.log",
        "/var/log/containers/*.log",
        "/var/log/**/*.log",
        "/etc/*.log",
        "/var/log/../x",
    ],
)
def test_fails_varlog_glob_overlapping_other_pipelines(glob: str) -> None:
    with pytest.raises(ValueError, match=r"'varlog_globs' entry .* must be a normalised, non-recursive glob"):
        make(varlog_globs=(glob,))


def test_fails_bad_namespace() -> None:
    with pytest.raises(ValueError, match=r"'Vault_AIO' is not a valid name"):
        make(namespaces=("Vault_AIO",))


def test_fails_scrape_interval_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"'scrape_interval_seconds' must be between 5 and 600, got 1"):
        make(scrape_interval_seconds=1)


def test_fails_relative_ca_file() -> None:
    with pytest.raises(ValueError, match=r"'vault_ca_file' must be an absolute path, got 'ca.crt'"):
        make(vault_ca_file="ca.crt")


def test_fails_journal_max_age() -> None:
    with pytest.raises(ValueError, match=r"'journal_max_age_hours' must be >= 1, got 0"):
        make(journal_max_age_hours=0)


def test_attribute_values_are_the_typed_inputs(blocks: tuple[Block, ...]) -> None:
    # Guard against an Attr sneaking in a raw URL string built by hand.
    for blk in blocks:
        for item in blk.body:
            if isinstance(item, Attr) and isinstance(item.value, str):
                assert "${" not in item.value, item


def test_each_destination_switches_its_pipelines() -> None:
    logs_only = alloy_components(AlloyConfig(namespaces=(NS,), loki_push_url=LOKI))
    assert {b.name for b in logs_only} >= {"loki.write", "loki.process"}
    assert not [b for b in logs_only if b.name.startswith(("prometheus.", "otelcol."))]
    traces_only = alloy_components(AlloyConfig(namespaces=(NS,), tempo_otlp_grpc_address=TEMPO))
    assert {b.name for b in traces_only} == {"logging", *(n for n in EXPORTS if n.startswith("otelcol."))}
    no_probe = alloy_components(make(vault_api_url=None))
    assert "prometheus.exporter.blackbox" not in {b.name for b in no_probe}
    assert find_component(no_probe, "prometheus.scrape", "node")


def test_fails_without_any_destination() -> None:
    with pytest.raises(ValueError, match=r"alloy needs at least one destination"):
        AlloyConfig(namespaces=(NS,))


def test_fails_probe_without_remote_write() -> None:
    with pytest.raises(
        ValueError, match=r"'vault_api_url' \(https://v:8200\) needs 'prometheus_remote_write_urls'"
    ):
        AlloyConfig(namespaces=(NS,), loki_push_url=LOKI, vault_api_url="https://v:8200")


def test_pod_logs_of_every_namespace_of_the_stack() -> None:
    blocks = alloy_components(make(namespaces=(NS, f"{NS}-node")))
    assert only(comp(blocks, "discovery.kubernetes", "pods"), "namespaces").attr("names") == [
        NS,
        f"{NS}-node",
    ]


def test_loki_tenant_goes_on_the_push_endpoint_only_when_set(blocks: tuple[Block, ...]) -> None:
    with pytest.raises(KeyError):
        only(comp(blocks, "loki.write", "default"), "endpoint").attr("tenant_id")
    tenant = alloy_components(make(loki_tenant_id="vault-aio"))
    assert only(comp(tenant, "loki.write", "default"), "endpoint").attr("tenant_id") == "vault-aio"


def test_tempo_over_tls_is_verified() -> None:
    blocks = alloy_components(make(tempo_otlp_grpc_address="tempo.example.com:443", tempo_otlp_tls=True))
    client = only(comp(blocks, "otelcol.exporter.otlp", "tempo"), "client")
    assert client.attr("endpoint") == "tempo.example.com:443"
    assert only(client, "tls").attr("insecure") is False


def test_fails_without_namespaces() -> None:
    with pytest.raises(ValueError, match="'namespaces' needs at least one namespace"):
        make(namespaces=())
