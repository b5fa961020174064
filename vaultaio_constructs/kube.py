"""The Kubernetes 1.27 L1 classes the stack instantiates, each object sent to Node as compact JSON.

``kube.KubeStatefulSet`` is ``cdk8s_plus_27.k8s.KubeStatefulSet`` with the same constructor (typed props, one
jsii call per object) and the same object in the construct tree; only the way its props travel differs. The
generated bindings serialize a props struct by reading every field the type declares through its property
getter (each read evaluates a ``typing.Optional[...]``), set or not, recursively: for a pod template that is
thousands of reads. :func:`init` sends the fields that are set (a struct's ``_values``) under their jsii
names (the struct's ``__jsii_name_mapping__``, which the bindings use for the same purpose): the same JSON
object, which the jsii kernel checks against the L1 props type exactly as before (required fields, types,
references such as ``Quantity``). It saves about a third of the Python time of building the stack.

Create objects through these classes (or :func:`init` in a subclass's ``__init__``), never through
``cdk8s_plus_27.k8s`` directly; everything else (``k8s.ObjectMeta``, ``k8s.PodSpec``...) stays as it is.
"""

from __future__ import annotations

from typing import Any, TypeVar

import jsii
from cdk8s_plus_27 import k8s
from constructs import Construct

T = TypeVar("T")


def wire(value: Any) -> Any:
    """``value`` as the JSON the jsii kernel receives: structs as mappings of their set fields by jsii name,
    mappings and sequences element by element, anything else (scalars, jsii objects) as it is."""
    mapping: dict[str, str] | None = getattr(type(value), "__jsii_name_mapping__", None)
    if mapping is not None:
        return {mapping[name]: wire(field) for name, field in value._values.items()}
    if isinstance(value, dict):
        return {key: wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [wire(item) for item in value]
    return value


def init(obj: Any, scope: Construct, id: str, props: Any) -> None:
    """Create the Node side of the L1 object ``obj`` (an instance of a ``cdk8s_plus_27.k8s`` class or a
    subclass, not yet initialised) from its complete props struct, in one jsii call."""
    jsii.create(type(obj), obj, [scope, id, wire(props)])


def _one_call(cls: type[T]) -> type[T]:
    """A subclass of the L1 class ``cls`` whose constructor builds ``<cls>Props`` and calls :func:`init`."""
    props_type = getattr(k8s, f"{cls.__name__}Props")

    def __init__(self: Any, scope: Construct, id: str, **props: Any) -> None:
        init(self, scope, id, props_type(**props))

    attributes = {"__init__": __init__, "__doc__": cls.__doc__, "__module__": __name__}
    metaclass: Any = type(cls)  # jsii's JSIIMeta: the subclass is a jsii class like its base
    subclass: type[T] = metaclass(cls.__name__, (cls,), attributes)
    return subclass


KubeConfigMap = _one_call(k8s.KubeConfigMap)
KubeCronJob = _one_call(k8s.KubeCronJob)
KubeDaemonSet = _one_call(k8s.KubeDaemonSet)
KubeIngress = _one_call(k8s.KubeIngress)
KubeNamespace = _one_call(k8s.KubeNamespace)
KubeNetworkPolicy = _one_call(k8s.KubeNetworkPolicy)
KubePersistentVolumeClaim = _one_call(k8s.KubePersistentVolumeClaim)
KubePodDisruptionBudget = _one_call(k8s.KubePodDisruptionBudget)
KubeRole = _one_call(k8s.KubeRole)
KubeRoleBinding = _one_call(k8s.KubeRoleBinding)
KubeService = _one_call(k8s.KubeService)
KubeServiceAccount = _one_call(k8s.KubeServiceAccount)
KubeStatefulSet = _one_call(k8s.KubeStatefulSet)
