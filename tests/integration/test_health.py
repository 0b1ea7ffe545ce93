"""Health, readiness, metrics and the OpenAPI document."""

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.support.auth import auth
from tests.support.payloads import webhook, webhook_alert


def _samples(api: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = api.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_health_and_readiness_need_no_token(api: TestClient) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    assert api.get("/readyz").json() == {"status": "ready"}


def test_metrics_count_alerts_incidents_and_latency(api: TestClient) -> None:
    api.post(
        "/api/v1/webhooks/alertmanager",
        headers=auth("ingest"),
        json=webhook(
            [
                webhook_alert({"alertname": "A", "severity": "critical"}),
                webhook_alert(
                    {"alertname": "B"}, status="resolved", ends_at="2026-11-22T10:01:00Z"
                ),
            ]
        ),
    )
    api.post("/api/v1/webhooks/alertmanager", headers=auth("ingest"), json={"version": "4"})
    samples = _samples(api)
    received = "gatewatch_alerts_received_total"
    assert samples[(received, (("source", "alertmanager"), ("status", "firing")))] == 1
    assert samples[(received, (("source", "alertmanager"), ("status", "resolved")))] == 1
    assert samples[("gatewatch_incidents", (("status", "triggered"),))] == 1
    assert samples[("gatewatch_incidents", (("status", "resolved"),))] == 0
    requests = "gatewatch_ingest_requests_total"
    assert samples[(requests, (("outcome", "accepted"), ("source", "alertmanager")))] == 1
    assert samples[(requests, (("outcome", "invalid"), ("source", "alertmanager")))] == 1
    count = ("gatewatch_ingest_duration_seconds_count", (("source", "alertmanager"),))
    assert samples[count] == 1


def test_openapi_documents_every_endpoint_and_ingest_bodies(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    assert {
        "/api/v1/webhooks/alertmanager",
        "/api/v2/alerts",
        "/api/v1/incidents",
        "/api/v1/incidents/{incident_id}",
        "/api/v1/incidents/{incident_id}/ack",
        "/api/v1/incidents/{incident_id}/resolve",
        "/api/v1/incidents/{incident_id}/notes",
        "/api/v1/alerts",
        "/healthz",
        "/readyz",
        "/metrics",
    } <= set(spec["paths"])
    body = spec["paths"]["/api/v1/webhooks/alertmanager"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = spec["components"]["schemas"][ref]
    assert {"version", "groupKey", "alerts", "status", "receiver"} <= set(schema["required"])
    alert_ref = schema["properties"]["alerts"]["items"]["$ref"].rsplit("/", 1)[1]
    assert "startsAt" in spec["components"]["schemas"][alert_ref]["properties"]
