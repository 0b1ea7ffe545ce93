"""A gatewatch config that pages through the stand-ins, with delays shortened for tests."""

from typing import Any

import httpx

from tests.support.auth import TOKEN_CONFIG, TOKENS
from tests.support.standins import (
    SmtpSink,
    pagerduty_standin,
    slack_standin,
    webhook_sink,
)

ROUTING_KEY = "R0123456789abcdef0123456789abcde"
SLACK_SIGNING_SECRET = "slack-signing-secret-for-tests"
WEBHOOK_SECRET = "webhook-secret-for-tests"
PEOPLE = [
    {"id": "alice", "name": "Alice", "email": "alice@im.example", "slack_user_id": "UALICE"},
    {"id": "bob", "name": "Bob", "email": "bob@im.example", "slack_user_id": "UBOB"},
    {"id": "carol", "name": "Carol", "email": "carol@im.example", "slack_user_id": "UCAROL"},
]


def paging_config(
    store_url: str,
    slack_url: str,
    pagerduty_url: str,
    smtp_port: int,
    webhook_url: str,
    step_delay: str = "3s",
    ack_timeout: str = "4s",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "storage": {"url": store_url},
        "auth": {"tokens": TOKEN_CONFIG},
        "external_url": "http://gatewatch.test",
        "people": PEOPLE,
        "schedules": [
            {
                "id": "primary",
                "time_zone": "Europe/Berlin",
                "layers": [
                    {"rotation": ["alice"], "shift": "1d", "handoff": "2026-01-01T09:00:00"}
                ],
            },
            {
                "id": "secondary",
                "layers": [{"rotation": ["bob"], "shift": "1w", "handoff": "2026-01-01T09:00:00"}],
            },
        ],
        "channels": [
            {
                "id": "slack",
                "type": "slack",
                "webhook_url": slack_url,
                "signing_secret": SLACK_SIGNING_SECRET,
                "rate_per_second": 50,
                "burst": 50,
            },
            {
                "id": "pagerduty",
                "type": "pagerduty",
                "routing_key": ROUTING_KEY,
                "url": pagerduty_url,
            },
            {
                "id": "email",
                "type": "email",
                "host": "127.0.0.1",
                "port": smtp_port,
                "from": "gatewatch@im.example",
                "to": ["oncall@im.example"],
            },
            {"id": "ops-hook", "type": "webhook", "url": webhook_url, "secret": WEBHOOK_SECRET},
        ],
        "severities": [
            {"name": "critical", "channels": ["pagerduty", "slack", "email"]},
            {"name": "P1", "channels": ["pagerduty", "slack"]},
            {"name": "P2", "channels": ["slack"], "reminder_after": "2s"},
            {"name": "warning", "channels": ["slack"]},
            {"name": "info", "channels": ["slack"]},
        ],
        "policies": {
            "page-now": {
                "steps": [
                    {"after": "0s", "targets": ["schedule:primary", "channel:ops-hook"]},
                    {"after": step_delay, "targets": ["schedule:secondary"]},
                    {"after": f"{2 * int(step_delay[:-1])}s", "targets": ["person:carol"]},
                ],
                "ack_timeout": ack_timeout,
            },
        },
        "routes": [
            {
                "name": "critical",
                "matchers": ['severity="critical"'],
                "group_by": ["alertname"],
                "policy": "page-now",
            }
        ],
        "delivery": {
            "max_attempts": 50,
            "backoff_initial": "100ms",
            "backoff_max": "1s",
            "timeout": "2s",
        },
        "scheduler": {"poll_interval": "100ms"},
        **extra,
    }


class Sinks:
    def __init__(self) -> None:
        self.slack = slack_standin().start()
        self.pagerduty = pagerduty_standin().start()
        self.smtp = SmtpSink().start()
        self.hook = webhook_sink(WEBHOOK_SECRET).start()

    def config(
        self,
        store_url: str,
        slack_url: str | None = None,
        pagerduty_url: str | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        """A paging config that sends to these sinks (or to the URLs given instead)."""
        return paging_config(
            store_url,
            slack_url or self.slack.url,
            pagerduty_url or self.pagerduty.url,
            self.smtp.port,
            self.hook.url,
            **overrides,
        )

    def stop(self) -> None:
        for sink in (self.slack, self.pagerduty, self.hook):
            sink.stop()
        self.smtp.stop()

    def slack_mentions(self, user: str) -> list[dict[str, Any]]:
        return [b for b in self.slack.bodies() if f"<@{user}>" in str(b)]

    def pd(self, action: str) -> list[dict[str, Any]]:
        return [b for b in self.pagerduty.bodies() if b["event_action"] == action]

    def mails_to(self, address: str) -> list[Any]:
        return [
            m
            for m, rcpt in zip(self.smtp.messages, self.smtp.envelopes, strict=True)
            if address in rcpt
        ]


def notifications(url: str, incident_id: int | None = None) -> list[dict[str, Any]]:
    """gatewatch's outbox as its API shows it (all of an incident's, or the latest 1000)."""
    params: dict[str, Any] = {"limit": 1000}
    if incident_id is not None:
        params["incident"] = incident_id
    response = httpx.get(
        f"{url}/api/v1/notifications",
        params=params,
        headers={"Authorization": f"Bearer {TOKENS['viewer']}"},
    )
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()
    return found


def unsent(url: str, incident_id: int) -> list[dict[str, Any]]:
    """The incident's notifications still waiting or being sent."""
    return [n for n in notifications(url, incident_id) if n["status"] in ("pending", "sending")]


def step_storm_config(
    store_url: str, webhook_url: str, step_after: tuple[int, ...], **scheduler: str
) -> dict[str, Any]:
    """Every alert its own incident (grouped by `id`), paging alice at each of `step_after`
    seconds through one signed webhook with no throttle to speak of."""
    hook = {"id": "hook", "type": "webhook", "url": webhook_url, "secret": WEBHOOK_SECRET}
    return {
        "auth": {"tokens": TOKEN_CONFIG},
        "storage": {"url": store_url},
        "people": [{"id": "alice", "name": "Alice"}],
        "channels": [{**hook, "rate_per_second": 10_000, "burst": 10_000}],
        "severities": [{"name": "critical", "channels": ["hook"]}],
        "default_severity": "critical",
        "policies": {
            "storm": {
                "steps": [{"after": f"{s}s", "targets": ["person:alice"]} for s in step_after]
            }
        },
        "routes": [{"name": "all", "matchers": [], "group_by": ["id"], "policy": "storm"}],
        "scheduler": {"poll_interval": "100ms", **scheduler},
    }


def step_of(received: dict[str, Any]) -> tuple[str, int]:
    """(alert id, step) of a page the webhook sink received from a step_storm_config server."""
    return received["body"]["labels"]["id"], received["body"]["step"]
