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
    ("v1", "Secret"): "V1Secret",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "V2HorizontalPodAutoscaler",
    ("networking.k8s.io/v1", "NetworkPolicy"): "V1NetworkPolicy",
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
    validate_strict(doc)
    return obj


def validate_strict(doc: dict) -> None:
    """``kubernetes-validate --strict``: the published OpenAPI schema of the newest Kubernetes it
    carries, with fields the schema does not define refused."""
    import kubernetes_validate

    kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


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


def split_docs(runners=("iris", "scaler"), **kw) -> list[dict]:
    options = k8s.DeployOptions(replicas=2, **kw)
    return k8s.split_manifests(Tag("iris_classifier", "1j19abc"), 3000, list(runners), options, "t" * 43)


def by_kind_and_name(documents: list[dict]) -> dict[tuple[str, str], dict]:
    return {(d["kind"], d["metadata"]["name"]): d for d in documents}


def test_split_manifests_match_the_schema_and_wire_the_api_to_each_runner() -> None:
    documents = split_docs(runner_replicas=3)
    for doc in documents:
        validate(doc)
    found = by_kind_and_name(documents)
    assert sorted(found) == sorted([
        ("Secret", "iris-classifier-runner-token"),
        ("Deployment", "iris-classifier"), ("Service", "iris-classifier"),
        ("HorizontalPodAutoscaler", "iris-classifier"),
        *((kind, f"iris-classifier-runner-{r}") for r in ("iris", "scaler")
          for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "NetworkPolicy")),
    ])
    [api] = found[("Deployment", "iris-classifier")]["spec"]["template"]["spec"]["containers"]
    assert api["command"][:2] == ["bentotui", "start-http-server"]
    assert api["command"][api["command"].index("--remote-runner") :] == [
        "--remote-runner", f"iris=tcp://iris-classifier-runner-iris:{k8s.RUNNER_PORT}",
        "--remote-runner", f"scaler=tcp://iris-classifier-runner-scaler:{k8s.RUNNER_PORT}",
    ]
    secret_ref = {"secretKeyRef": {"name": "iris-classifier-runner-token", "key": "token"}}
    assert {"name": "BENTOTUI_RUNNER_TOKEN", "valueFrom": secret_ref} in api["env"]
    for runner in ("iris", "scaler"):
        name = f"iris-classifier-runner-{runner}"
        deployment = found[("Deployment", name)]
        assert deployment["spec"]["replicas"] == 3
        pod = deployment["spec"]["template"]
        [container] = pod["spec"]["containers"]
        assert container["command"] == [
            "bentotui", "start-runner-server", ".", "--runner-name", runner, "--bind", f"tcp://0.0.0.0:{k8s.RUNNER_PORT}",
        ]
        assert container["env"] == [{"name": "BENTOTUI_RUNNER_TOKEN", "valueFrom": secret_ref}]
        assert container["readinessProbe"]["tcpSocket"] == {"port": "runner"}
        service = found[("Service", name)]["spec"]
        assert service["clusterIP"] == "None"  # headless: the name resolves to every ready pod
        assert service["selector"].items() <= pod["metadata"]["labels"].items()
        assert service["ports"][0]["targetPort"] == container["ports"][0]["name"]
        hpa = found[("HorizontalPodAutoscaler", name)]["spec"]
        assert hpa["scaleTargetRef"]["name"] == name and hpa["minReplicas"] == 3
        policy = found[("NetworkPolicy", name)]["spec"]
        assert policy["podSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
        api_labels = found[("Deployment", "iris-classifier")]["spec"]["template"]["metadata"]["labels"]
        assert policy["ingress"][0]["from"][0]["podSelector"]["matchLabels"].items() <= api_labels.items()
        # one token everywhere; changing it rolls the pods of both sides
        annotation = "bentotui.io/runner-token-sha256"
        assert pod["metadata"]["annotations"][annotation] == \
            found[("Deployment", "iris-classifier")]["spec"]["template"]["metadata"]["annotations"][annotation]


def test_split_needs_runners() -> None:
    with pytest.raises(InvalidArgument, match="has no runners"):
        split_docs(runners=())


def test_cli_split_writes_a_private_secret_and_reuses_a_given_token(tmp_path: Path, iris_bento) -> None:
    from tests.cli.test_bentos_cli import bentotui

    token = tmp_path / "token"
    token.write_text("a-token-from-a-file-0123456789\n")
    out = tmp_path / "k8s"
    result = bentotui("deploy", "k8s", str(iris_bento.tag), "--split-runners", "--token-file", str(token), "-o", str(out))
    assert result.returncode == 0, result.stderr
    secret = out / "secret.yaml"
    assert secret.stat().st_mode & 0o777 == 0o600
    assert yaml.safe_load(secret.read_text())["stringData"]["token"] == "a-token-from-a-file-0123456789"
    deployments = list(yaml.safe_load_all((out / "deployment.yaml").read_text()))
    assert [d["metadata"]["name"] for d in deployments] == ["iris-classifier", "iris-classifier-runner-iris"]
    for path in out.iterdir():
        for doc in yaml.safe_load_all(path.read_text()):
            validate(doc)


def test_cli_split_options_need_split_runners(iris_bento) -> None:
    from tests.cli.test_bentos_cli import assert_user_error, bentotui

    assert_user_error(bentotui("deploy", "k8s", str(iris_bento.tag), "--runner-replicas", "2"), "go with --split-runners")


def _local(command: list[str], bento: Path) -> list[str]:
    """A manifest's container command as a process here: this bentotui, loopback, the bento folder."""
    from bentotui._process import self_command

    args = [arg.replace("0.0.0.0", "127.0.0.1") for arg in command[1:]]
    return [*self_command(), *[str(bento) if arg == "." else arg for arg in args]]


def test_the_split_manifests_commands_serve_a_request_end_to_end(tmp_path: Path, iris_bento) -> None:
    """The API and runner containers' own commands, run as processes on loopback (the runner's
    Service name mapped to 127.0.0.1 and its port to a free one), answer a request; the runner
    process killed and started again, the API answers again."""
    import os
    import signal

    import httpx

    from tests.bento.conftest import IRIS_ROWS
    from tests.bento.test_containerize import free_port
    from tests.e2e.test_runner_servers import until

    documents = by_kind_and_name(k8s.bento_manifests(iris_bento.tag, k8s.DeployOptions(), split_runners=True))
    token = documents[("Secret", "iris-classifier-runner-token")]["stringData"]["token"]
    env = {**os.environ, "BENTOTUI_RUNNER_TOKEN": token}
    runner_port, api_port = free_port(), free_port()
    [runner] = documents[("Deployment", "iris-classifier-runner-iris")]["spec"]["template"]["spec"]["containers"]
    [api] = documents[("Deployment", "iris-classifier")]["spec"]["template"]["spec"]["containers"]
    runner_command = [a.replace(str(k8s.RUNNER_PORT), str(runner_port)) for a in _local(runner["command"], iris_bento.path)]
    api_command = [
        a.replace("iris-classifier-runner-iris", "127.0.0.1").replace(str(k8s.RUNNER_PORT), str(runner_port))
        for a in _local(api["command"], iris_bento.path)
    ]
    api_command[api_command.index("--port") + 1] = str(api_port)
    url = f"http://127.0.0.1:{api_port}"

    def start(command: list[str]) -> subprocess.Popen:
        return subprocess.Popen(command, cwd=iris_bento.path, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=(tmp_path / "log").open("ab"))

    def classify() -> int | list:
        try:
            response = httpx.post(url + "/classify", json=IRIS_ROWS, timeout=5)
        except httpx.TransportError:
            return 0
        return response.json() if response.status_code == 200 else response.status_code

    processes = [start(runner_command), start(api_command)]
    try:
        until(lambda: classify() == [0, 2], within=60)
        processes[0].send_signal(signal.SIGKILL)
        processes[0].wait(10)
        until(lambda: classify() == 503)
        processes[0] = start(runner_command)
        until(lambda: classify() == [0, 2], within=60)
    finally:
        for proc in processes:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(20)
