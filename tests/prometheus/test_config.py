"""prometheus.yml renderer: structure, validation and ``promtool check config`` with real files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.tools import require_tool
from vaultaio_constructs.alerts import prometheus_rule_groups, render_rules
from vaultaio_constructs.prometheus.config import (
    REMOTE_WRITE_FLAG,
    PrometheusConfig,
    ScrapeJob,
    ScrapeProtocol,
    ScrapeTls,
    prometheus_args,
    render_prometheus_config,
    vault_scrape_job,
)

NS = "vault-aio"


def _config(ca_file: str | None, rule_glob: str) -> PrometheusConfig:
    return PrometheusConfig(
        jobs=(
            vault_scrape_job(
                headless_service_fqdn=f"vault-internal.{NS}.svc.cluster.local",
                port=8202,
                ca_file=ca_file,
                server_name=f"vault.{NS}.svc",
            ),
            ScrapeJob(job="prometheus", static_targets=(f"prometheus.{NS}.svc:9090",)),
            ScrapeJob(job="alertmanager", static_targets=(f"alertmanager.{NS}.svc:9093",)),
            ScrapeJob(job="grafana", static_targets=(f"grafana.{NS}.svc:3000",)),
            ScrapeJob(job="loki", static_targets=(f"loki.{NS}.svc:3100",)),
            ScrapeJob(job="tempo", static_targets=(f"tempo.{NS}.svc:3200",)),
        ),
        alertmanagers=(f"http://alertmanager.{NS}.svc:9093",),
        rule_files=(rule_glob,),
    )


def _jobs(document: dict[str, object]) -> dict[str, dict[str, object]]:
    return {job["job_name"]: job for job in document["scrape_configs"]}  # type: ignore[attr-defined]


def test_vault_is_discovered_per_pod_over_tls() -> None:
    vault = _jobs(
        yaml.safe_load(render_prometheus_config(_config("/etc/prometheus/vault-ca/ca.crt", "/r/*.yaml")))
    )["vault"]
    assert vault["dns_sd_configs"] == [
        {"names": [f"vault-internal.{NS}.svc.cluster.local"], "type": "A", "port": 8202}
    ]
    assert vault["metrics_path"] == "/v1/sys/metrics"
    assert vault["params"] == {"format": ["prometheus"]}
    assert vault["scheme"] == "https"
    assert vault["tls_config"] == {
        "ca_file": "/etc/prometheus/vault-ca/ca.crt",
        "server_name": f"vault.{NS}.svc",
        "insecure_skip_verify": False,
    }
    assert "static_configs" not in vault


def test_vault_without_tls_uses_http() -> None:
    vault = _jobs(yaml.safe_load(render_prometheus_config(_config(None, "/r/*.yaml"))))["vault"]
    assert vault["scheme"] == "http"
    assert "tls_config" not in vault


def test_components_are_static_targets_with_their_service_names() -> None:
    document = yaml.safe_load(render_prometheus_config(_config(None, "/r/*.yaml")))
    jobs = _jobs(document)
    assert jobs["loki"]["static_configs"] == [{"targets": [f"loki.{NS}.svc:3100"]}]
    assert jobs["tempo"]["metrics_path"] == "/metrics"
    assert document["alerting"]["alertmanagers"][0]["static_configs"] == [
        {"targets": [f"alertmanager.{NS}.svc:9093"]}
    ]
    assert document["global"] == {
        "scrape_interval": "30s",
        "scrape_timeout": "10s",
        "evaluation_interval": "30s",
    }


def test_output_is_deterministic() -> None:
    first = render_prometheus_config(_config(None, "/r/*.yaml"))
    assert first == render_prometheus_config(_config(None, "/r/*.yaml"))
    assert list(_jobs(yaml.safe_load(first))) == sorted(_jobs(yaml.safe_load(first)))


def test_bearer_token_file_and_interval() -> None:
    job = ScrapeJob(
        job="my-app",
        static_targets=("app.apps.svc:8080",),
        bearer_token_file="/etc/prometheus/secrets/app/token",
        scrape_interval_seconds=60,
        tls=ScrapeTls(ca_file="/etc/prometheus/secrets/app/ca.crt"),
    ).to_config()
    assert job["authorization"] == {"type": "Bearer", "credentials_file": "/etc/prometheus/secrets/app/token"}
    assert job["scrape_interval"] == "60s"
    assert job["tls_config"] == {
        "ca_file": "/etc/prometheus/secrets/app/ca.crt",
        "insecure_skip_verify": False,
    }


def test_promtool_check_config_with_real_files(tmp_path: Path) -> None:
    """Full check: the CA and the rule files the config names exist, and the rules parse."""
    promtool = require_tool("promtool")
    ca = tmp_path / "vault-ca" / "ca.crt"
    ca.parent.mkdir()
    ca.write_text("placeholder: promtool checks that the file exists, not its content\n")
    rules = tmp_path / "rules"
    rules.mkdir()
    groups = prometheus_rule_groups()
    (rules / "vault-aio.yaml").write_text(render_rules(groups))
    config = tmp_path / "prometheus.yml"
    config.write_text(render_prometheus_config(_config(str(ca), str(rules / "*.yaml"))))
    result = subprocess.run(
        [promtool, "check", "config", str(config)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {sum(len(group.rules) for group in groups)} rules found" in result.stdout


def test_fallback_scrape_protocol_only_where_set() -> None:
    plain = ScrapeJob(job="app", static_targets=("app.apps.svc:8080",)).to_config()
    assert "fallback_scrape_protocol" not in plain
    job = ScrapeJob(
        job="app",
        static_targets=("app.apps.svc:8080",),
        fallback_scrape_protocol=ScrapeProtocol.PROMETHEUS_TEXT_0_0_4,
    ).to_config()
    assert job["fallback_scrape_protocol"] == "PrometheusText0.0.4"


def test_promtool_accepts_every_fallback_scrape_protocol(tmp_path: Path) -> None:
    """Each :class:`ScrapeProtocol` is a value Prometheus 3 knows; an unknown one is refused."""
    promtool = require_tool("promtool")
    jobs = tuple(
        ScrapeJob(job=f"app-{i}", static_targets=("app.apps.svc:8080",), fallback_scrape_protocol=protocol)
        for i, protocol in enumerate(ScrapeProtocol)
    )
    config = tmp_path / "prometheus.yml"
    config.write_text(render_prometheus_config(PrometheusConfig(jobs=jobs)))
    result = subprocess.run(
        [promtool, "check", "config", str(config)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    config.write_text(config.read_text().replace("PrometheusProto", "PrometheusText9"))
    result = subprocess.run(
        [promtool, "check", "config", str(config)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "unknown scrape protocol PrometheusText9" in result.stdout + result.stderr


def test_promtool_check_config_rejects_a_missing_rule_file(tmp_path: Path) -> None:
    """The full check is real: a rule file the config names must exist (promtool does not open CA files)."""
    promtool = require_tool("promtool")
    config = tmp_path / "prometheus.yml"
    config.write_text(render_prometheus_config(_config(None, str(tmp_path / "missing.yaml"))))
    result = subprocess.run(
        [promtool, "check", "config", str(config)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "does not point to an existing file" in result.stdout + result.stderr


def test_args_enable_remote_write_and_retention() -> None:
    args = prometheus_args(
        config_file="/etc/prometheus/prometheus.yml",
        storage_path="/prometheus",
        retention_days=15,
        retention_size_gib=8,
        port=9090,
    )
    assert REMOTE_WRITE_FLAG in args
    assert "--web.listen-address=:9090" in args
    assert "--storage.tsdb.retention.time=15d" in args
    assert "--storage.tsdb.retention.size=8GB" in args
    assert "--storage.tsdb.path=/prometheus" in args


def test_fails_duplicate_job() -> None:
    job = ScrapeJob(job="loki", static_targets=("loki.vault-aio.svc:3100",))
    with pytest.raises(ValueError, match=r"scrape job names must be unique, got duplicates \['loki'\]"):
        PrometheusConfig(jobs=(job, job))


def test_fails_both_static_and_dns() -> None:
    with pytest.raises(ValueError, match="set exactly one of 'static_targets' or 'dns_names'"):
        ScrapeJob(job="x", static_targets=("a.b:1",), dns_names=("a.b",), dns_port=1)


def test_fails_dns_without_port() -> None:
    with pytest.raises(ValueError, match="'dns_port' is required with 'dns_names'"):
        ScrapeJob(job="x", dns_names=("vault-internal.vault-aio.svc.cluster.local",))


def test_fails_target_without_port() -> None:
    with pytest.raises(ValueError, match="'static_targets' must be 'host:port'"):
        ScrapeJob(job="x", static_targets=("http://loki:3100",))


def test_fails_timeout_above_interval() -> None:
    with pytest.raises(
        ValueError, match=r"'scrape_timeout_seconds' \(60\) must be <= 'scrape_interval_seconds' \(30\)"
    ):
        PrometheusConfig(jobs=(), scrape_timeout_seconds=60)


def test_fails_relative_ca_file() -> None:
    with pytest.raises(ValueError, match="'ca_file' must be an absolute in-pod path"):
        ScrapeTls(ca_file="ca.crt")


def test_fails_zero_retention() -> None:
    with pytest.raises(ValueError, match="'retention_days' must be >= 1, got 0"):
        prometheus_args(
            config_file="/c", storage_path="/p", retention_days=0, retention_size_gib=None, port=9090
        )


def test_external_alertmanager_over_https_with_a_path_prefix() -> None:
    document = PrometheusConfig(
        jobs=(),
        alertmanagers=(f"http://alertmanager.{NS}.svc:9093", "https://am.example.com:443/alertmanager"),
    ).to_dict()
    assert document["alerting"]["alertmanagers"] == [
        {
            "api_version": "v2",
            "scheme": "http",
            "static_configs": [{"targets": [f"alertmanager.{NS}.svc:9093"]}],
        },
        {
            "api_version": "v2",
            "scheme": "https",
            "path_prefix": "/alertmanager",
            "static_configs": [{"targets": ["am.example.com:443"]}],
        },
    ]


def test_fails_alertmanager_without_scheme() -> None:
    with pytest.raises(ValueError, match="must be http"):
        PrometheusConfig(jobs=(), alertmanagers=("alertmanager:9093",))
