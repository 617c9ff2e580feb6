"""``bentotui deploy k8s``: Kubernetes manifests that run a containerized bento and scale it out.

Plain dicts (dumped as YAML) so that writing them needs no Kubernetes library; the tests check
them against the API schema with the ``kubernetes`` client's models and ``kubernetes-validate``.
What they encode:

- Deployment: probes on ``/readyz`` (traffic only once every runner is up) and ``/livez``,
  CPU/memory requests and limits, a preStop pause plus ``terminationGracePeriodSeconds`` so
  in-flight requests finish while the endpoint is withdrawn, a non-root read-only container (the
  bentotui home and /tmp are emptyDirs), and Prometheus scrape annotations for ``/metrics``.
- Service: a ClusterIP in front of the pods.
- HorizontalPodAutoscaler (autoscaling/v2) on CPU utilisation.

``--split-runners`` (:func:`split_manifests`) runs each runner apart, as BentoML 1.x did on Yatai:
per runner a Deployment of ``start-runner-server`` pods with their own replicas and HPA, a
headless Service (its DNS name resolves to each ready pod, so the API spreads calls over all of
them, see :mod:`bentotui.runner.remote`) and a NetworkPolicy that lets only the API pods connect;
the API Deployment runs ``start-http-server --remote-runner``; a Secret holds the runner token
both sides read.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bentotui.bento.dockerfile import APP_UID, HOME_DIR
from bentotui.exceptions import InvalidArgument
from bentotui.store.tags import Tag

GRACE_PERIOD_S = 30
PRESTOP_SLEEP_S = 5
#: where a runner server listens in its pod (``--split-runners``)
RUNNER_PORT = 3100
TOKEN_ENV = "BENTOTUI_RUNNER_TOKEN"  # runner.auth's; this module stays free of the runner package
# container fields in the order kubectl shows them
_FIELD_ORDER = {key: i for i, key in enumerate((
    "name", "image", "imagePullPolicy", "command", "ports", "env", "readinessProbe", "livenessProbe",
    "startupProbe", "resources", "lifecycle", "securityContext", "volumeMounts",
))}


@dataclass(frozen=True)
class DeployOptions:
    """Knobs of ``bentotui deploy k8s``."""

    replicas: int = 1
    max_replicas: int | None = None
    #: replicas of each runner's Deployment with ``--split-runners`` (default: ``replicas``)
    runner_replicas: int | None = None
    image: str | None = None
    cpu_request: str = "500m"
    cpu_limit: str = "2"
    memory_request: str = "512Mi"
    memory_limit: str = "2Gi"
    target_cpu_percent: int = 70


def k8s_name(name: str) -> str:
    """A DNS-1123 label from a bento name (bento names may hold ``.`` and ``_``)."""
    label = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:63].rstrip("-")
    if not label:
        raise InvalidArgument(f"cannot make a Kubernetes name from {name!r}")
    return label


def manifests(tag: Tag, port: int, options: DeployOptions) -> list[dict[str, Any]]:
    """Deployment, Service and HorizontalPodAutoscaler for bento ``tag`` (a concrete version)."""
    name = k8s_name(tag.name)
    container = _api_container(name, tag, port, options, command=None, token_secret=None)
    return [
        _deployment(name, tag, container, options.replicas, annotations=_scrape(port)),
        _service(name, tag, port, "http"),
        _hpa(name, tag, options.replicas, _max_replicas(options.replicas, options.max_replicas), options),
    ]


def split_manifests(
    tag: Tag, port: int, runners: list[str], options: DeployOptions, token: str
) -> list[dict[str, Any]]:
    """The API apart from its runners: per runner a Deployment running ``start-runner-server``, a
    headless Service (its name resolves to every ready pod, see ``runner.remote``), an HPA and a
    NetworkPolicy letting only the API pods in; the API Deployment runs ``start-http-server
    --remote-runner`` for each; both sides read the runner token from one Secret."""
    if not runners:
        raise InvalidArgument(f"bento {tag} has no runners: --split-runners has nothing to split")
    name = k8s_name(tag.name)
    secret = k8s_name(f"{name}-runner-token")
    runner_replicas = options.runner_replicas or options.replicas
    documents: list[dict[str, Any]] = [{
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": secret, "labels": _labels(name, tag)},
        "type": "Opaque",
        "stringData": {"token": token},
    }]
    remote = []
    # a rotated token rolls every pod, so that no pod keeps the old one
    rollout = {"bentotui.io/runner-token-sha256": hashlib.sha256(token.encode()).hexdigest()[:16]}
    for runner in runners:
        runner_name = k8s_name(f"{name}-runner-{runner}")
        remote += ["--remote-runner", f"{runner}=tcp://{runner_name}:{RUNNER_PORT}"]
        container = _runner_container(runner, tag, options, secret)
        documents += [
            _deployment(runner_name, tag, container, runner_replicas, component="runner", annotations=rollout),
            _service(runner_name, tag, RUNNER_PORT, "runner", component="runner", headless=True),
            _hpa(runner_name, tag, runner_replicas, _max_replicas(runner_replicas, options.max_replicas), options,
                 component="runner"),
            _network_policy(runner_name, name, tag),
        ]
    command = ["bentotui", "start-http-server", ".", "--host", "0.0.0.0", "--port", str(port), *remote]
    container = _api_container(name, tag, port, options, command=command, token_secret=secret)
    api = [
        _deployment(name, tag, container, options.replicas, annotations={**_scrape(port), **rollout}),
        _service(name, tag, port, "http"),
        _hpa(name, tag, options.replicas, _max_replicas(options.replicas, options.max_replicas), options),
    ]
    return documents[:1] + api + documents[1:]


def _max_replicas(replicas: int, max_replicas: int | None) -> int:
    if replicas < 1:
        raise InvalidArgument(f"--replicas must be at least 1, got {replicas}")
    top = max_replicas or max(replicas * 4, replicas + 1)
    if top < replicas:
        raise InvalidArgument(f"--max-replicas ({top}) is below --replicas ({replicas})")
    return top


def _labels(name: str, tag: Tag, component: str = "api") -> dict[str, str]:
    assert tag.version is not None
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/version": tag.version,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": "bentotui",
    }


def _scrape(port: int) -> dict[str, str]:
    return {"prometheus.io/scrape": "true", "prometheus.io/port": str(port), "prometheus.io/path": "/metrics"}


def _base_container(tag: Tag, options: DeployOptions) -> dict[str, Any]:
    """What every bentotui container shares: the image, resources, a graceful stop, no root and a
    read-only root filesystem (the bentotui home and /tmp are emptyDirs)."""
    assert tag.version is not None
    return {
        "name": "bento",
        "image": options.image or f"{tag.name}:{tag.version}",
        "imagePullPolicy": "IfNotPresent",
        "resources": {
            "requests": {"cpu": options.cpu_request, "memory": options.memory_request},
            "limits": {"cpu": options.cpu_limit, "memory": options.memory_limit},
        },
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", str(PRESTOP_SLEEP_S)]}}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "home", "mountPath": HOME_DIR}, {"name": "tmp", "mountPath": "/tmp"}],
    }


def _token_env(secret: str) -> dict[str, Any]:
    return {"name": TOKEN_ENV, "valueFrom": {"secretKeyRef": {"name": secret, "key": "token"}}}


def _api_container(
    name: str, tag: Tag, port: int, options: DeployOptions, *, command: list[str] | None, token_secret: str | None
) -> dict[str, Any]:
    """The API server: probes on ``/readyz`` (traffic only once every runner is reachable) and
    ``/livez``; it answers only Host names it knows (DNS-rebinding guard): the Service's names in
    this namespace (probes use the pod IP, which a server bound to 0.0.0.0 accepts)."""
    probe = {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 5, "timeoutSeconds": 3}
    hosts = " ".join(
        f"{name}{suffix}"
        for suffix in ("", ".$(POD_NAMESPACE)", ".$(POD_NAMESPACE).svc", ".$(POD_NAMESPACE).svc.cluster.local")
    )
    env: list[dict[str, Any]] = [
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "BENTOTUI_ALLOWED_HOSTS", "value": hosts},
    ]
    if token_secret is not None:
        env.append(_token_env(token_secret))
    container = _base_container(tag, options)
    container.update(
        ports=[{"name": "http", "containerPort": port, "protocol": "TCP"}],
        env=env,
        readinessProbe={**probe, "failureThreshold": 3},
        livenessProbe={"httpGet": {"path": "/livez", "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 3,
                       "failureThreshold": 3},
        # model loading may take a while: liveness only counts once the server answers
        startupProbe={"httpGet": {"path": "/livez", "port": "http"}, "periodSeconds": 2, "failureThreshold": 60},
    )
    if command is not None:
        container["command"] = command
    return dict(sorted(container.items(), key=lambda item: _FIELD_ORDER.get(item[0], 99)))


def _runner_container(runner: str, tag: Tag, options: DeployOptions, secret: str) -> dict[str, Any]:
    """A runner server: it listens only once its workers are up, so a TCP probe is its readiness."""
    command = ["bentotui", "start-runner-server", ".", "--runner-name", runner, "--bind", f"tcp://0.0.0.0:{RUNNER_PORT}"]
    tcp = {"tcpSocket": {"port": "runner"}}
    container = _base_container(tag, options)
    container.update(
        command=command,
        ports=[{"name": "runner", "containerPort": RUNNER_PORT, "protocol": "TCP"}],
        env=[_token_env(secret)],
        readinessProbe={**tcp, "periodSeconds": 5, "timeoutSeconds": 3, "failureThreshold": 3},
        livenessProbe={**tcp, "periodSeconds": 10, "timeoutSeconds": 3, "failureThreshold": 3},
        startupProbe={**tcp, "periodSeconds": 2, "failureThreshold": 60},
    )
    return dict(sorted(container.items(), key=lambda item: _FIELD_ORDER.get(item[0], 99)))


def _deployment(
    name: str, tag: Tag, container: dict[str, Any], replicas: int, *, component: str = "api",
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    labels = _labels(name, tag, component)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {
                "metadata": {"labels": dict(labels), "annotations": dict(annotations or {})},
                "spec": {
                    "terminationGracePeriodSeconds": GRACE_PERIOD_S,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": APP_UID,
                        "runAsGroup": APP_UID,
                        "fsGroup": APP_UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [{"name": "home", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }


def _service(
    name: str, tag: Tag, port: int, port_name: str, *, component: str = "api", headless: bool = False
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": _labels(name, tag, component)}
    if port_name == "http":
        metadata["annotations"] = _scrape(port)
    spec: dict[str, Any] = {"type": "ClusterIP"}
    if headless:
        spec["clusterIP"] = "None"
    spec |= {
        "selector": {"app.kubernetes.io/name": name},
        "ports": [{"name": port_name, "port": port, "targetPort": port_name, "protocol": "TCP"}],
    }
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}


def _hpa(
    name: str, tag: Tag, replicas: int, max_replicas: int, options: DeployOptions, *, component: str = "api"
) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "labels": _labels(name, tag, component)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": replicas,
            "maxReplicas": max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": options.target_cpu_percent},
                    },
                }
            ],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
        },
    }


def _network_policy(runner_name: str, api_name: str, tag: Tag) -> dict[str, Any]:
    """Only the API pods may open the runner link (the token is the second lock, not the only one)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": runner_name, "labels": _labels(runner_name, tag, "runner")},
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": runner_name}},
            "policyTypes": ["Ingress"],
            "ingress": [{
                "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": api_name}}}],
                "ports": [{"port": RUNNER_PORT, "protocol": "TCP"}],
            }],
        },
    }


def bento_manifests(
    tag: str | Tag, options: DeployOptions, *, split_runners: bool = False, token: str | None = None
) -> list[dict[str, Any]]:
    """The manifests of a stored bento (its recorded port and runners); with ``split_runners``,
    ``token`` is the runner link's (a fresh random one by default)."""
    from bentotui.store.bentos import BentoStore

    bento = BentoStore().get(tag)
    if not split_runners:
        return manifests(bento.tag, bento.info.default_port, options)
    runners = [runner.name for runner in bento.info.runners]
    return split_manifests(bento.tag, bento.info.default_port, runners, options, token or secrets.token_urlsafe(32))


def render(documents: list[dict[str, Any]]) -> str:
    """Multi-document YAML."""
    from bentotui.store.item_store import dump_yaml

    return "---\n" + "---\n".join(dump_yaml(doc) for doc in documents)


def write(documents: list[dict[str, Any]], output: Path) -> list[Path]:
    """One file per kind (``deployment.yaml``, ``service.yaml``, ...; several documents of a kind
    share its file), ready for ``kubectl apply -f OUTPUT/``; ``secret.yaml`` is readable by its
    owner only."""
    output.mkdir(parents=True, exist_ok=True)
    kinds: dict[str, list[dict[str, Any]]] = {}
    for doc in documents:
        kinds.setdefault(doc["kind"], []).append(doc)
    written = []
    for kind, docs in kinds.items():
        path = output / f"{kind.lower()}.yaml"
        text = render(docs) if len(docs) > 1 else render(docs).removeprefix("---\n")
        if kind == "Secret":
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(path, 0o600)  # a file that existed keeps its mode through os.open
        else:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
