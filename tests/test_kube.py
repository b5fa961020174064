"""vaultaio_constructs.kube: the same L1 objects as cdk8s_plus_27.k8s, props sent as compact JSON."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import cdk8s
import pytest
from cdk8s import Testing as Cdk8sTesting
from cdk8s_plus_27 import k8s

from vaultaio_constructs import kube

PACKAGE = Path(__file__).resolve().parent.parent / "vaultaio_constructs"


def _pod_template() -> k8s.PodTemplateSpec:
    return k8s.PodTemplateSpec(
        metadata=k8s.ObjectMeta(labels={"app": "x"}, annotations={"a/b": "c"}),
        spec=k8s.PodSpec(
            containers=[
                k8s.Container(
                    name="x",
                    image="x:1",
                    args=["--a", "--b"],
                    ports=[k8s.ContainerPort(name="http", container_port=80)],
                    resources=k8s.ResourceRequirements(
                        requests={"cpu": k8s.Quantity.from_string("10m")},
                        limits={"memory": k8s.Quantity.from_string("64Mi")},
                    ),
                    readiness_probe=k8s.Probe(
                        http_get=k8s.HttpGetAction(path="/", port=k8s.IntOrString.from_string("http"))
                    ),
                    security_context=k8s.SecurityContext(run_as_non_root=True),
                )
            ],
            volumes=[k8s.Volume(name="tmp", empty_dir=k8s.EmptyDirVolumeSource())],
        ),
    )


def _stateful_set(create: Any) -> list[Any]:
    chart = cdk8s.Chart(Cdk8sTesting.app(), "c", disable_resource_name_hashes=True)
    create(
        chart,
        "StatefulSet",
        metadata=k8s.ObjectMeta(name="x", labels={"app": "x"}),
        spec=k8s.StatefulSetSpec(
            service_name="x",
            selector=k8s.LabelSelector(match_labels={"app": "x"}),
            template=_pod_template(),
            volume_claim_templates=[
                k8s.KubePersistentVolumeClaimProps(
                    metadata=k8s.ObjectMeta(name="data"),
                    spec=k8s.PersistentVolumeClaimSpec(access_modes=["ReadWriteOnce"]),
                )
            ],
        ),
    )
    return Cdk8sTesting.synth(chart)


def test_an_object_renders_exactly_as_the_generated_class_renders_it() -> None:
    ours, generated = _stateful_set(kube.KubeStatefulSet), _stateful_set(k8s.KubeStatefulSet)
    assert ours == generated
    container = ours[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"] == {"limits": {"memory": "64Mi"}, "requests": {"cpu": "10m"}}
    assert container["readinessProbe"]["httpGet"]["port"] == "http"


def test_the_objects_are_instances_of_the_generated_classes() -> None:
    chart = cdk8s.Chart(Cdk8sTesting.app(), "c")
    obj = kube.KubeConfigMap(chart, "ConfigMap", metadata=k8s.ObjectMeta(name="x"), data={"k": "v"})
    assert isinstance(obj, k8s.KubeConfigMap)
    assert type(obj).__name__ == "KubeConfigMap"  # output.render derives the kind from it
    assert Cdk8sTesting.synth(chart)[0]["data"] == {"k": "v"}


def test_wire_sends_set_fields_by_their_jsii_names_only() -> None:
    meta = k8s.ObjectMeta(name="x", labels={"app.kubernetes.io/name": "x"}, deletion_grace_period_seconds=5)
    assert kube.wire(meta) == {
        "name": "x",
        "labels": {"app.kubernetes.io/name": "x"},
        "deletionGracePeriodSeconds": 5,
    }
    peer = k8s.NetworkPolicyIngressRule(
        from_=[k8s.NetworkPolicyPeer(ip_block=k8s.IpBlock(cidr="10.0.0.0/8"))]
    )
    assert kube.wire(peer) == {"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}


def test_the_jsii_kernel_still_checks_the_props_against_the_l1_type() -> None:
    chart = cdk8s.Chart(Cdk8sTesting.app(), "c")
    binding = k8s.KubeRoleBinding.__new__(kube.KubeRoleBinding)
    incomplete_ref = {"metadata": {"name": "x"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io"}}
    with pytest.raises(RuntimeError, match=r"Missing required properties.*RoleRef"):
        kube.init(binding, chart, "RoleBinding", incomplete_ref)
    wrong_type = {"metadata": {"name": "x"}, "immutable": "yes"}
    with pytest.raises(RuntimeError, match=r"(?s)Key 'immutable'.*boolean"):
        kube.init(k8s.KubeConfigMap.__new__(kube.KubeConfigMap), chart, "ConfigMap", wrong_type)


def test_the_package_creates_every_kubernetes_object_through_kube() -> None:
    """``k8s.KubeX(...)`` would work but send its props the slow way (see the module docstring)."""
    direct = re.compile(r"\bk8s\.Kube[A-Za-z]+\(")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if direct.search(line) and "Props(" not in line
    ]
    assert offenders == []
