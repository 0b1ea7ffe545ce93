"""Alert payloads in the shapes Alertmanager and Prometheus really send."""

from datetime import UTC, datetime
from typing import Any

GO_ZERO_TIME = "0001-01-01T00:00:00Z"
# The alerting guide's critical loss alert as the im-gateway pack labels it.
LOSS_LABELS = {
    "alertname": "HighMessageLossRate",
    "severity": "critical",
    "service": "im-gateway",
    "instance": "gw-1:8080",
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def webhook_alert(
    labels: dict[str, str],
    status: str = "firing",
    starts_at: str = "2026-11-22T10:00:00.123456789Z",
    ends_at: str = GO_ZERO_TIME,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": labels,
        "annotations": annotations or {"summary": f"{labels.get('alertname')} summary"},
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": "0000000000000000",
    }


def webhook(
    alerts: list[dict[str, Any]], group_key: str = '{}:{alertname="X"}', **extra: Any
) -> dict[str, Any]:
    common = dict(alerts[0]["labels"]) if alerts else {}
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "receiver": "gatewatch",
        "groupLabels": {"alertname": common.get("alertname", "")},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
        **extra,
    }


def push_alert(
    labels: dict[str, str], ends_at: str | None = None, starts_at: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "labels": labels,
        "annotations": {"summary": f"{labels.get('alertname')} summary"},
        "generatorURL": "http://prometheus:9090/graph",
    }
    if starts_at:
        body["startsAt"] = starts_at
    if ends_at:
        body["endsAt"] = ends_at
    return body
