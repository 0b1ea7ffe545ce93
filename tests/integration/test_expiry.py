"""Pushed alerts expire as in Alertmanager: a firing alert whose endsAt passes without a
refresh is resolved, and an incident whose alerts all expired resolves itself, saying so."""

from datetime import timedelta

from fastapi.testclient import TestClient

from gatewatch.web.deps import Services
from tests.support.auth import auth
from tests.support.clock import ManualClock
from tests.support.payloads import iso, push_alert, webhook, webhook_alert

PUSH = "/api/v2/alerts"


def _services(api: TestClient) -> Services:
    services: Services = api.app.state.services  # type: ignore[attr-defined]
    return services


def _push(api: TestClient, clock: ManualClock, name: str, lasts: timedelta) -> None:
    alert = push_alert({"alertname": name}, ends_at=iso(clock.now() + lasts))
    assert api.post(PUSH, json=[alert], headers=auth("ingest")).status_code == 200


def _incident(api: TestClient, name: str) -> dict[str, object]:
    items = api.get("/api/v1/incidents", headers=auth("viewer")).json()["items"]
    found: dict[str, object] = next(i for i in items if i["title"].startswith(name))
    return found


def test_an_alert_not_refreshed_before_its_ends_at_expires(
    api: TestClient, clock: ManualClock
) -> None:
    _push(api, clock, "Stale", timedelta(minutes=4))
    _push(api, clock, "Refreshed", timedelta(minutes=4))
    clock.advance(timedelta(minutes=3))
    assert _services(api).incidents.expire_alerts() == 0
    _push(api, clock, "Refreshed", timedelta(minutes=4))  # as Prometheus re-sends firing alerts
    clock.advance(timedelta(minutes=2))

    assert _services(api).incidents.expire_alerts() == 1
    stale = _incident(api, "Stale")
    assert stale["status"] == "resolved" and stale["resolved_by"] == "expiry"
    assert _incident(api, "Refreshed")["status"] == "triggered"
    timeline = api.get(f"/api/v1/incidents/{stale['id']}", headers=auth("viewer")).json()
    messages = [event["message"] for event in timeline["timeline"]]
    assert "Alert Stale expired (endsAt passed)" in messages
    assert "Resolved: every alert expired, its endsAt passed without a refresh" in messages
    assert _services(api).incidents.expire_alerts() == 0  # once


def test_alertmanager_webhook_alerts_do_not_expire_by_time(
    api: TestClient, clock: ManualClock
) -> None:
    body = webhook(
        [webhook_alert({"alertname": "FromAM"}, ends_at=iso(clock.now() + timedelta(minutes=1)))]
    )
    assert api.post("/api/v1/webhooks/alertmanager", json=body, headers=auth("ingest")).is_success
    clock.advance(timedelta(hours=1))
    assert _services(api).incidents.expire_alerts() == 0
    assert _incident(api, "FromAM")["status"] == "triggered"
