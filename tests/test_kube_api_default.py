"""Kubernetes API egress: a working IPv4 and IPv6 default, and a synth warning while it is that wide."""

from __future__ import annotations

import ipaddress

from app import synth_warnings
from tests.stack import Stack
from vaultaio_constructs.settings import VaultAioProps, parse_settings


def _api_policy_cidrs(stack: Stack, consumer: str) -> tuple[set[str], set[int]]:
    policy = stack.get("NetworkPolicy", f"allow-{consumer}-to-kube-apiserver")
    (rule,) = policy["spec"]["egress"]
    return {peer["ipBlock"]["cidr"] for peer in rule["to"]}, {p["port"] for p in rule["ports"]}


def test_default_egress_covers_ipv4_and_ipv6_alike(stack: Stack) -> None:
    for consumer in ("vault", "alloy"):
        cidrs, ports = _api_policy_cidrs(stack, consumer)
        assert {ipaddress.ip_network(c).version for c in cidrs} == {4, 6}, f"{consumer}: {cidrs}"
        assert all(ipaddress.ip_network(c).prefixlen == 0 for c in cidrs)
        assert ports == {443, 6443}


def test_synth_warns_while_any_address_is_allowed() -> None:
    (warning,) = synth_warnings(VaultAioProps())
    assert "network.kube_api.cidrs allows any address (0.0.0.0/0, ::/0) on ports 443, 6443" in warning
    assert "make kube-api-cidrs" in warning
    only_v4 = parse_settings({"network": {"kube_api": {"cidrs": ["0.0.0.0/0"]}}})
    assert "(0.0.0.0/0)" in synth_warnings(only_v4)[0]


def test_no_warning_once_the_api_server_addresses_are_set() -> None:
    props = parse_settings(
        {"network": {"kube_api": {"cidrs": ["192.0.2.10/32", "2001:db8::10/128"], "ports": [6443]}}}
    )
    assert synth_warnings(props) == []
