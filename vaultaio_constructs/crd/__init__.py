"""Custom resources as the project's own small typed models, emitted through cdk8s ``ApiObject``.

The stack emits a few objects of other projects' APIs: Prometheus Operator (``monitoring.coreos.com/v1``:
PodMonitor, PrometheusRule, Probe) and cert-manager (``cert-manager.io/v1``: Certificate, Issuer). Instead of
generated bindings (which would carry upstream's descriptions and hundreds of unused types), each kind used
has a frozen dataclass here with exactly the fields the stack sets, validated when it is built, and a
``to_dict()`` that renders the API's camelCase form. :class:`CustomResource` turns one into an ``ApiObject``
with its whole ``spec`` in one call (one jsii round trip per object).

The tests validate every emitted object against the CRD's ``openAPIV3Schema`` of the pinned upstream
versions (prometheus-operator v0.93.0, cert-manager v1.21.1), so a field the API would refuse fails there.

Nothing here is imported on the default synth path: the modules are loaded only by the components that
emit custom resources, and only when settings ask for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import cdk8s
from constructs import Construct


class SpecModel(Protocol):
    """A typed ``spec`` of a custom resource."""

    def to_dict(self) -> dict[str, Any]: ...


class CustomResource(cdk8s.ApiObject):
    """One custom resource: ``apiVersion``, ``kind``, metadata and a typed ``spec``.

    ``manifest_kind`` is the kind as a plain Python attribute, so the output check of
    :func:`vaultaio_constructs.output.render` needs no jsii call to know what this object must render as.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None,
        labels: Mapping[str, str],
        annotations: Mapping[str, str] | None = None,
        spec: SpecModel,
    ) -> None:
        super().__init__(
            scope,
            id,
            api_version=api_version,
            kind=kind,
            metadata=cdk8s.ApiObjectMetadata(
                name=name,
                namespace=namespace,
                labels=dict(labels),
                annotations=dict(annotations) if annotations else None,
            ),
        )
        self.manifest_kind = kind
        #: The typed spec this object was built from (for assertions without synthesizing).
        self.spec = spec
        self.add_json_patch(cdk8s.JsonPatch.add("/spec", spec.to_dict()))


__all__ = ["CustomResource", "SpecModel"]
