"""Acknowledge, resolve and annotate incidents through the API; who did it is recorded."""

from typing import Any

from fastapi.testclient import TestClient

from tests.support.auth import auth
from tests.support.payloads import webhook, webhook_alert

WEBHOOK = "/api/v1/webhooks/alertmanager"


def _open(
    api: TestClient,
    name: str = "IMGatewayServiceDown",
    severity: str = "critical",
    service: str = "im-gateway",
) -> int:
    body = webhook(
        [webhook_alert({"alertname": name, "severity": severity, "service": service})],
        group_key=f'{{}}:{{alertname="{name}"}}',
    )
    response = api.post(WEBHOOK, json=body, headers=auth("ingest"))
    assert response.status_code == 200, response.text
    incident_id: int = response.json()["incidents_opened"][0]
    return incident_id


def _timeline(api: TestClient, incident_id: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = api.get(
        f"/api/v1/incidents/{incident_id}", headers=auth("viewer")
    ).json()["timeline"]
    return events


def test_ack_records_who_and_when(api: TestClient) -> None:
    incident_id = _open(api)
    response = api.post(
        f"/api/v1/incidents/{incident_id}/ack", json={"note": "on it"}, headers=auth("responder")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["acknowledged_by"]) == ("acknowledged", "responder-alice")
    last_two = [(e["kind"], e["actor"], e["message"]) for e in _timeline(api, incident_id)[-2:]]
    assert last_two == [
        ("acknowledged", "responder-alice", "Acknowledged by responder-alice"),
        ("note", "responder-alice", "on it"),
    ]


def test_ack_twice_is_a_conflict_naming_the_first(api: TestClient) -> None:
    incident_id = _open(api)
    assert (
        api.post(f"/api/v1/incidents/{incident_id}/ack", headers=auth("responder")).status_code
        == 200
    )
    second = api.post(f"/api/v1/incidents/{incident_id}/ack", headers=auth("admin"))
    assert second.status_code == 409
    assert "already acknowledged by responder-alice" in second.json()["error"]


def test_resolve_then_ack_is_a_conflict(api: TestClient) -> None:
    incident_id = _open(api)
    resolved = api.post(
        f"/api/v1/incidents/{incident_id}/resolve", json={"note": "fixed"}, headers=auth("admin")
    )
    assert resolved.json()["resolved_by"] == "admin-alice"
    assert (
        api.post(f"/api/v1/incidents/{incident_id}/ack", headers=auth("responder")).status_code
        == 409
    )
    assert (
        api.post(f"/api/v1/incidents/{incident_id}/resolve", headers=auth("responder")).status_code
        == 409
    )


def test_notes_append_to_the_timeline(api: TestClient) -> None:
    incident_id = _open(api)
    response = api.post(
        f"/api/v1/incidents/{incident_id}/notes",
        json={"text": "kafka lag"},
        headers=auth("responder"),
    )
    assert response.status_code == 201
    assert _timeline(api, incident_id)[-1]["message"] == "kafka lag"
    empty = api.post(
        f"/api/v1/incidents/{incident_id}/notes", json={"text": ""}, headers=auth("responder")
    )
    assert empty.status_code == 422
    assert empty.json()["details"][0]["path"] == "body.text"


def test_unknown_incident_is_404(api: TestClient) -> None:
    for method, path in [
        ("get", "/api/v1/incidents/999"),
        ("post", "/api/v1/incidents/999/ack"),
        ("post", "/api/v1/incidents/999/notes"),
    ]:
        response = api.request(method.upper(), path, json={"text": "x"}, headers=auth("admin"))
        assert response.status_code == 404, path
        assert response.json()["error"] == "incident 999 does not exist"


def test_list_filters_and_paginates(api: TestClient) -> None:
    first = _open(api, "A", "critical", "im-gateway")
    second = _open(api, "B", "P1", "im-gateway")
    third = _open(api, "C", "warning", "redis-gateway")
    api.post(f"/api/v1/incidents/{second}/ack", headers=auth("responder"))
    api.post(f"/api/v1/incidents/{third}/resolve", headers=auth("responder"))

    def ids(**params: Any) -> list[int]:
        response = api.get("/api/v1/incidents", params=params, headers=auth("viewer"))
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids() == [third, second, first]
    assert ids(status="open") == [second, first]
    assert ids(status="acknowledged") == [second]
    assert ids(severity=["critical", "warning"]) == [third, first]
    assert ids(service="redis-gateway") == [third]
    page = api.get(
        "/api/v1/incidents", params={"limit": 1, "offset": 1}, headers=auth("viewer")
    ).json()
    assert ([i["id"] for i in page["items"]], page["total"]) == ([second], 3)
    bad = api.get("/api/v1/incidents", params={"status": "sleeping"}, headers=auth("viewer"))
    assert bad.status_code == 422
    assert "unknown status 'sleeping'" in bad.json()["details"][0]["message"]
    assert (
        api.get("/api/v1/incidents", params={"limit": 0}, headers=auth("viewer")).status_code == 422
    )
