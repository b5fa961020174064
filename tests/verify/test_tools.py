"""The commands verify runs in pods, run for real here: bash's /dev/tcp HTTP and TCP probe against a server on
loopback, the Grafana curl snippet (credentials never in argv), chronyc against a real chronyd, the drift
program on directories like kubectl writes them, and the certificate reader against openssl."""

from __future__ import annotations

import base64
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.tools import require_tool
from tests.verify.conftest import (
    DIST,
    FakeRunner,
    fake_cluster,
    load_objects,
    make_cert,
    manifests,
    write_dist,
)
from vaultaio_constructs.verify import checks, drift, images
from vaultaio_constructs.verify.images import Http
from vaultaio_constructs.verify.kube import Kubectl, Result
from vaultaio_constructs.verify.x509 import not_after


class _Handler(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        _Handler.seen.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )
        payload = json.dumps({"ok": True, "path": self.path}).encode()
        self.send_response(200 if self.path != "/missing" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()


def _run(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False, env=env)


def test_bash_http_post_as_alloy_sends_otlp(server: int) -> None:
    require_tool("bash")
    require_tool("timeout")
    body = json.dumps({"resourceSpans": []})
    proc = _run(images.http_post_json("127.0.0.1", server, "/v1/traces", body, 5))
    status, answer = images.parse_http(Http.BASH, proc.returncode, proc.stdout, proc.stderr)
    assert status == 200 and json.loads(answer)["path"] == "/v1/traces"
    request = _Handler.seen[-1]
    assert request["method"] == "POST" and request["body"] == body
    assert request["headers"]["Content-Type"] == "application/json"


def test_bash_http_get_reports_the_status(server: int) -> None:
    require_tool("bash")
    proc = _run(images.http_get(Http.BASH, "127.0.0.1", server, "/missing", 5))
    assert images.parse_http(Http.BASH, proc.returncode, proc.stdout, proc.stderr)[0] == 404


def test_tcp_probe_connects_or_fails(server: int) -> None:
    require_tool("bash")
    assert _run(images.tcp_connect("127.0.0.1", server, 5)).returncode == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert _run(images.tcp_connect("127.0.0.1", closed, 5)).returncode != 0


def test_curl_snippet_sends_basic_auth_without_the_password_in_argv(server: int, tmp_path: Path) -> None:
    curl = require_tool("curl")
    password = 'p"a\\ss w0rd$'
    (tmp_path / "admin-user").write_text("admin")
    (tmp_path / "admin-password").write_text(password)
    argv_log = tmp_path / "argv"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "curl").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >"{argv_log}"\nexec "{curl}" "$@"\n')
    (bin_dir / "curl").chmod(0o755)
    url = f"http://127.0.0.1:{server}/api/search"
    cmd = [
        "sh", "-c", images.CURL_BASIC_AUTH, "sh",
        str(tmp_path / "admin-user"), str(tmp_path / "admin-password"), "5", url,
    ]  # fmt: skip
    proc = _run(cmd, env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    status, _ = images.parse_http(Http.CURL, proc.returncode, proc.stdout, proc.stderr)
    assert status == 200, proc.stderr
    assert (
        _Handler.seen[-1]["headers"]["Authorization"]
        == "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()
    )
    assert password not in argv_log.read_text()


def test_wget_failure_is_parsed_as_its_status() -> None:
    err = "wget: server returned error: HTTP/1.1 503 Service Unavailable\n"
    assert images.parse_http(Http.WGET, 1, "", err) == (503, "")
    assert images.parse_http(Http.WGET, 1, "", "wget: download timed out\n")[0] == 0


def test_image_repositories() -> None:
    assert images.repository("docker.io/grafana/loki:3.7.6") == "grafana/loki"
    assert images.repository("quay.io/prometheus/prometheus:v3.14.0") == "prometheus/prometheus"
    assert images.repository("localhost:5000/grafana/tempo:2.10.8@sha256:ab") == "grafana/tempo"
    for w in manifests(DIST).workloads():
        assert images.toolbox(w.image()) is not images.NO_TOOLS, w.image()


def test_chrony_check_reads_a_real_chronyd(tmp_path: Path, cert_pem: str) -> None:
    """The stack's own chrony.conf (paths moved to a private directory), chronyd -x (never touches the clock)
    and the check's own chronyc command: with no reachable server it reports 'Not synchronised'."""
    chronyd = shutil.which("chronyd") or ("/usr/sbin/chronyd" if Path("/usr/sbin/chronyd").exists() else None)
    if chronyd is None:
        chronyd = require_tool("chronyd")
    chronyc = require_tool("chronyc")
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    objects = load_objects()
    cm = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "chrony-config")
    conf = (
        cm["data"]["chrony.conf"]
        .replace("/run/chronyd", str(run_dir))
        .replace("/var/lib/chrony", str(run_dir))
    )
    conf = re.sub(r"^server .*$", "", conf, flags=re.M)  # no network here: nothing to synchronise with
    cm["data"]["chrony.conf"] = conf
    (tmp_path / "chrony.conf").write_text(conf)
    dist = write_dist(objects, tmp_path / "dist")
    daemon = subprocess.Popen(
        [chronyd, "-x", "-d", "-u", "root", "-f", str(tmp_path / "chrony.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        sock = run_dir / "chronyd.sock"
        for _ in range(50):
            if sock.exists():
                break
            time.sleep(0.1)
        state = fake_cluster.build(objects, cert_pem=cert_pem)
        fake = FakeRunner(state)

        def runner(argv: Any, stdin: bytes | None, env: Any) -> Result:
            argv = list(argv)
            if argv[:1] == ["exec"] and argv[argv.index("--") + 1] == "chronyc":
                cmd = argv[argv.index("--") + 1 :]
                proc = subprocess.run(
                    [chronyc, *cmd[1:]], capture_output=True, text=True, timeout=10, check=False
                )
                return Result(proc.returncode, proc.stdout, proc.stderr)
            return fake(argv, stdin, env)

        options = checks.Options(dist=dist, only=["time.chrony"])
        outcome = checks.Verifier(manifests(dist), Kubectl(runner), options).run()[0]
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)
    assert str(outcome.status) == "FAIL"
    assert outcome.details == [f"{n}: not synchronised (reference 00000000)" for n in ("node-a", "node-b")]


def test_drift_program_on_yaml_directories(tmp_path: Path) -> None:
    live, merged = tmp_path / "LIVE-1", tmp_path / "MERGED-2"
    live.mkdir()
    merged.mkdir()
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "vault", "namespace": "vault-aio", "generation": 4, "resourceVersion": "9"},
        "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "vault", "image": "v:1"}]}}},
        "status": {"readyReplicas": 3},
    }
    changed = json.loads(json.dumps(sts))
    changed["metadata"].update(generation=5, resourceVersion="10")
    changed["spec"]["replicas"] = 1
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "v:2"
    (live / "apps.v1.StatefulSet.vault-aio.vault").write_text(yaml.safe_dump(sts))
    (merged / "apps.v1.StatefulSet.vault-aio.vault").write_text(yaml.safe_dump(changed))
    (live / "v1.ConfigMap.vault-aio.same").write_text("kind: ConfigMap\n")
    (merged / "v1.ConfigMap.vault-aio.same").write_text("kind: ConfigMap\n")
    (live / "v1.Service.vault-aio.new").write_text("")
    (merged / "v1.Service.vault-aio.new").write_text(
        yaml.safe_dump(
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "new", "namespace": "vault-aio"}}
        )
    )
    result = drift.compare(live, merged)
    assert result == [
        {
            "object": "apps/v1 StatefulSet vault-aio/vault",
            "missing": False,
            "fields": [
                {"path": "spec.replicas", "live": "3", "dist": "1"},
                {"path": "spec.template.spec.containers[vault].image", "live": "v:1", "dist": "v:2"},
            ],
        },
        {"object": "v1 Service vault-aio/new", "missing": True, "fields": []},
    ]
    assert drift.main([str(live), str(merged)]) == 1


@pytest.mark.parametrize("days", [1, 400, 20000])
def test_certificate_expiry_matches_openssl(tmp_path: Path, days: int) -> None:
    openssl = require_tool("openssl")
    pem = make_cert(tmp_path, days)
    end = subprocess.run(
        [openssl, "x509", "-noout", "-enddate"], input=pem, capture_output=True, text=True, check=True
    )
    expected = end.stdout.strip().removeprefix("notAfter=")
    assert not_after(pem).strftime("%b %e %H:%M:%S %Y GMT").replace("  ", " ") == " ".join(expected.split())
