"""Pod placement and disruption guards for components that run several replicas of one ring (Loki, Tempo).

* :func:`replication_factor`: how many copies of each write the ring keeps: the replica count, capped at 3.
  With the default dskit replication strategy a write needs ``rf // 2 + 1`` acknowledgements, so 3 copies
  survive one unavailable pod and more copies only add cost (Loki 3.7 and Tempo 2.10 both vendor
  ``grafana/dskit/ring``; Tempo switches to an eventually consistent strategy, one acknowledgement, at
  ``rf == 2``).
* :func:`spread`: pod anti-affinity on the node (required or preferred) and a topology spread across zones
  (best effort, so single-zone clusters still schedule).
* :func:`pod_disruption_budget`: ``maxUnavailable: 1``, so a node drain never takes two copies at once.
* :class:`RingPeers`: the per-pod HTTP, memberlist and gRPC endpoints of the ring's members through their
  headless peers Service, and :meth:`RingPeers.wire`, which (with replicas) creates that Service, lets the
  members gossip and call each other, and adds the disruption budget.

Config renderers import :func:`replication_factor` without loading cdk8s (the builders import it lazily).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from vaultaio_constructs.vault.props import AntiAffinity
from vaultaio_constructs.wiring import Endpoint, Scheme

if TYPE_CHECKING:
    from cdk8s_plus_27 import k8s

    from vaultaio_constructs.component import Component

#: Copies kept of each write at most: enough to survive one lost pod with a quorum of two.
MAX_REPLICATION_FACTOR: Final = 3
ZONE_TOPOLOGY_KEY: Final = "topology.kubernetes.io/zone"
NODE_TOPOLOGY_KEY: Final = "kubernetes.io/hostname"

__all__ = ["AntiAffinity", "RingPeers", "pod_disruption_budget", "replication_factor", "spread"]


def replication_factor(replicas: int) -> int:
    """Copies of each write for ``replicas`` pods: all of them up to :data:`MAX_REPLICATION_FACTOR`."""
    if replicas < 1:
        raise ValueError(f"replicas must be >= 1, got {replicas}")
    return min(replicas, MAX_REPLICATION_FACTOR)


def spread(
    component: Component, anti_affinity: AntiAffinity
) -> tuple[k8s.Affinity, list[k8s.TopologySpreadConstraint]]:
    """Keep ``component``'s pods on different nodes and spread them over zones."""
    from cdk8s_plus_27 import k8s

    selector = k8s.LabelSelector(match_labels=dict(component.selector))
    term = k8s.PodAffinityTerm(label_selector=selector, topology_key=NODE_TOPOLOGY_KEY)
    if anti_affinity is AntiAffinity.REQUIRED:
        pod_anti_affinity = k8s.PodAntiAffinity(required_during_scheduling_ignored_during_execution=[term])
    else:
        pod_anti_affinity = k8s.PodAntiAffinity(
            preferred_during_scheduling_ignored_during_execution=[
                k8s.WeightedPodAffinityTerm(weight=100, pod_affinity_term=term)
            ]
        )
    zones = k8s.TopologySpreadConstraint(
        max_skew=1,
        topology_key=ZONE_TOPOLOGY_KEY,
        when_unsatisfiable="ScheduleAnyway",
        label_selector=selector,
    )
    return k8s.Affinity(pod_anti_affinity=pod_anti_affinity), [zones]


def pod_disruption_budget(component: Component) -> k8s.KubePodDisruptionBudget:
    """At most one of ``component``'s pods may be evicted at a time."""
    from cdk8s_plus_27 import k8s

    from vaultaio_constructs import kube
    from vaultaio_constructs.workload import int_or_string

    return component.track(
        kube.KubePodDisruptionBudget(
            component,
            "PodDisruptionBudget",
            metadata=component.meta(),
            spec=k8s.PodDisruptionBudgetSpec(
                max_unavailable=int_or_string(1),
                selector=k8s.LabelSelector(match_labels=dict(component.selector)),
            ),
        )
    )


@dataclass(frozen=True)
class RingPeers:
    """How the members of a memberlist ring reach each other, one pod at a time, through the headless
    peers Service: ``http`` (so Prometheus scrapes every pod), ``memberlist`` gossip and ``grpc``."""

    service: str
    http: Endpoint
    memberlist: Endpoint
    grpc: Endpoint

    @classmethod
    def of(
        cls, component: Component, *, service: str, http_port: int, memberlist_port: int, grpc_port: int
    ) -> RingPeers:
        """The peer endpoints of ``component`` through the headless Service named ``service``."""

        def peer(port_name: str, port: int, scheme: Scheme) -> Endpoint:
            return component.endpoint(
                port_name=port_name, port=port, scheme=scheme, service=service, per_pod=True
            )

        return cls(
            service=service,
            http=peer("http", http_port, Scheme.HTTP),
            memberlist=peer("memberlist", memberlist_port, Scheme.TCP),
            grpc=peer("grpc", grpc_port, Scheme.GRPC),
        )

    def wire(self, component: Component, *, program: str, grpc_reason: str) -> tuple[str, str]:
        """For ``component``'s replicas: the headless Service (not-ready pods published, so members find
        each other while starting), gossip and gRPC between the pods, and the disruption budget. Returns
        the memberlist join address (``dns+<service>:<port>``) and the gRPC address, for the config."""
        from vaultaio_constructs.workload import service

        service(
            component,
            [self.http, self.memberlist, self.grpc],
            name=self.service,
            headless=True,
            publish_not_ready=True,
        )
        gossip = component.connect(
            self.memberlist, reason=f"memberlist gossip of the rings between {program} pods"
        )
        grpc = component.connect(self.grpc, reason=f"{grpc_reason} between {program} pods")
        pod_disruption_budget(component)
        return f"dns+{gossip.address}", grpc.address
