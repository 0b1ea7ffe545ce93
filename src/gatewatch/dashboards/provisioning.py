"""Dashboards as files with Grafana's provisioning: a Prometheus data source under the uid
every panel names, and a file provider that loads the dashboards folder."""

import json
from pathlib import Path
from typing import Any

import yaml

from gatewatch.dashboards.panels import DATASOURCE_UID, TAG

DASHBOARDS = "dashboards"
PROVISIONING = "provisioning"


def datasource(prometheus_url: str) -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus",
                "type": "prometheus",
                "uid": DATASOURCE_UID,
                "access": "proxy",
                "url": prometheus_url,
                "isDefault": True,
                "editable": False,
            }
        ],
    }


def provider(dashboards_path: str) -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": TAG,
                "folder": TAG,
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "options": {"path": dashboards_path},
            }
        ],
    }


def dashboard_file(document: dict[str, Any]) -> tuple[str, str]:
    """A dashboard's file name (its uid) and JSON text."""
    return f"{document['uid']}.json", json.dumps(document, indent=2) + "\n"


def write_dashboards(
    out: Path,
    documents: list[dict[str, Any]],
    prometheus_url: str,
    dashboards_path: str | None = None,
) -> list[Path]:
    """`out/dashboards/<uid>.json` and `out/provisioning/{datasources,dashboards}/gatewatch.yml`;
    `dashboards_path` is where Grafana finds the JSON files (default: where they are written)."""
    folder = out / DASHBOARDS
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in map(dashboard_file, documents):
        (folder / name).write_text(text)
        written.append(folder / name)
    provisioning = {
        "datasources": datasource(prometheus_url),
        "dashboards": provider(dashboards_path or str(folder.resolve())),
    }
    for kind, document in provisioning.items():
        path = out / PROVISIONING / kind / f"{TAG}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        written.append(path)
    return written
