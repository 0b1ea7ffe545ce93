"""Paging end to end: a real gatewatch process, real SMTP, Slack and PagerDuty stand-ins."""

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.auth import TOKENS
from tests.support.paging import Sinks, unsent
from tests.support.payloads import webhook, webhook_alert
from tests.support.processes import GatewatchProcess
from tests.support.waiting import eventually

RUNBOOKS = Path(__file__).parents[2] / "runbooks"

pytestmark = pytest.mark.slow


@pytest.fixture
def sinks() -> Iterator[Sinks]:
    created = Sinks()
    yield created
    created.stop()


def _fire(
    server: GatewatchProcess, name: str = "IMGatewayServiceDown", runbook: str = "gateway-down"
) -> int:
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
                    "runbook_url": f"http://gatewatch.test/runbooks/{runbook}",
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
        sinks.config(
            database_url,
            step_delay="5s",
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
        assert mail["References"] == f"<incident-{incident_id}@im.example>"
        assert mail["Message-ID"].endswith(f".incident-{incident_id}@im.example>")
        assert mail.is_multipart()
        assert {p.get_content_type() for p in mail.walk()} >= {"text/plain", "text/html"}
        hook = eventually(lambda: sinks.hook.bodies(), what="signed webhook")
        assert hook[0]["incident_id"] == incident_id
        # A delivery id, the same in the header and the body, tells a repeat from a new one.
        first_hook = sinks.hook.received[0]
        assert first_hook["headers"]["x-gatewatch-delivery"] == first_hook["body"]["delivery_id"]
        assert not sinks.slack_mentions("UBOB")

        # Step 2: nobody acknowledged, so the secondary is paged after the 5s delay.
        eventually(lambda: sinks.slack_mentions("UBOB"), what="Slack page for bob")
        bob_paged_at = next(
            entry["at"] for entry in sinks.slack.received if "<@UBOB>" in str(entry["body"])
        )
        assert bob_paged_at - triggered >= 5.0
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
        # The resolve cancelled step 3; once the outbox holds nothing pending for the
        # incident, nothing more can be sent for it.
        eventually(lambda: not unsent(server.url, incident_id), what="outbox drained")
        assert not sinks.slack_mentions("UCAROL")
    finally:
        server.stop()


PUBLIC = "http://gatewatch.test"  # the external_url the sinks' config gives gatewatch
URL = re.compile(r"https?://[^\s\"'<>|]+")


def test_every_link_a_page_carries_opens_its_page(sinks: Sinks, tmp_path: Path) -> None:
    """Follow the links in what Slack, PagerDuty, the mail server and the webhook received
    (signed in to the console, as the responder who clicks them would be)."""
    config = sinks.config(f"sqlite:///{tmp_path}/gw.db", step_delay="60s")
    config["runbooks_dir"] = str(RUNBOOKS)
    server = GatewatchProcess(tmp_path, config).start()
    try:
        incident_id = _fire(server, runbook="service-down")
        eventually(lambda: sinks.slack_mentions("UALICE"), what="Slack page")
        eventually(lambda: sinks.pd("trigger"), what="PagerDuty trigger")
        eventually(lambda: sinks.mails_to("alice@im.example"), what="mail")
        eventually(lambda: sinks.hook.bodies(), what="webhook")
        received = [
            json.dumps(sinks.slack.bodies()),
            json.dumps(sinks.pagerduty.bodies()),
            json.dumps(sinks.hook.bodies()),
            *(mail.get_body(("plain",)).get_content() for mail in sinks.smtp.messages),
        ]
        links = {link for text in received for link in URL.findall(text) if link.startswith(PUBLIC)}
        assert f"{PUBLIC}/ui/incidents/{incident_id}" in links
        assert f"{PUBLIC}/runbooks/service-down" in links
        with httpx.Client(base_url=server.url, follow_redirects=True) as browser:
            form = browser.get("/ui/login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', form)
            assert csrf is not None
            signed_in = browser.post(
                "/ui/login", data={"token": TOKENS["viewer"], "csrf": csrf.group(1)}
            )
            assert signed_in.status_code == 200
            for link in sorted(links):
                page = browser.get(link.removeprefix(PUBLIC))
                assert page.status_code == 200, f"{link} answered {page.status_code}"
                assert "IM gateway down" in page.text, link
    finally:
        server.stop()
