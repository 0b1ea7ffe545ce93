"""Paging under faults: failing channels, a killed server, two servers on one database."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatewatch.notify.slack_signature import signed_button_press
from tests.support.auth import TOKENS
from tests.support.paging import SLACK_SIGNING_SECRET, Sinks, notifications, unsent
from tests.support.payloads import webhook, webhook_alert
from tests.support.ports import free_port
from tests.support.processes import GatewatchProcess
from tests.support.standins import pagerduty_standin, slack_standin
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

INGEST = {"Authorization": f"Bearer {TOKENS['ingest']}"}
VIEWER = {"Authorization": f"Bearer {TOKENS['viewer']}"}
FAILING = ("pagerduty", "ops-hook")


@pytest.fixture
def sinks() -> Iterator[Sinks]:
    created = Sinks()
    yield created
    created.stop()


def _fire(server: GatewatchProcess, name: str, severity: str = "critical") -> int:
    body = webhook(
        [webhook_alert({"alertname": name, "severity": severity, "service": "im-gateway"})],
        group_key=name,
    )
    response = httpx.post(f"{server.url}/api/v1/webhooks/alertmanager", json=body, headers=INGEST)
    response.raise_for_status()
    incident_id: int = response.json()["incidents_opened"][0]
    return incident_id


def _incident_ids(bodies: list[dict[str, Any]], key: str = "dedup_key") -> set[str]:
    return {str(b.get(key)) for b in bodies}


def test_failing_channels_deliver_everything_once_they_recover(
    sinks: Sinks, tmp_path: Path
) -> None:
    pagerduty_port = free_port()  # nothing listens yet: connection refused
    sinks.slack.plan.statuses = [500, 500, 429, 503]
    sinks.hook.plan.delay = 3.0  # longer than the 2s delivery time-out
    server = GatewatchProcess(
        tmp_path,
        sinks.config(
            f"sqlite:///{tmp_path}/gw.db",
            pagerduty_url=f"http://127.0.0.1:{pagerduty_port}/v2/enqueue",
            step_delay="60s",
        ),
    ).start()
    try:
        ids = {str(_fire(server, f"Outage{n}")) for n in range(3)}
        eventually(
            lambda: httpx.get(
                f"{server.url}/api/v1/notifications", params={"status": "pending"}, headers=VIEWER
            ).json(),
            what="notifications waiting for retry",
        )

        # Keep PagerDuty away until every page to it and every webhook was retried at least
        # once during the outage.
        def retried_in_outage() -> bool:
            rows = [n for n in notifications(server.url) if n["channel"] in FAILING]
            return {n["channel"] for n in rows} == set(FAILING) and all(
                n["attempts"] >= 2 for n in rows
            )

        eventually(retried_in_outage, what="every PagerDuty page and webhook retried")
        pagerduty = pagerduty_standin(port=pagerduty_port).start()
        sinks.hook.plan.delay = 0.0
        try:
            eventually(
                lambda: _incident_ids(pagerduty.bodies()) >= ids,
                timeout=30,
                what="every PagerDuty trigger after the outage",
            )
            eventually(
                lambda: {str(b["incident_id"]) for b in sinks.hook.bodies()} >= ids,
                timeout=30,
                what="every webhook after the time-outs",
            )
            eventually(
                lambda: len(sinks.slack_mentions("UALICE")) >= 3,
                timeout=30,
                what="every Slack page after 500s and 429",
            )
            assert (
                httpx.get(
                    f"{server.url}/api/v1/notifications", params={"status": "dead"}, headers=VIEWER
                ).json()
                == []
            )
            retried = httpx.get(
                f"{server.url}/api/v1/notifications",
                params={"incident": int(min(ids))},
                headers=VIEWER,
            ).json()
            assert max(n["attempts"] for n in retried) > 1
            assert pagerduty.rejected == [] and sinks.slack.rejected == []
        finally:
            pagerduty.stop()
    finally:
        server.stop()


def test_sigkill_with_queued_notifications_loses_none(sinks: Sinks, tmp_path: Path) -> None:
    slack_port = free_port()  # Slack is down while the incidents open
    config = sinks.config(
        f"sqlite:///{tmp_path}/gw.db",
        slack_url=f"http://127.0.0.1:{slack_port}/services/T000/B000/XXXX",
        step_delay="600s",
    )
    server = GatewatchProcess(tmp_path, config).start()
    ids = [_fire(server, f"Queued{n}") for n in range(5)]
    eventually(
        lambda: (
            len(
                httpx.get(
                    f"{server.url}/api/v1/notifications",
                    params={"status": "pending"},
                    headers=VIEWER,
                ).json()
            )
            >= 5
        ),
        what="queued Slack notifications",
    )
    server.kill()
    slack = slack_standin(port=slack_port).start()
    try:
        server.start()
        eventually(
            lambda: len(slack.bodies()) >= 5,
            timeout=30,
            what="every queued page delivered after the restart",
        )
        texts = " ".join(b["text"] for b in slack.bodies())
        for n in range(len(ids)):
            assert f"Queued{n} summary" in texts
    finally:
        server.stop()
        slack.stop()


@pytest.mark.postgres
def test_two_servers_on_one_postgres_page_once_per_step(
    sinks: Sinks, tmp_path: Path, postgres_cluster: Any
) -> None:
    url = postgres_cluster.create_database("two_servers")
    config = sinks.config(url, step_delay="2s")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = GatewatchProcess(tmp_path / "a", config).start()
    second = GatewatchProcess(tmp_path / "b", config).start()
    try:
        incident_id = _fire(first, "SharedOutage")
        eventually(lambda: sinks.slack_mentions("UCAROL"), timeout=20, what="step 3 page")
        # Step 3 is the last: once both servers' outbox holds nothing unsent for the
        # incident, any duplicate would already have reached the sinks.
        eventually(lambda: not unsent(first.url, incident_id), what="outbox drained")
        for user in ("UALICE", "UBOB", "UCAROL"):
            assert len(sinks.slack_mentions(user)) == 1, user
        triggers = [b for b in sinks.pagerduty.bodies() if b["event_action"] == "trigger"]
        assert len(triggers) == 3
        assert {b["dedup_key"] for b in triggers} == {str(incident_id)}
        steps = [
            e
            for e in httpx.get(
                f"{second.url}/api/v1/incidents/{incident_id}", headers=VIEWER
            ).json()["timeline"]
            if e["kind"] == "paged"
        ]
        assert [e["data"]["step"] for e in steps] == [0, 1, 2]
    finally:
        first.stop()
        second.stop()


def _slack_click(
    server: GatewatchProcess,
    action: str,
    incident_id: int,
    user: str,
    secret: str = SLACK_SIGNING_SECRET,
    age: int = 0,
) -> httpx.Response:
    body, headers = signed_button_press(
        secret, user, user.lower(), action, str(incident_id), int(time.time()) - age
    )
    return httpx.post(f"{server.url}/api/v1/webhooks/slack/actions", content=body, headers=headers)


def test_slack_buttons_acknowledge_and_resolve_when_signed(sinks: Sinks, tmp_path: Path) -> None:
    server = GatewatchProcess(
        tmp_path,
        sinks.config(
            f"sqlite:///{tmp_path}/gw.db",
            step_delay="60s",
        ),
    ).start()
    try:
        incident_id = _fire(server, "ButtonPressed")
        assert (
            _slack_click(
                server, "gatewatch_ack", incident_id, "UBOB", secret="not-the-secret"
            ).status_code
            == 401
        )
        assert (
            _slack_click(server, "gatewatch_ack", incident_id, "UBOB", age=301).status_code == 401
        )
        clicked = _slack_click(server, "gatewatch_ack", incident_id, "UBOB")
        assert clicked.status_code == 200
        assert clicked.json()["text"] == f"Incident #{incident_id} acknowledged by bob"
        detail = httpx.get(f"{server.url}/api/v1/incidents/{incident_id}", headers=VIEWER).json()
        assert (detail["status"], detail["acknowledged_by"]) == ("acknowledged", "bob")
        assert (
            _slack_click(server, "gatewatch_resolve", incident_id, "UNKNOWN")
            .json()["text"]
            .endswith("resolved by slack:unknown")
        )
    finally:
        server.stop()


def test_p2_gets_reminders_not_pages(sinks: Sinks, tmp_path: Path) -> None:
    server = GatewatchProcess(
        tmp_path,
        sinks.config(
            f"sqlite:///{tmp_path}/gw.db",
        ),
    ).start()
    try:
        incident_id = _fire(server, "HighAckTimeoutRate", severity="P2")
        eventually(
            lambda: [b for b in sinks.slack.bodies() if "Reminder" in b["text"]],
            timeout=15,
            what="P2 reminder",
        )
        assert sinks.pagerduty.bodies() == []
        assert not any("<@" in str(b) for b in sinks.slack.bodies()), "P2 paged a person"
        kinds = [
            e["kind"]
            for e in httpx.get(
                f"{server.url}/api/v1/incidents/{incident_id}", headers=VIEWER
            ).json()["timeline"]
        ]
        assert "reminder" in kinds and "paged" not in kinds
    finally:
        server.stop()
