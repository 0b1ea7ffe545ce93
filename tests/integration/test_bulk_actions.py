"""An alert storm leaves dozens of incidents: a responder acknowledges or resolves them in one
go (by ids or by a matcher on their alerts), and each gets its own timeline entry."""

from fastapi.testclient import TestClient

from tests.support.auth import auth
from tests.support.payloads import push_alert

BULK = "/api/v1/incidents/bulk"


def _storm(api: TestClient, count: int) -> None:
    alerts = [
        push_alert({"alertname": f"Node{n}", "team": "im" if n < count - 5 else "db"})
        for n in range(count)
    ]
    assert api.post("/api/v2/alerts", json=alerts, headers=auth("ingest")).status_code == 200


def _timeline(api: TestClient, incident_id: int) -> list[str]:
    detail = api.get(f"/api/v1/incidents/{incident_id}", headers=auth("viewer")).json()
    return [event["message"] for event in detail["timeline"]]


def test_fifty_incidents_acknowledged_in_one_request(api: TestClient) -> None:
    _storm(api, 55)
    ids = list(range(1, 51))
    answer = api.post(BULK, json={"action": "ack", "ids": ids}, headers=auth("responder"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"done": ids, "refused": {}}
    for incident_id in (1, 25, 50):
        assert "Acknowledged by responder-alice" in _timeline(api, incident_id)
    again = api.post(BULK, json={"action": "ack", "ids": [1, 51]}, headers=auth("responder"))
    assert again.json()["done"] == [51]
    assert "already acknowledged" in again.json()["refused"]["1"]


def test_a_matcher_picks_the_incidents_to_resolve(api: TestClient) -> None:
    _storm(api, 20)
    answer = api.post(
        BULK,
        json={"action": "resolve", "filter": 'team="db"', "note": "db failover done"},
        headers=auth("responder"),
    )
    assert answer.json()["done"] == [16, 17, 18, 19, 20]
    assert "db failover done" in _timeline(api, 18)
    still_open = api.get("/api/v1/incidents?status=open", headers=auth("viewer")).json()
    assert still_open["total"] == 15
    nothing = api.post(BULK, json={"action": "ack"}, headers=auth("responder"))
    assert nothing.status_code == 422
    viewer = api.post(BULK, json={"action": "ack", "ids": [1]}, headers=auth("viewer"))
    assert viewer.status_code == 403
