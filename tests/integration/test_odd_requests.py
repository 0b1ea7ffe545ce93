"""Requests a fuzzer or a careless client sends get a 4xx naming what is wrong, never a 500,
on both stores: ids beyond 32 bits, durations and moments beyond datetime's range, non-ASCII
tokens and signatures."""

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ApiFactory
from tests.support.auth import auth
from tests.support.payloads import webhook, webhook_alert

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("GET", f"/api/v1/incidents/{HUGE}", "viewer"),
        ("GET", "/api/v1/incidents/2147483648", "viewer"),
        ("POST", f"/api/v1/incidents/{HUGE}/ack", "responder"),
        ("GET", f"/api/v1/incidents/{HUGE}/postmortem", "viewer"),
        ("DELETE", f"/api/v1/overrides/{HUGE}", "responder"),
        ("POST", f"/api/v1/notifications/{HUGE}/resend", "responder"),
        ("GET", f"/api/v1/notifications?incident={HUGE}", "viewer"),
        ("GET", "/api/v1/reports/response-times?since=999999d", "viewer"),
        ("GET", f"/api/v1/reports/response-times?since={HUGE}d", "viewer"),
        ("GET", "/api/v1/oncall?at=9999-12-31T23:59:59-14:00", "viewer"),
        ("GET", "/api/v1/oncall?at=0001-01-01T00:00:00%2B14:00", "viewer"),
    ],
)
def test_out_of_range_values_are_422(api: TestClient, method: str, path: str, role: str) -> None:
    response = api.request(method, path, headers=auth(role))
    assert response.status_code == 422, response.text
    assert response.json()["details"], response.text


def test_override_times_out_of_range_are_422(make_api: ApiFactory) -> None:
    api = make_api(
        people=[{"id": "alice"}],
        schedules=[
            {
                "id": "s",
                "layers": [
                    {"rotation": ["alice"], "shift": "1w", "handoff": "2026-11-02T09:00:00"}
                ],
            }
        ],
    )
    body = {"person": "alice", "start": "2026-12-01T00:00:00Z", "end": "9999-12-31T23:59:59Z"}
    response = api.post("/api/v1/schedules/s/overrides", json=body, headers=auth("responder"))
    assert response.status_code == 422 and response.json()["details"][0]["path"] == "body.end"


def test_non_ascii_signatures_are_refused_not_crashed(make_api: ApiFactory) -> None:
    api = make_api(
        channels=[
            {
                "id": "slack",
                "type": "slack",
                "webhook_url": "http://127.0.0.1:9/slack",
                "signing_secret": "slack-signing-secret",
            }
        ]
    )
    stamp = str(int(api.app.state.services.runtime.clock.now().timestamp()))  # type: ignore[attr-defined]
    refused = api.post(
        "/api/v1/webhooks/slack/actions",
        content=b"payload=%7B%7D",
        headers={"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=\u00fc".encode()},
    )
    assert refused.status_code == 401
    form = api.post("/ui/logout", data={"csrf": "\u00fc\u00df"}, follow_redirects=False)
    assert form.status_code == 403


def test_text_with_nul_is_422_on_both_stores(api: TestClient) -> None:
    body = webhook([webhook_alert({"alertname": "Nul"})])
    assert api.post("/api/v1/webhooks/alertmanager", json=body, headers=auth("ingest")).is_success
    for method, path, payload in [
        ("POST", "/api/v1/incidents/1/notes", {"text": "a\u0000b"}),
        ("POST", "/api/v1/incidents/1/ack", {"note": "a\u0000b"}),
        ("PUT", "/api/v1/incidents/1/review", {"summary": "a\u0000b"}),
        (
            "POST",
            "/api/v1/incidents/1/action-items",
            {"text": "x\u0000", "owner": "o", "due": "2027-01-01"},
        ),
    ]:
        answer = api.request(method, path, json=payload, headers=auth("admin"))
        assert answer.status_code == 422, (path, answer.text)
        assert "NUL" in answer.text
