"""scripts/kube-api-cidrs.sh against the fake kubectl: the network.kube_api block it prints for a cluster."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.scripts.conftest import SCRIPTS, FakeCluster
from tests.scripts.fake_kubectl import new_state
from vaultaio_constructs.settings import parse_settings


def slice_(kind: str, addresses: list[str], ports: list[int]) -> dict[str, Any]:
    return {
        "addressType": kind,
        "endpoints": [{"addresses": [a], "conditions": {"ready": True}} for a in addresses],
        "ports": [{"name": "https", "port": p, "protocol": "TCP"} for p in ports],
    }


def printed_settings(out: str) -> dict[str, Any]:
    data = yaml.safe_load(out)
    assert isinstance(data, dict)
    return data


def test_prints_the_api_server_address_of_a_single_stack_cluster(cluster: FakeCluster) -> None:
    cluster.state = new_state()
    run = cluster.run("kube-api-cidrs.sh")
    assert run.rc == 0, run.stderr
    assert printed_settings(run.stdout) == {
        "network": {"kube_api": {"cidrs": ["192.0.2.10/32"], "ports": [6443]}}
    }
    assert run.stdout.startswith("# network.kube_api for fake-context ")
    (call,) = run.argvs()[:1]
    assert call == [
        "-n",
        "default",
        "get",
        "endpointslices",
        "-l",
        "kubernetes.io/service-name=kubernetes",
        "-o",
        "json",
    ]


def test_dual_stack_and_several_control_plane_nodes(cluster: FakeCluster) -> None:
    state = new_state()
    state["kube_api_endpointslices"] = [
        slice_("IPv4", ["198.51.100.12", "198.51.100.11", "198.51.100.12"], [6443]),
        slice_("IPv6", ["2001:db8::11", "2001:db8::12"], [6443]),
    ]
    cluster.state = state
    run = cluster.run("kube-api-cidrs.sh", "--context", "prod")
    assert run.rc == 0, run.stderr
    kube_api = printed_settings(run.stdout)["network"]["kube_api"]
    assert kube_api == {
        "cidrs": ["198.51.100.11/32", "198.51.100.12/32", "2001:db8::11/128", "2001:db8::12/128"],
        "ports": [6443],
    }
    assert all(argv[:2] == ["--context", "prod"] for argv in run.argvs())


def test_the_printed_block_is_accepted_by_the_settings_schema(cluster: FakeCluster) -> None:
    state = new_state()
    state["kube_api_endpointslices"] = [
        slice_("IPv4", ["10.0.0.1"], [443]),
        slice_("IPv6", ["fd00::1"], [443]),
    ]
    cluster.state = state
    run = cluster.run("kube-api-cidrs.sh")
    assert run.rc == 0, run.stderr
    props = parse_settings(printed_settings(run.stdout), "kube-api-cidrs.sh output")
    assert props.network.kube_api.cidrs == ("10.0.0.1/32", "fd00::1/128")
    assert props.network.kube_api.ports == (443,)


def test_fails_clearly_without_endpointslices(cluster: FakeCluster) -> None:
    state = new_state()
    state["kube_api_endpointslices"] = []
    cluster.state = state
    run = cluster.run("kube-api-cidrs.sh")
    assert run.rc == 1
    assert "Service kubernetes in namespace default has no EndpointSlice" in run.stderr
    assert run.stdout == ""


def test_fails_when_the_cluster_is_unreachable(cluster: FakeCluster) -> None:
    state = new_state()
    state["reachable"] = False
    cluster.state = state
    run = cluster.run("kube-api-cidrs.sh")
    assert run.rc == 1
    assert "cannot list the EndpointSlices of Service kubernetes" in run.stderr
    assert "was refused" in run.stderr


@pytest.mark.parametrize(
    ("args", "message"), [(["--bogus"], "unknown option: --bogus"), (["--context"], "needs a value")]
)
def test_fails_on_bad_options(cluster: FakeCluster, args: list[str], message: str) -> None:
    cluster.state = new_state()
    run = cluster.run("kube-api-cidrs.sh", *args)
    assert run.rc == 2 and message in run.stderr
    assert run.calls == []


def test_make_target_runs_the_script() -> None:
    makefile = (Path(SCRIPTS).parent / "Makefile").read_text()
    target = re.search(r"^kube-api-cidrs:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert target is not None, "make kube-api-cidrs is missing"
    assert "scripts/kube-api-cidrs.sh" in target.group(1)
