"""The network settings of a stack (``network``): where the cluster DNS, the Kubernetes API server and the
ingress controller are, which the generated NetworkPolicies (:mod:`vaultaio_constructs.network`) need. No
jsii here: the settings import it without starting Node.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic.dataclasses import dataclass

from vaultaio_constructs.common import PROPS_CONFIG, Cidr, DnsLabel, Port, Selector
from vaultaio_constructs.fielddocs import document_fields


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class DnsProps:
    """Where the cluster DNS runs. Defaults fit kubeadm, k3s, kind and most managed clusters."""

    namespace: DnsLabel = Field(default="kube-system", description="Namespace of the DNS pods.")
    pod_labels: Selector = Field(
        default_factory=lambda: {"k8s-app": "kube-dns"},
        description=(
            "Labels of the DNS pods (CoreDNS keeps the historical ``k8s-app: kube-dns``); never empty."
        ),
    )
    port: Port = Field(default=53, description="DNS port (UDP and TCP).")


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class KubeApiProps:
    """Where the Kubernetes API server listens, for pods that call it (Vault service registration,
    Alloy pod discovery). The API server is not a pod, so it can only be matched by IP block.

    The default allows any address, IPv4 and IPv6, on the usual API ports, so the stack works on any
    cluster; ``app.py`` warns at every synth while a ``/0`` network is allowed. Narrow ``cidrs`` (and
    ``ports``) to your API server's endpoints in production: ``make kube-api-cidrs``
    (``scripts/kube-api-cidrs.sh``) prints them from the ``kubernetes`` EndpointSlices in ``default``.
    """

    cidrs: Annotated[tuple[Cidr, ...], Field(min_length=1)] = Field(
        default=("0.0.0.0/0", "::/0"),
        description="Networks of the API server endpoints (default: any IPv4 and any IPv6 address).",
    )
    ports: Annotated[tuple[Port, ...], Field(min_length=1)] = Field(
        default=(443, 6443),
        description=(
            "Ports of the API server endpoints (443 on most managed clusters, 6443 on kubeadm and k3s)."
        ),
    )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class IngressControllerProps:
    """Which pods may reach endpoints that an Ingress routes to (Vault's API, Grafana), and Alloy's OTLP
    receivers when ``alloy.otlp_from_ingress_controller`` is on."""

    namespace_labels: Selector = Field(
        default_factory=lambda: {"kubernetes.io/metadata.name": "ingress-nginx"},
        description=(
            "Labels of the ingress controller's namespace (at least one: ``{}`` would select every namespace "
            "and open Vault, Grafana and Alloy's OTLP receivers to all of them)."
        ),
    )
    pod_labels: Selector | None = Field(
        default=None,
        description=(
            "Labels of the controller pods within that namespace (``None``: any pod there; ``{}`` is "
            "refused)."
        ),
    )


@document_fields
@dataclass(frozen=True, kw_only=True, config=PROPS_CONFIG)
class NetworkProps:
    """Network settings that the generated NetworkPolicies need about the cluster around the stack."""

    dns: DnsProps = Field(
        default_factory=DnsProps,
        description="Where the cluster DNS runs. Defaults fit kubeadm, k3s, kind and most managed clusters.",
    )
    kube_api: KubeApiProps = Field(
        default_factory=KubeApiProps,
        description=(
            "Where the Kubernetes API server listens, for pods that call it (Vault service registration, "
            "Alloy pod discovery). The API server is not a pod, so it can only be matched by IP block."
        ),
    )
    ingress_controller: IngressControllerProps = Field(
        default_factory=IngressControllerProps,
        description=(
            "Which pods may reach endpoints that an Ingress routes to (Vault's API, Grafana), and Alloy's "
            "OTLP receivers when ``alloy.otlp_from_ingress_controller`` is on."
        ),
    )
