"""PagerDuty Events API v2: trigger, acknowledge, resolve; dedup_key is the incident id."""

from typing import Any

from gatewatch.config.channels import PagerDutyChannel
from gatewatch.notify.delivery import DeliveryResult
from gatewatch.notify.http import HttpSender
from gatewatch.notify.message import Kind, Message

SEVERITY = {
    "critical": "critical",
    "P1": "error",
    "P2": "warning",
    "warning": "warning",
    "info": "info",
}
SUMMARY_MAX = 1024
NOT_PAGES = {
    Kind.REMINDER: "reminders do not page",
    Kind.HANDOFF: "hand-off announcements do not page",
}
# An event over 512 KB is refused whole; the description is the only part that can be long.
DESCRIPTION_MAX = 256 * 1024
CLIPPED = "… [clipped]"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(CLIPPED)] + CLIPPED


def pagerduty_event(message: Message, routing_key: str) -> dict[str, Any]:
    """The Events API v2 body for a message (reminders are not sent to PagerDuty)."""
    action = {Kind.TRIGGER: "trigger", Kind.ACKNOWLEDGE: "acknowledge", Kind.RESOLVE: "resolve"}[
        message.kind
    ]
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": str(message.incident_id),
    }
    if message.kind is not Kind.TRIGGER:
        return event
    summary = f"[{message.severity}] {message.title}"
    details: dict[str, Any] = {
        "labels": message.labels,
        "description": _clip(message.text, DESCRIPTION_MAX),
        "incident": message.incident_url,
    }
    if message.recipient is not None:
        details["paged"] = message.recipient.name
    links = [{"href": message.incident_url, "text": f"gatewatch incident #{message.incident_id}"}]
    if message.runbook_url:
        links.append({"href": message.runbook_url, "text": "Runbook"})
    event |= {
        "payload": {
            "summary": _clip(summary, SUMMARY_MAX),
            "source": message.labels.get("instance") or message.service or "gatewatch",
            "severity": SEVERITY.get(message.severity, "warning"),
            "timestamp": message.triggered_at,
            "component": message.service,
            "group": message.labels.get("team") or message.service,
            "class": message.labels.get("alertname"),
            "custom_details": details,
        },
        "links": links,
        "client": "gatewatch",
        "client_url": message.incident_url,
    }
    event["payload"] = {k: v for k, v in event["payload"].items() if v is not None}
    return event


class PagerDutyNotifier:
    def __init__(self, config: PagerDutyChannel, http: HttpSender) -> None:
        self.id = config.id
        self._config = config
        self._http = http

    async def send(self, message: Message) -> DeliveryResult:
        if message.kind in NOT_PAGES:
            return DeliveryResult(ok=False, retryable=False, error=NOT_PAGES[message.kind])
        body = pagerduty_event(message, self._config.routing_key)
        return await self._http.post_json(self._config.url, body)
