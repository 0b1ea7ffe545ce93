"""`gatewatch oncall` and `gatewatch notifications` against a running server."""

import json
from pathlib import Path

import httpx
import pytest

from tests.support.auth import TOKENS
from tests.support.cli import gatewatch
from tests.support.paging import Sinks
from tests.support.payloads import webhook, webhook_alert
from tests.support.processes import GatewatchProcess
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


def test_oncall_override_and_dead_notification_resend(tmp_path: Path) -> None:
    sinks = Sinks()
    sinks.pagerduty.plan.statuses = [400]  # refused once: dead at once, no retry
    server = GatewatchProcess(
        tmp_path,
        sinks.config(
            f"sqlite:///{tmp_path}/gw.db",
            step_delay="60s",
        ),
    ).start()
    viewer, responder = TOKENS["viewer"], TOKENS["responder"]
    try:
        shown = gatewatch("oncall", "--url", server.url, token=viewer)
        assert shown.returncode == 0, shown.stderr
        assert "primary" in shown.stdout and "Alice" in shown.stdout
        ahead = gatewatch(
            "oncall", "secondary", "--at", "+2h", "--json", "--url", server.url, token=viewer
        )
        assert json.loads(ahead.stdout)[0]["on_call"][0]["id"] == "bob"

        added = gatewatch(
            "oncall",
            "override",
            "primary",
            "carol",
            "--end",
            "+1h",
            "--url",
            server.url,
            token=responder,
        )
        assert added.returncode == 0, added.stderr
        assert "carol on call for primary" in added.stdout
        now = json.loads(
            gatewatch("oncall", "primary", "--json", "--url", server.url, token=viewer).stdout
        )
        assert now[0]["on_call"][0]["id"] == "carol" and now[0]["overridden"]
        bad = gatewatch("oncall", "--at", "tomorrow", "--url", server.url, token=viewer)
        assert bad.returncode == 2 and "use now, +DURATION" in bad.stderr

        body = webhook([webhook_alert({"alertname": "Down", "severity": "critical"})])
        httpx.post(
            f"{server.url}/api/v1/webhooks/alertmanager",
            json=body,
            headers={"Authorization": f"Bearer {TOKENS['ingest']}"},
        ).raise_for_status()
        dead = eventually(
            lambda: json.loads(
                gatewatch(
                    "notifications", "--dead", "--json", "--url", server.url, token=viewer
                ).stdout
            ),
            what="a dead PagerDuty notification",
        )
        assert dead[0]["channel"] == "pagerduty" and "HTTP 400" in dead[0]["last_error"]
        listed = gatewatch("notifications", "--dead", "--url", server.url, token=viewer)
        assert "pagerduty" in listed.stdout and "dead" in listed.stdout
        metrics = httpx.get(f"{server.url}/metrics").text
        assert 'gatewatch_notifications{status="dead"} 1.0' in metrics

        resent = gatewatch(
            "notifications", "resend", str(dead[0]["id"]), "--url", server.url, token=responder
        )
        assert resent.returncode == 0, resent.stderr
        eventually(
            lambda: [b for b in sinks.pagerduty.bodies() if b["event_action"] == "trigger"],
            what="resent trigger",
        )
        again = gatewatch(
            "notifications", "resend", str(dead[0]["id"]), "--url", server.url, token=responder
        )
        assert again.returncode == 1 and "is not dead" in again.stderr
    finally:
        server.stop()
        sinks.stop()
