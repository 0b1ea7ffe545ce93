"""A broken channel template never fails ingest: the alert is stored, the page goes out with
the default text, and the failure is counted."""

from fastapi.testclient import TestClient

from gatewatch.store.database import read_transaction
from gatewatch.store.outbox import list_notifications
from tests.conftest import ApiFactory
from tests.support.auth import auth
from tests.support.payloads import webhook, webhook_alert


def test_a_template_that_raises_does_not_fail_ingest(make_api: ApiFactory) -> None:
    api: TestClient = make_api(
        channels=[
            {
                "id": "hook",
                "type": "webhook",
                "url": "http://127.0.0.1:9/hook",
                "templates": {"text": '{{ "%.1f" % labels.instance }}'},
            }
        ],
        severities=[{"name": "critical", "channels": ["hook"]}],
        default_severity="critical",
    )
    body = webhook(
        [webhook_alert({"alertname": "Down", "instance": "gw-1"}, annotations={"summary": "down"})]
    )
    response = api.post("/api/v1/webhooks/alertmanager", json=body, headers=auth("ingest"))
    assert response.status_code == 200, response.text
    database = api.app.state.services.runtime.database  # type: ignore[attr-defined]
    with read_transaction(database) as connection:
        [queued] = list_notifications(connection, None, None, 10)
    assert queued.message["text"] == "down"
    metrics = api.get("/metrics").text
    assert 'gatewatch_template_errors_total{channel="hook"} 1.0' in metrics
