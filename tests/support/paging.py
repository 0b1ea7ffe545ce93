"""A gatewatch config that pages through the stand-ins, with delays shortened for tests."""

from typing import Any

from tests.conftest import TOKEN_CONFIG

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
