"""Kubernetes manifests for gatewatch itself, generated like the compose file: replicas on
PostgreSQL behind a Service, a migration Job, config from a ConfigMap and tokens from a
Secret, a ServiceMonitor so Prometheus scrapes gatewatch, and the Grafana dashboards as
ConfigMaps for Grafana's sidecar.

Every replica runs everything (API, timers, delivery); PostgreSQL coordinates them. The
replicas start with `serve --no-migrate`: they refuse a schema that is not current, so a
rollout waits (not ready) until the migration Job has run `gatewatch migrate`.
"""

from typing import Any

import yaml

from gatewatch.config.rules import RulesTuning
from gatewatch.dashboards.catalogue import all_dashboards
from gatewatch.dashboards.provisioning import dashboard_file, datasource
from gatewatch.rules.kubernetes import TOKEN_PLACEHOLDER, manifests, render
from gatewatch.stack.configs import gatewatch_config

NAME = "gatewatch"
PORT = 8787
CONFIG_DIR = "/etc/gatewatch"
DATA_DIR = "/var/lib/gatewatch"
LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": NAME}
SECRET_PLACEHOLDER = "REPLACE-ME"
DEFAULT_IMAGE = "gatewatch:0.1.0"  # built from deploy/Dockerfile
# Keys of the Secret, read by the config through ${VAR} expansion.
SECRET_KEYS = ("GATEWATCH_DATABASE_URL", "GATEWATCH_INGEST_TOKEN", "GATEWATCH_ADMIN_TOKEN")


def _server_pods() -> dict[str, str]:
    """The labels that select the server's pods (a new dict each time: no YAML anchors)."""
    return {**LABELS, "app.kubernetes.io/component": "server"}


def _metadata(name: str, namespace: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": dict(LABELS), **extra}


def _config_map(namespace: str, external_url: str) -> dict[str, Any]:
    config = gatewatch_config(
        listen=f"0.0.0.0:{PORT}",
        external_url=external_url,
        storage_url="${GATEWATCH_DATABASE_URL}",
        tokens=[
            {"name": "alertmanager", "role": "ingest", "token": "${GATEWATCH_INGEST_TOKEN}"},
            {"name": "admin", "role": "admin", "token": "${GATEWATCH_ADMIN_TOKEN}"},
        ],
        prometheus_url=f"http://prometheus-operated.{namespace}.svc:9090",
        alertmanager_url=f"http://alertmanager-operated.{namespace}.svc:9093",
        gateway_url=f"http://im-gateway.{namespace}.svc:8080",
    )
    config["data_dir"] = DATA_DIR
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(f"{NAME}-config", namespace),
        "data": {"gatewatch.yml": yaml.safe_dump(config, sort_keys=False)},
    }


def _secret(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _metadata(f"{NAME}-secrets", namespace),
        "type": "Opaque",
        "stringData": dict.fromkeys(SECRET_KEYS, SECRET_PLACEHOLDER),
    }


def _pod_spec(image: str, args: list[str], restart: str | None = None) -> dict[str, Any]:
    """Non-root, read-only root filesystem, no capabilities; config and tokens mounted."""
    spec: dict[str, Any] = {
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65534,
            "runAsGroup": 65534,
            "fsGroup": 65534,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": NAME,
                "image": image,
                "command": ["gatewatch"],
                "args": [*args, "--config", f"{CONFIG_DIR}/gatewatch.yml"],
                "envFrom": [{"secretRef": {"name": f"{NAME}-secrets"}}],
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "resources": {
                    "requests": {"cpu": "250m", "memory": "256Mi"},
                    "limits": {"memory": "512Mi"},
                },
                "volumeMounts": [
                    {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
                    {"name": "data", "mountPath": DATA_DIR},
                    {"name": "tmp", "mountPath": "/tmp"},
                ],
            }
        ],
        "volumes": [
            {"name": "config", "configMap": {"name": f"{NAME}-config"}},
            {"name": "data", "emptyDir": {}},
            {"name": "tmp", "emptyDir": {}},
        ],
    }
    if restart is not None:
        spec["restartPolicy"] = restart
    return spec


def _migration_job(namespace: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _metadata(
            f"{NAME}-migrate",
            namespace,
            # Run before the rollout where a deployment tool orders resources by hooks.
            annotations={
                "argocd.argoproj.io/hook": "PreSync",
                "helm.sh/hook": "pre-install,pre-upgrade",
            },
        ),
        "spec": {
            "backoffLimit": 3,
            "ttlSecondsAfterFinished": 3600,
            "template": {
                "metadata": {"labels": {**LABELS, "app.kubernetes.io/component": "migrate"}},
                "spec": _pod_spec(image, ["migrate"], restart="OnFailure"),
            },
        },
    }


def _deployment(namespace: str, image: str, replicas: int) -> dict[str, Any]:
    pod = _pod_spec(image, ["serve", "--no-migrate"])
    container = pod["containers"][0]
    container["ports"] = [{"name": "http", "containerPort": PORT}]
    container["readinessProbe"] = {
        "httpGet": {"path": "/readyz", "port": "http"},
        "periodSeconds": 5,
        "failureThreshold": 2,
    }
    container["livenessProbe"] = {
        "httpGet": {"path": "/healthz", "port": "http"},
        "periodSeconds": 10,
        "failureThreshold": 3,
    }
    # A replica may be killed mid-step: its leases let another take over, so spread them.
    pod["topologySpreadConstraints"] = [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": _server_pods()},
        }
    ]
    pod["terminationGracePeriodSeconds"] = 30
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(NAME, namespace),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": _server_pods()},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {"metadata": {"labels": _server_pods()}, "spec": pod},
        },
    }


def _service(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(NAME, namespace),
        "spec": {
            "selector": _server_pods(),
            "ports": [{"name": "http", "port": PORT, "targetPort": "http"}],
        },
    }


def _disruption_budget(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(NAME, namespace),
        "spec": {
            "minAvailable": 1,
            "selector": {"matchLabels": _server_pods()},
        },
    }


def _service_monitor(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": _metadata(NAME, namespace),
        "spec": {
            "selector": {"matchLabels": LABELS},
            "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
        },
    }


def _grafana_config_maps(namespace: str, tuning: RulesTuning) -> dict[str, dict[str, Any]]:
    """The dashboards and their data source as ConfigMaps labelled for Grafana's sidecar
    (the Grafana Helm chart's `sidecar.dashboards` and `sidecar.datasources`)."""
    prometheus = datasource(f"http://prometheus-operated.{namespace}.svc:9090")
    maps = {
        "grafana-datasource.yaml": {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": f"{NAME}-grafana-datasource",
                "namespace": namespace,
                "labels": {**LABELS, "grafana_datasource": "1"},
            },
            "data": {"gatewatch-datasource.yaml": yaml.safe_dump(prometheus, sort_keys=False)},
        }
    }
    for document in all_dashboards(tuning):
        uid = document["uid"]
        file_name, text = dashboard_file(document)
        maps[f"grafana-dashboard-{uid}.yaml"] = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": f"{NAME}-dashboard-{uid}",
                "namespace": namespace,
                "labels": {**LABELS, "grafana_dashboard": "1"},
                "annotations": {"grafana_folder": NAME},
            },
            "data": {file_name: text},
        }
    return maps


def gatewatch_manifests(
    namespace: str, external_url: str, image: str, replicas: int = 2
) -> dict[str, dict[str, Any]]:
    """File name -> manifest, for gatewatch's own workload."""
    return {
        "gatewatch-configmap.yaml": _config_map(namespace, external_url),
        "gatewatch-secret.yaml": _secret(namespace),
        "gatewatch-migrate-job.yaml": _migration_job(namespace, image),
        "gatewatch-deployment.yaml": _deployment(namespace, image, replicas),
        "gatewatch-service.yaml": _service(namespace),
        "gatewatch-pdb.yaml": _disruption_budget(namespace),
        "gatewatch-servicemonitor.yaml": _service_monitor(namespace),
    }


def all_manifests(
    external_url: str,
    namespace: str,
    image: str = DEFAULT_IMAGE,
    tuning: RulesTuning = RulesTuning(),
) -> dict[str, str]:
    """File name -> YAML text: the rule packs (tuned), the Alertmanager config and gatewatch
    itself."""
    return manifests(external_url, namespace, TOKEN_PLACEHOLDER, tuning) | render(
        gatewatch_manifests(namespace, external_url, image)
        | _grafana_config_maps(namespace, tuning)
    )
