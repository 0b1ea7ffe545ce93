"""Slack's interactivity requests: every click gets a 200 (a link button too, or Slack shows
a warning); only Acknowledge and Resolve act."""

import json
from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient

from gatewatch.notify.slack_signature import slack_signature
from tests.conftest import ApiFactory
from tests.support.auth import auth
from tests.support.clock import ManualClock

SECRET = "slack-signing-secret-for-tests"
ACTIONS = "/api/v1/webhooks/slack/actions"


def _click(api: TestClient, clock: ManualClock, action: dict[str, Any]) -> Any:
    payload = {"type": "block_actions", "user": {"id": "UX", "username": "x"}, "actions": [action]}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    stamp = str(int(clock.now().timestamp()))
    return api.post(
        ACTIONS,
        content=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": slack_signature(SECRET, stamp, body),
        },
    )


def test_link_buttons_are_acknowledged_without_acting(
    make_api: ApiFactory, clock: ManualClock
) -> None:
    api = make_api(
        channels=[
            {
                "id": "slack",
                "type": "slack",
                "webhook_url": "http://127.0.0.1:9/slack",
                "signing_secret": SECRET,
            }
        ]
    )
    for action_id in ("gatewatch_open", "gatewatch_runbook"):
        answer = _click(
            api, clock, {"action_id": action_id, "url": "http://gw.test/ui/incidents/1"}
        )
        assert answer.status_code == 200 and answer.json() == {"text": "nothing to do"}
    missing = _click(api, clock, {"action_id": "gatewatch_ack"})
    assert missing.status_code == 409 and "incident id" in missing.json()["error"]


def test_escalate_now_from_the_api_and_from_slack(make_api: ApiFactory, clock: ManualClock) -> None:
    api = make_api(
        people=[{"id": "alice"}, {"id": "bob"}, {"id": "carol"}],
        channels=[
            {
                "id": "slack",
                "type": "slack",
                "webhook_url": "http://127.0.0.1:9/slack",
                "signing_secret": SECRET,
            }
        ],
        severities=[{"name": "critical", "channels": ["slack"]}],
        default_severity="critical",
        policies={
            "page": {
                "steps": [
                    {"after": "0s", "targets": ["person:alice"]},
                    {"after": "30m", "targets": ["person:bob"]},
                    {"after": "60m", "targets": ["person:carol"]},
                ]
            }
        },
        routes=[{"name": "all", "policy": "page"}],
    )
    body = [{"labels": {"alertname": "Down"}}]
    assert api.post("/api/v2/alerts", json=body, headers=auth("ingest")).status_code == 200
    answer = api.post("/api/v1/incidents/1/escalate", headers=auth("responder"))
    assert answer.status_code == 200 and answer.json() == {"incident_id": 1, "step": 2}
    pressed = _click(api, clock, {"action_id": "gatewatch_escalate", "value": "1"})
    assert pressed.status_code == 200 and "step 3 paged" in pressed.json()["text"]
    nothing_left = api.post("/api/v1/incidents/1/escalate", headers=auth("responder"))
    assert nothing_left.status_code == 409 and "no further step" in nothing_left.json()["error"]
    assert api.post("/api/v1/incidents/1/escalate", headers=auth("viewer")).status_code == 403
