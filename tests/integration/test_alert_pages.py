"""Large alert sets: the API pages them, the console header counts in the database, and
/metrics keeps label values from alerts bounded."""

from fastapi.testclient import TestClient

from tests.conftest import ApiFactory
from tests.support.auth import auth
from tests.support.payloads import push_alert

ALERTS = 250


def _push(api: TestClient, alerts: list[dict[str, object]]) -> None:
    assert api.post("/api/v2/alerts", json=alerts, headers=auth("ingest")).status_code == 200


def test_alerts_come_a_page_at_a_time_with_the_total(api: TestClient) -> None:
    _push(
        api,
        [
            push_alert({"alertname": f"A{n}", "team": "im" if n % 2 else "db"})
            for n in range(ALERTS)
        ],
    )
    first = api.get("/api/v1/alerts", headers=auth("viewer")).json()
    assert (len(first["items"]), first["total"], first["limit"]) == (100, ALERTS, 100)
    last = api.get("/api/v1/alerts", params={"offset": 200}, headers=auth("viewer")).json()
    assert len(last["items"]) == 50
    seen = {a["labels"]["alertname"] for a in first["items"] + last["items"]}
    assert len(seen) == 150
    filtered = api.get(
        "/api/v1/alerts", params={"filter": 'team="im"', "limit": 10}, headers=auth("viewer")
    ).json()
    assert (len(filtered["items"]), filtered["total"]) == (10, ALERTS // 2)
    refused = api.get("/api/v1/alerts", params={"limit": 100_000}, headers=auth("viewer"))
    assert refused.status_code == 422


def test_firing_counts_by_severity_come_from_the_database(api: TestClient) -> None:
    _push(
        api,
        [push_alert({"alertname": f"C{n}", "severity": "critical"}) for n in range(3)]
        + [push_alert({"alertname": "W", "severity": "warning"}), push_alert({"alertname": "N"})],
    )
    services = api.app.state.services  # type: ignore[attr-defined]
    assert services.incidents.firing_by_severity() == {"critical": 3, "warning": 1, "none": 1}


def test_metrics_bound_the_service_label(make_api: ApiFactory) -> None:
    api = make_api()
    for n in range(120):
        service = f"svc-{n}-" + "x" * 100
        _push(api, [push_alert({"alertname": f"S{n}", "service": service})])
        answer = api.post(f"/api/v1/incidents/{n + 1}/ack", headers=auth("responder"))
        assert answer.status_code == 200
    lines = [
        line
        for line in api.get("/metrics").text.splitlines()
        if line.startswith("gatewatch_incident_time_to_acknowledge_seconds_count")
    ]
    services = {line.split('service="')[1].split('"')[0] for line in lines}
    assert len(services) == 101 and "other" in services
    assert max(len(service) for service in services) <= 64
