"""``bentotui deploy k8s``: Kubernetes manifests that run a containerized bento and scale it out.

Plain dicts (dumped as YAML) so that writing them needs no Kubernetes library; the tests check
them against the API schema with the ``kubernetes`` client's models.  What they encode:

- Deployment: probes on ``/readyz`` (traffic only once every runner worker is up) and ``/livez``,
  CPU/memory requests and limits, a preStop pause plus ``terminationGracePeriodSeconds`` so
  in-flight requests finish while the endpoint is withdrawn, a non-root read-only container (the
  bentotui home and /tmp are emptyDirs), and Prometheus scrape annotations for ``/metrics``.
- Service: a ClusterIP in front of the pods.
- HorizontalPodAutoscaler (autoscaling/v2) on CPU utilisation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bentotui.bento.dockerfile import APP_UID, HOME_DIR
from bentotui.exceptions import InvalidArgument
from bentotui.store.tags import Tag

GRACE_PERIOD_S = 30
PRESTOP_SLEEP_S = 5


@dataclass(frozen=True)
class DeployOptions:
    """Knobs of ``bentotui deploy k8s``."""

    replicas: int = 1
    max_replicas: int | None = None
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
    if options.replicas < 1:
        raise InvalidArgument(f"--replicas must be at least 1, got {options.replicas}")
    max_replicas = options.max_replicas or max(options.replicas * 4, options.replicas + 1)
    if max_replicas < options.replicas:
        raise InvalidArgument(f"--max-replicas ({max_replicas}) is below --replicas ({options.replicas})")
    name = k8s_name(tag.name)
    assert tag.version is not None
    labels = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/version": tag.version,
        "app.kubernetes.io/managed-by": "bentotui",
    }
    selector = {"app.kubernetes.io/name": name}
    scrape = {"prometheus.io/scrape": "true", "prometheus.io/port": str(port), "prometheus.io/path": "/metrics"}
    probe = {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 5, "timeoutSeconds": 3}
    container = {
        "name": "bento",
        "image": options.image or f"{tag.name}:{tag.version}",
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        # the server answers only Host names it knows (DNS-rebinding guard): the Service's names in
        # this namespace (probes use the pod IP, which a server bound to 0.0.0.0 accepts)
        "env": [
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "BENTOTUI_ALLOWED_HOSTS", "value": " ".join(
                f"{name}{suffix}" for suffix in ("", ".$(POD_NAMESPACE)", ".$(POD_NAMESPACE).svc",
                                                 ".$(POD_NAMESPACE).svc.cluster.local")
            )},
        ],
        "readinessProbe": {**probe, "failureThreshold": 3},
        "livenessProbe": {
            "httpGet": {"path": "/livez", "port": "http"},
            "periodSeconds": 10,
            "timeoutSeconds": 3,
            "failureThreshold": 3,
        },
        # model loading may take a while: liveness only counts once the server answers
        "startupProbe": {"httpGet": {"path": "/livez", "port": "http"}, "periodSeconds": 2, "failureThreshold": 60},
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
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": options.replicas,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": dict(labels), "annotations": dict(scrape)},
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
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": dict(labels), "annotations": dict(scrape)},
        "spec": {
            "type": "ClusterIP",
            "selector": dict(selector),
            "ports": [{"name": "http", "port": port, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": options.replicas,
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
    return [deployment, service, hpa]


def bento_manifests(tag: str | Tag, options: DeployOptions) -> list[dict[str, Any]]:
    """The manifests of a stored bento (its recorded port)."""
    from bentotui.store.bentos import BentoStore

    bento = BentoStore().get(tag)
    return manifests(bento.tag, bento.info.default_port, options)


def render(documents: list[dict[str, Any]]) -> str:
    """Multi-document YAML."""
    from bentotui.store.item_store import dump_yaml

    return "---\n" + "---\n".join(dump_yaml(doc) for doc in documents)


def write(documents: list[dict[str, Any]], output: Path) -> list[Path]:
    """One file per kind (``deployment.yaml``, ``service.yaml``, ``horizontalpodautoscaler.yaml``)."""
    from bentotui.store.item_store import dump_yaml

    output.mkdir(parents=True, exist_ok=True)
    written = []
    for doc in documents:
        path = output / f"{doc['kind'].lower()}.yaml"
        path.write_text(dump_yaml(doc), encoding="utf-8")
        written.append(path)
    return written
