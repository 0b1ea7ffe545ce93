"""An alert labelled action=circuit-breaker opens the real gateway's breaker through the
outbox, and its resolution closes it again; the timeline records the request."""

from pathlib import Path

import httpx
import pytest

from tests.support.auth import TOKEN_CONFIG, TOKENS
from tests.support.gateway import GatewayProcess
from tests.support.payloads import webhook, webhook_alert
from tests.support.processes import GatewatchProcess
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

LOSS = {
    "alertname": "HighMessageLossRate",
    "severity": "critical",
    "service": "im-gateway",
    "action": "circuit-breaker",
    "instance": "gw-1:8080",
}


def test_circuit_breaker_opens_with_the_incident_and_closes_with_it(tmp_path: Path) -> None:
    (tmp_path / "gw").mkdir()
    (tmp_path / "gatewatch").mkdir()
    gateway = GatewayProcess(tmp_path / "gw").start()
    server = GatewatchProcess(
        tmp_path / "gatewatch",
        {
            "storage": {"url": f"sqlite:///{tmp_path}/gatewatch.db"},
            "auth": {"tokens": TOKEN_CONFIG},
            "channels": [
                {
                    "id": "circuit-breaker",
                    "type": "action",
                    "url": f"{gateway.url}/admin/circuit-breaker",
                    "trigger": {"state": "open"},
                    "resolve": {"state": "closed"},
                }
            ],
            "severities": [{"name": "critical", "channels": []}, {"name": "warning"}],
            "delivery": {"backoff_initial": "100ms", "backoff_max": "1s"},
            "scheduler": {"poll_interval": "100ms"},
        },
    ).start()
    ingest = {"Authorization": f"Bearer {TOKENS['ingest']}"}
    try:
        assert gateway.stats()["circuit_breaker"] == "closed"
        opened = httpx.post(
            f"{server.url}/api/v1/webhooks/alertmanager",
            headers=ingest,
            json=webhook([webhook_alert(LOSS)], group_key="loss"),
        )
        incident_id = opened.json()["incidents_opened"][0]
        eventually(lambda: gateway.stats()["circuit_breaker"] == "open", what="breaker open")
        assert gateway.metric("im_gateway_circuit_breaker_state") == 1
        httpx.post(
            f"{server.url}/api/v1/webhooks/alertmanager",
            headers=ingest,
            json=webhook(
                [webhook_alert(LOSS, status="resolved", ends_at="2026-11-22T10:30:00Z")],
                group_key="loss",
            ),
        ).raise_for_status()
        eventually(
            lambda: gateway.stats()["circuit_breaker"] == "closed",
            what="breaker closed on resolution",
        )
        timeline = httpx.get(
            f"{server.url}/api/v1/incidents/{incident_id}",
            headers={"Authorization": f"Bearer {TOKENS['viewer']}"},
        ).json()
        messages = [e["message"] for e in timeline["timeline"]]
        assert "Automated action circuit-breaker requested (reverted when resolved)" in messages
        sent = httpx.get(
            f"{server.url}/api/v1/notifications",
            params={"incident": incident_id},
            headers={"Authorization": f"Bearer {TOKENS['viewer']}"},
        ).json()
        assert sorted((n["channel"], n["kind"], n["status"]) for n in sent) == [
            ("circuit-breaker", "resolve", "delivered"),
            ("circuit-breaker", "trigger", "delivered"),
        ]
    finally:
        server.stop()
        gateway.stop()
