"""The stack's Namespaces, each labelled for Pod Security admission (written to ``dist/setup/``).

``StackChart.finish()`` creates one Namespace per namespace a component lives in. ``enforce`` is the most
permissive level a component in that namespace declares (its ``pod_security``): ``restricted`` for the
main namespace, whose pods all meet it, and ``privileged`` for the node namespace, whose agents need host
access (Alloy: read-only hostPath; Chrony: ``SYS_TIME``). ``warn`` and ``audit`` stay at ``restricted``
everywhere, so any pod that departs from it is reported at admission.
"""

from __future__ import annotations

from constructs import Construct

from vaultaio_constructs import kube
from vaultaio_constructs.component import Component
from vaultaio_constructs.placement import Area, PodSecurity

#: Pod Security admission label prefix.
POD_SECURITY_LABEL = "pod-security.kubernetes.io"


def pod_security_labels(enforce: PodSecurity) -> dict[str, str]:
    """``enforce`` at ``enforce``; ``warn`` and ``audit`` at ``restricted``."""
    return {
        f"{POD_SECURITY_LABEL}/enforce": str(enforce),
        f"{POD_SECURITY_LABEL}/warn": str(PodSecurity.RESTRICTED),
        f"{POD_SECURITY_LABEL}/audit": str(PodSecurity.RESTRICTED),
    }


class Namespaces(Component):
    """One Namespace per namespace of the stack, main first."""

    area = Area.SETUP
    created_by_finish = True

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id, name="namespace", role="namespace", version="1")
        for namespace in self.stack.namespaces:
            level = self.stack.pod_security(namespace)
            self.track(
                kube.KubeNamespace(
                    self,
                    f"Namespace-{namespace}",
                    metadata=self.meta(namespace, labels=pod_security_labels(level), namespaced=False),
                )
            )
