"""Kubernetes manifests checked against the API schema with the kubernetes client's models."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from bentotui.bento import k8s
from bentotui.exceptions import InvalidArgument
from bentotui.store.tags import Tag

kubernetes = pytest.importorskip("kubernetes")

MODELS = {
    ("apps/v1", "Deployment"): "V1Deployment",
    ("v1", "Service"): "V1Service",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "V2HorizontalPodAutoscaler",
}


def validate(doc: dict):
    """Deserialize into the client's model (client-side validation on: required fields are
    checked) and serialize back: a misspelt or unknown field would be dropped and show up as a
    difference."""
    from kubernetes.client import ApiClient, Configuration

    config = Configuration()
    config.client_side_validation = True
    Configuration.set_default(config)
    api = ApiClient(configuration=config)
    obj = api._ApiClient__deserialize(doc, MODELS[(doc["apiVersion"], doc["kind"])])
    assert api.sanitize_for_serialization(obj) == doc
    return obj


def docs(replicas: int = 2, port: int = 5000, **kw) -> list[dict]:
    return k8s.manifests(Tag("iris_classifier", "1j19abc"), port, k8s.DeployOptions(replicas=replicas, **kw))


def test_all_manifests_match_the_schema() -> None:
    deployment, service, hpa = (validate(d) for d in docs())
    assert deployment.kind == "Deployment" and service.kind == "Service"
    assert hpa.kind == "HorizontalPodAutoscaler"


def test_deployment() -> None:
    deployment = validate(docs()[0])
    assert deployment.metadata.name == "iris-classifier"
    assert deployment.spec.replicas == 2
    pod = deployment.spec.template
    assert deployment.spec.selector.match_labels.items() <= pod.metadata.labels.items()
    assert pod.metadata.annotations["prometheus.io/scrape"] == "true"
    assert pod.metadata.annotations["prometheus.io/port"] == "5000"
    assert pod.metadata.annotations["prometheus.io/path"] == "/metrics"
    spec = pod.spec
    assert spec.termination_grace_period_seconds > k8s.PRESTOP_SLEEP_S
    assert spec.security_context.run_as_non_root is True and spec.security_context.run_as_user != 0
    [container] = spec.containers
    assert container.image == "iris_classifier:1j19abc"
    assert container.ports[0].container_port == 5000
    assert container.readiness_probe.http_get.path == "/readyz"
    assert container.liveness_probe.http_get.path == "/livez"
    assert container.resources.requests["cpu"] and container.resources.limits["memory"]
    assert container.lifecycle.pre_stop._exec.command[0] == "sleep"
    assert container.security_context.allow_privilege_escalation is False
    mounts = {m.mount_path for m in container.volume_mounts}
    assert {"/tmp", "/home/bentotui/home"} <= mounts
    # the Service's in-cluster names pass the server's Host allow-list
    env = {e.name: e for e in container.env}
    assert env["POD_NAMESPACE"].value_from.field_ref.field_path == "metadata.namespace"
    assert env["BENTOTUI_ALLOWED_HOSTS"].value.split() == [
        "iris-classifier", "iris-classifier.$(POD_NAMESPACE)", "iris-classifier.$(POD_NAMESPACE).svc",
        "iris-classifier.$(POD_NAMESPACE).svc.cluster.local",
    ]


def test_service_and_hpa() -> None:
    _, service, hpa = (validate(d) for d in docs(replicas=3, max_replicas=9, image="reg.example/iris:1"))
    assert service.spec.ports[0].port == 5000 and service.spec.ports[0].target_port == "http"
    assert service.spec.selector == {"app.kubernetes.io/name": "iris-classifier"}
    assert hpa.spec.scale_target_ref.kind == "Deployment" and hpa.spec.scale_target_ref.name == "iris-classifier"
    assert (hpa.spec.min_replicas, hpa.spec.max_replicas) == (3, 9)
    assert hpa.spec.metrics[0].resource.target.average_utilization == 70


def test_image_option() -> None:
    deployment = validate(docs(image="reg.example/iris:1")[0])
    assert deployment.spec.template.spec.containers[0].image == "reg.example/iris:1"


@pytest.mark.parametrize(("kw", "message"), [({"replicas": 0}, "--replicas"), ({"replicas": 3, "max_replicas": 2}, "--max-replicas")])
def test_bad_options(kw, message) -> None:
    with pytest.raises(InvalidArgument, match=message):
        docs(**kw)


def test_cli_writes_files_per_kind(tmp_path: Path, iris_bento) -> None:
    from tests.cli.test_bentos_cli import bentotui

    result = bentotui("deploy", "k8s", str(iris_bento.tag), "--replicas", "2", "--output", str(tmp_path / "k8s"))
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "k8s").iterdir())
    assert written == ["deployment.yaml", "horizontalpodautoscaler.yaml", "service.yaml"]
    for path in (tmp_path / "k8s").iterdir():
        validate(yaml.safe_load(path.read_text()))


def test_cli_prints_multi_document_yaml(iris_bento) -> None:
    from tests.cli.test_bentos_cli import bentotui

    result = bentotui("deploy", "k8s", iris_bento.tag.name)
    assert result.returncode == 0, result.stderr
    documents = list(yaml.safe_load_all(result.stdout))
    assert [d["kind"] for d in documents] == ["Deployment", "Service", "HorizontalPodAutoscaler"]
    assert documents[0]["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == 3000
    for doc in documents:
        validate(doc)


def test_cli_unknown_bento() -> None:
    from tests.cli.test_bentos_cli import assert_user_error, bentotui

    assert_user_error(bentotui("deploy", "k8s", "nosuch:latest"), "bento 'nosuch' not found")


def test_kubectl_not_needed() -> None:
    """The manifests are plain YAML: nothing in the module needs the kubernetes package."""
    code = "import sys, bentotui.bento.k8s; sys.exit('kubernetes' in sys.modules)"
    assert subprocess.run([__import__("sys").executable, "-c", code]).returncode == 0
