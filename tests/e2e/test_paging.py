"""Paging end to end: a real gatewatch process, real SMTP, Slack and PagerDuty stand-ins."""

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TOKENS
from tests.support.paging import WEBHOOK_SECRET, paging_config
from tests.support.payloads import webhook, webhook_alert
from tests.support.processes import GatewatchProcess
from tests.support.standins import (
    SmtpSink,
    pagerduty_standin,
    slack_standin,
    webhook_sink,
)


def eventually(check: Callable[[], Any], timeout: float = 20, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        time.sleep(0.05)


class Sinks:
    def __init__(self) -> None:
        self.slack = slack_standin().start()
        self.pagerduty = pagerduty_standin().start()
        self.smtp = SmtpSink().start()
        self.hook = webhook_sink(WEBHOOK_SECRET).start()

    def stop(self) -> None:
        for sink in (self.slack, self.pagerduty, self.hook):
            sink.stop()
        self.smtp.stop()

    def slack_mentions(self, user: str) -> list[dict[str, Any]]:
        return [b for b in self.slack.bodies() if f"<@{user}>" in str(b)]

    def pd(self, action: str) -> list[dict[str, Any]]:
        return [b for b in self.pagerduty.bodies() if b["event_action"] == action]

    def mails_to(self, address: str) -> list[Any]:
        return [
            m
            for m, rcpt in zip(self.smtp.messages, self.smtp.envelopes, strict=True)
            if address in rcpt
        ]


@pytest.fixture
def sinks() -> Iterator[Sinks]:
    created = Sinks()
    yield created
    created.stop()


def _fire(server: GatewatchProcess, name: str = "IMGatewayServiceDown") -> int:
    body = webhook(
        [
            webhook_alert(
                {
                    "alertname": name,
                    "severity": "critical",
                    "service": "im-gateway",
                    "instance": "gw-1:8080",
                },
                annotations={
                    "summary": "IM gateway down",
                    "description": "gw-1 stopped answering",
                    "runbook_url": "http://gatewatch.test/runbooks/gateway-down",
                },
            )
        ],
        group_key=name,
    )
    response = httpx.post(
        f"{server.url}/api/v1/webhooks/alertmanager",
        json=body,
        headers={"Authorization": f"Bearer {TOKENS['ingest']}"},
    )
    response.raise_for_status()
    incident_id: int = response.json()["incidents_opened"][0]
    return incident_id


def _timeline(server: GatewatchProcess, incident_id: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = httpx.get(
        f"{server.url}/api/v1/incidents/{incident_id}",
        headers={"Authorization": f"Bearer {TOKENS['viewer']}"},
    ).json()["timeline"]
    return events


def test_trigger_escalate_ack_timeout_resolve(
    sinks: Sinks, database_url: str, tmp_path: Path
) -> None:
    server = GatewatchProcess(
        tmp_path,
        paging_config(
            database_url,
            sinks.slack.url,
            sinks.pagerduty.url,
            sinks.smtp.port,
            sinks.hook.url,
            step_delay="3s",
            ack_timeout="4s",
        ),
    ).start()
    try:
        triggered = time.time()
        incident_id = _fire(server)

        # Step 1: the primary on call is paged on every channel of the severity.
        eventually(lambda: sinks.slack_mentions("UALICE"), what="Slack page for alice")
        [trigger] = eventually(lambda: sinks.pd("trigger"), what="PagerDuty trigger")
        assert trigger["dedup_key"] == str(incident_id)
        assert trigger["payload"]["severity"] == "critical"
        assert trigger["links"][1]["href"] == "http://gatewatch.test/runbooks/gateway-down"
        [mail] = eventually(lambda: sinks.mails_to("alice@im.example"), what="mail to alice")
        assert mail["Subject"] == "[CRITICAL] IM gateway down"
        assert mail["Message-ID"] == f"<incident-{incident_id}@im.example>"
        assert mail.is_multipart()
        assert {p.get_content_type() for p in mail.walk()} >= {"text/plain", "text/html"}
        hook = eventually(lambda: sinks.hook.bodies(), what="signed webhook")
        assert hook[0]["incident_id"] == incident_id
        assert not sinks.slack_mentions("UBOB")

        # Step 2: nobody acknowledged, so the secondary is paged after the delay.
        eventually(lambda: sinks.slack_mentions("UBOB"), what="Slack page for bob")
        bob_paged = sinks.slack_mentions("UBOB")[0]
        assert (
            sinks.slack.received[[b for b in sinks.slack.bodies()].index(bob_paged)]["at"]
            - triggered
            >= 3.0
        )
        eventually(lambda: sinks.mails_to("bob@im.example"), what="mail to bob")

        # Acknowledge: step 3 (carol) is cancelled; PagerDuty hears the acknowledgement.
        acked = httpx.post(
            f"{server.url}/api/v1/incidents/{incident_id}/ack",
            headers={"Authorization": f"Bearer {TOKENS['responder']}"},
        )
        assert acked.status_code == 200
        eventually(lambda: sinks.pd("acknowledge"), what="PagerDuty acknowledge")
        kinds = [e["kind"] for e in _timeline(server, incident_id)]
        assert "escalation_stopped" in kinds

        # The acknowledgement times out after 4s: triggered again, primary paged again.
        eventually(
            lambda: len(sinks.slack_mentions("UALICE")) >= 2,
            timeout=15,
            what="second page for alice after the ack timeout",
        )
        assert "retriggered" in [e["kind"] for e in _timeline(server, incident_id)]
        assert not sinks.slack_mentions("UCAROL"), "step 3 ran although acknowledged"

        # Resolve: resolutions go to Slack and PagerDuty; mail threads under the first one.
        resolved = httpx.post(
            f"{server.url}/api/v1/incidents/{incident_id}/resolve",
            headers={"Authorization": f"Bearer {TOKENS['admin']}"},
        )
        assert resolved.status_code == 200
        eventually(lambda: sinks.pd("resolve"), what="PagerDuty resolve")
        eventually(
            lambda: [b for b in sinks.slack.bodies() if "✅ Resolved" in b["text"]],
            what="Slack resolution",
        )
        follow_ups = eventually(
            lambda: [
                m
                for m in sinks.mails_to("oncall@im.example") + sinks.mails_to("alice@im.example")
                if "Resolved by" in m.get_body(("plain",)).get_content()
            ],
            what="resolution mail",
        )
        assert follow_ups[0]["In-Reply-To"] == f"<incident-{incident_id}@im.example>"
        assert all(
            not b for b in [sinks.slack.rejected, sinks.pagerduty.rejected, sinks.hook.rejected]
        )
        time.sleep(1)
        assert not sinks.slack_mentions("UCAROL")
    finally:
        server.stop()
