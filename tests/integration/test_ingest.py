"""Ingest through the real app and store: incidents open, group, dedup and resolve."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from gatewatch.model import fingerprint
from tests.conftest import ApiFactory
from tests.support.auth import auth
from tests.support.clock import ManualClock
from tests.support.payloads import iso, push_alert, webhook, webhook_alert

WEBHOOK = "/api/v1/webhooks/alertmanager"
PUSH = "/api/v2/alerts"
LATENCY = {"alertname": "HighMessageDeliveryLatency", "severity": "P1", "service": "im-gateway"}


def _post(api: TestClient, path: str, body: Any) -> dict[str, Any]:
    response = api.post(path, json=body, headers=auth("ingest"))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _incidents(api: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/api/v1/incidents", params=params, headers=auth("viewer"))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _detail(api: TestClient, incident_id: int) -> dict[str, Any]:
    response = api.get(f"/api/v1/incidents/{incident_id}", headers=auth("viewer"))
    assert response.status_code == 200, response.text
    detail: dict[str, Any] = response.json()
    return detail


def test_webhook_opens_incident_with_severity_title_and_timeline(api: TestClient) -> None:
    alert = webhook_alert(
        {**LATENCY, "instance": "gw-1"},
        annotations={"summary": "P99 latency 612ms", "description": "d"},
    )
    result = _post(api, WEBHOOK, webhook([alert]))
    assert result["accepted"] == 1
    [incident] = _incidents(api)
    assert incident["id"] == result["incidents_opened"][0]
    assert (incident["status"], incident["severity"], incident["title"], incident["service"]) == (
        "triggered",
        "P1",
        "P99 latency 612ms",
        "im-gateway",
    )
    detail = _detail(api, incident["id"])
    assert [a["fingerprint"] for a in detail["alerts"]] == [
        fingerprint({**LATENCY, "instance": "gw-1"})
    ]
    assert detail["alerts"][0]["starts_at"].startswith("2026-11-22T10:00:00.123456")
    assert detail["alerts"][0]["ends_at"] is None
    assert [e["kind"] for e in detail["timeline"]] == ["triggered", "alerts_firing"]
    assert detail["timeline"][0]["actor"] == "alertmanager"


def test_repeats_update_instead_of_duplicating(api: TestClient, clock: ManualClock) -> None:
    body = webhook([webhook_alert(LATENCY)])
    _post(api, WEBHOOK, body)
    clock.advance(timedelta(minutes=4))
    again = _post(api, WEBHOOK, body)
    assert again["incidents_opened"] == []
    [incident] = _incidents(api)
    detail = _detail(api, incident["id"])
    [alert] = detail["alerts"]
    assert alert["receive_count"] == 2
    assert alert["last_seen"] == iso(clock.now()).replace("Z", "") + "Z"
    assert len(detail["timeline"]) == 2


def test_alerts_of_one_group_key_share_an_incident(api: TestClient) -> None:
    group = '{}:{alertname="HighMessageDeliveryLatency"}'
    _post(api, WEBHOOK, webhook([webhook_alert({**LATENCY, "instance": "gw-1"})], group))
    second = _post(api, WEBHOOK, webhook([webhook_alert({**LATENCY, "instance": "gw-2"})], group))
    assert second["incidents_opened"] == []
    other = _post(api, WEBHOOK, webhook([webhook_alert({**LATENCY, "instance": "gw-3"})], "{}:o"))
    assert len(other["incidents_opened"]) == 1
    incidents = _incidents(api)
    assert len(incidents) == 2
    assert len(_detail(api, incidents[1]["id"])["alerts"]) == 2


def test_incident_resolves_when_all_its_alerts_resolve(api: TestClient) -> None:
    one, two = {**LATENCY, "instance": "gw-1"}, {**LATENCY, "instance": "gw-2"}
    _post(api, WEBHOOK, webhook([webhook_alert(one), webhook_alert(two)]))
    partly = _post(
        api,
        WEBHOOK,
        webhook(
            [
                webhook_alert(one, status="resolved", ends_at="2026-11-22T10:30:00Z"),
                webhook_alert(two),
            ]
        ),
    )
    assert partly["incidents_resolved"] == []
    done = _post(
        api,
        WEBHOOK,
        webhook(
            [
                webhook_alert(one, status="resolved", ends_at="2026-11-22T10:30:00Z"),
                webhook_alert(two, status="resolved", ends_at="2026-11-22T10:31:00Z"),
            ]
        ),
    )
    [incident] = _incidents(api)
    assert done["incidents_resolved"] == [incident["id"]]
    assert (incident["status"], incident["resolved_by"]) == ("resolved", "alertmanager")
    kinds = [e["kind"] for e in _detail(api, incident["id"])["timeline"]]
    assert kinds == ["triggered", "alerts_firing", "alerts_resolved", "alerts_resolved", "resolved"]
    messages = [e["message"] for e in _detail(api, incident["id"])["timeline"]]
    assert messages[1] == "2 alerts firing: HighMessageDeliveryLatency x2"


def test_firing_again_after_resolution_opens_a_new_incident(api: TestClient) -> None:
    _post(api, WEBHOOK, webhook([webhook_alert(LATENCY)]))
    _post(
        api,
        WEBHOOK,
        webhook([webhook_alert(LATENCY, status="resolved", ends_at="2026-11-22T10:05:00Z")]),
    )
    again = _post(api, WEBHOOK, webhook([webhook_alert(LATENCY, starts_at="2026-11-22T11:00:00Z")]))
    assert len(again["incidents_opened"]) == 1
    statuses = [i["status"] for i in _incidents(api)]
    assert statuses == ["triggered", "resolved"]


def test_still_firing_alert_does_not_reopen_a_hand_resolved_incident(api: TestClient) -> None:
    opened = _post(api, WEBHOOK, webhook([webhook_alert(LATENCY)]))["incidents_opened"][0]
    assert (
        api.post(f"/api/v1/incidents/{opened}/resolve", headers=auth("responder")).status_code
        == 200
    )
    repeat = _post(api, WEBHOOK, webhook([webhook_alert(LATENCY)]))
    assert repeat["incidents_opened"] == []
    assert [i["status"] for i in _incidents(api)] == ["resolved"]


def test_prometheus_push_uses_routes_group_by(make_api: ApiFactory, clock: ManualClock) -> None:
    api = make_api(
        routes=[{"name": "gw", "matchers": ['service="im-gateway"'], "group_by": ["alertname"]}]
    )
    future = iso(clock.now() + timedelta(minutes=4))
    result = _post(
        api,
        PUSH,
        [
            push_alert({**LATENCY, "instance": "gw-1"}, ends_at=future),
            push_alert({**LATENCY, "instance": "gw-2"}, ends_at=future),
        ],
    )
    assert result["accepted"] == 2
    [incident] = _incidents(api)
    assert incident["route"] == "gw"
    assert incident["group_labels"] == {"alertname": "HighMessageDeliveryLatency"}
    assert len(_detail(api, incident["id"])["alerts"]) == 2
    # endsAt in the past means resolved, as Prometheus signals it.
    past = iso(clock.now() - timedelta(seconds=1))
    _post(
        api,
        PUSH,
        [
            push_alert({**LATENCY, "instance": "gw-1"}, ends_at=past),
            push_alert({**LATENCY, "instance": "gw-2"}, ends_at=past),
        ],
    )
    assert _incidents(api)[0]["status"] == "resolved"


def test_continue_route_opens_one_incident_per_matched_route(make_api: ApiFactory) -> None:
    api = make_api(
        policies={"page": {}},
        routes=[
            {"name": "audit", "matchers": ['service="im-gateway"'], "continue": True},
            {"name": "page", "matchers": ['severity="P1"'], "policy": "page"},
        ],
    )
    result = _post(api, WEBHOOK, webhook([webhook_alert(LATENCY)]))
    assert len(result["incidents_opened"]) == 2
    assert sorted((i["route"], i["policy"]) for i in _incidents(api)) == [
        ("audit", None),
        ("page", "page"),
    ]


def test_severity_rises_with_a_more_urgent_alert(api: TestClient) -> None:
    group = '{}:{service="im-gateway"}'
    _post(api, WEBHOOK, webhook([webhook_alert({**LATENCY, "severity": "warning"})], group))
    _post(
        api, WEBHOOK, webhook([webhook_alert({**LATENCY, "severity": "critical", "x": "1"})], group)
    )
    [incident] = _incidents(api)
    assert incident["severity"] == "critical"
    assert "severity_raised" in [e["kind"] for e in _detail(api, incident["id"])["timeline"]]


def test_unknown_severity_label_gets_the_default_level(api: TestClient) -> None:
    _post(api, WEBHOOK, webhook([webhook_alert({"alertname": "X", "severity": "sev9"})]))
    assert _incidents(api)[0]["severity"] == "warning"


def test_firing_alerts_filter_by_matchers(api: TestClient) -> None:
    _post(
        api,
        WEBHOOK,
        webhook(
            [
                webhook_alert(LATENCY),
                webhook_alert({"alertname": "IMGatewayServiceDown", "severity": "critical"}),
                webhook_alert(
                    {"alertname": "Old", "severity": "P2"},
                    status="resolved",
                    ends_at="2026-11-22T10:01:00Z",
                ),
            ]
        ),
    )

    def names(**params: Any) -> list[str]:
        response = api.get("/api/v1/alerts", params=params, headers=auth("viewer"))
        assert response.status_code == 200, response.text
        return sorted(a["labels"]["alertname"] for a in response.json()["items"])

    assert names() == ["HighMessageDeliveryLatency", "IMGatewayServiceDown"]
    assert names(filter='severity=~"critical|P2"') == ["IMGatewayServiceDown"]
    assert names(filter='{severity="P2"}', status="all") == ["Old"]
    bad = api.get("/api/v1/alerts", params={"filter": "severity=="}, headers=auth("viewer"))
    assert bad.status_code == 422
    assert bad.json()["details"][0]["path"] == "query.filter[0]"
