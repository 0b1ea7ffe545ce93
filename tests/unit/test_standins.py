"""The demo's stand-ins refuse what the vendors would refuse and record what they accept,
tied to the incident it is about."""

import smtplib
from pathlib import Path

from starlette.testclient import TestClient

from gatewatch.notify.mail import build_email
from gatewatch.notify.message import Kind
from gatewatch.notify.pagerduty import pagerduty_event
from gatewatch.notify.slack import slack_payload
from gatewatch.standins.server import Inbox, create_app, start_smtp
from tests.support.messages import sample_message
from tests.support.ports import free_port

SLACK = "/slack/services/T0/B0/x"
PAGERDUTY = "/pagerduty/v2/enqueue"


def test_slack_page_is_recorded_with_incident_and_mention(tmp_path: Path) -> None:
    record = tmp_path / "received.jsonl"
    client = TestClient(create_app(Inbox(record)))
    assert client.post(SLACK, json=slack_payload(sample_message())).status_code == 200
    resolved = slack_payload(sample_message(Kind.RESOLVE))
    assert client.post(SLACK, json=resolved).status_code == 200
    items = client.get("/received").json()
    assert [(i["channel"], i["incident"], i["event"]) for i in items] == [
        ("slack", 42, "post"),
        ("slack", 42, "resolve"),
    ]
    assert items[0]["to"] == ["UALICE"]
    assert client.get("/received", params={"since": items[0]["seq"]}).json() == items[1:]
    assert len(record.read_text().splitlines()) == 2
    assert "IM gateway down" in client.get("/").text


def test_slack_refuses_what_slack_refuses() -> None:
    client = TestClient(create_app(Inbox(None)))
    assert client.post(SLACK, json={"blocks": [{"type": "nonsense"}]}).status_code == 400
    assert client.post(SLACK, content=b"text=hi").status_code == 400
    assert client.get("/received").json() == []


def test_pagerduty_events_are_checked_and_keyed_by_incident() -> None:
    client = TestClient(create_app(Inbox(None)))
    event = pagerduty_event(sample_message(), "R" * 32)
    answer = client.post(PAGERDUTY, json=event)
    assert answer.status_code == 202
    assert answer.json()["dedup_key"] == "42"
    refused = client.post(PAGERDUTY, json=event | {"routing_key": "short"})
    assert refused.status_code == 400
    assert "routing_key" in str(refused.json()["errors"])
    items = client.get("/received").json()
    assert [(i["channel"], i["incident"], i["event"]) for i in items] == [
        ("pagerduty", 42, "trigger")
    ]


def test_mail_sink_records_recipients_and_thread() -> None:
    inbox = Inbox(None)
    port = free_port()
    smtp = start_smtp(inbox, "127.0.0.1", port)
    try:
        for kind in (Kind.TRIGGER, Kind.RESOLVE):
            mail = build_email(sample_message(kind), "gw@im.example", ["alice@im.example"])
            with smtplib.SMTP("127.0.0.1", port) as client:
                client.send_message(mail)
    finally:
        smtp.stop()
    items = inbox.since(0)
    assert [(i.channel, i.incident, i.event, i.to) for i in items] == [
        ("email", 42, "mail", ["alice@im.example"]),
        ("email", 42, "resolve", ["alice@im.example"]),
    ]
