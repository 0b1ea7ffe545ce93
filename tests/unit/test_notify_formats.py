"""Channel payloads meet the vendors' documented limits, whatever the incident says."""

import hashlib
import hmac
import json
from dataclasses import replace
from email import message_from_bytes
from email.policy import default

import pytest

from gatewatch.config.channels import Templates
from gatewatch.notify.mail import build_email
from gatewatch.notify.message import Kind, apply_templates
from gatewatch.notify.pagerduty import pagerduty_event
from gatewatch.notify.slack import slack_payload
from gatewatch.notify.slack_signature import (
    InvalidSlackSignature,
    slack_signature,
    verify_slack_request,
)
from gatewatch.notify.webhook import sign
from gatewatch.standins.contracts import pagerduty_contract_errors, slack_contract_errors
from tests.support.messages import sample_message

KEY = "R" * 32


@pytest.mark.parametrize("kind", list(Kind))
def test_slack_payload_is_valid_block_kit(kind: Kind) -> None:
    assert slack_contract_errors(slack_payload(sample_message(kind))) == []


def test_slack_trigger_has_colour_icon_mention_and_buttons() -> None:
    payload = slack_payload(sample_message())
    attachment = payload["attachments"][0]
    assert attachment["color"] == "#d40e0d"
    assert payload["text"].startswith("🚨 [CRITICAL] IM gateway down")
    blocks = str(attachment["blocks"])
    assert "<@UALICE>" in blocks
    actions = attachment["blocks"][-1]["elements"]
    assert [a["action_id"] for a in actions[:2]] == ["gatewatch_ack", "gatewatch_resolve"]
    assert actions[0]["value"] == "42"
    assert actions[-1]["url"] == "http://gw.test/runbooks/gateway-down"


def test_huge_incidents_are_clipped_to_slack_limits() -> None:
    labels = {f"label_{n}": "v" * 5000 for n in range(30)}
    payload = slack_payload(sample_message(title="t" * 500, text="x" * 10_000, labels=labels))
    assert slack_contract_errors(payload) == []


def test_pagerduty_events_meet_the_contract() -> None:
    for kind in (Kind.TRIGGER, Kind.ACKNOWLEDGE, Kind.RESOLVE):
        event = pagerduty_event(sample_message(kind, title="y" * 3000), KEY)
        assert pagerduty_contract_errors(event) == []
        assert event["dedup_key"] == "42"
    trigger = pagerduty_event(sample_message(), KEY)
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["payload"]["custom_details"]["labels"]["instance"] == "gw-1:8080"
    assert trigger["links"][1] == {
        "href": "http://gw.test/runbooks/gateway-down",
        "text": "Runbook",
    }


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("critical", "critical"),
        ("P1", "error"),
        ("P2", "warning"),
        ("warning", "warning"),
        ("info", "info"),
    ],
)
def test_pagerduty_severity_mapping(level: str, expected: str) -> None:
    assert pagerduty_event(sample_message(severity=level), KEY)["payload"]["severity"] == expected


def test_emails_thread_under_one_root_each_with_its_own_message_id() -> None:
    first = build_email(sample_message(step=0), "gatewatch@im.example", ["alice@im.example"])
    follow = build_email(sample_message(Kind.RESOLVE), "gatewatch@im.example", ["alice@im.example"])
    assert first["Subject"] == "[CRITICAL] IM gateway down"
    assert first["References"] == "<incident-42@im.example>"
    assert first["Message-ID"] != "<incident-42@im.example>"
    assert follow["Subject"] == "Re: [CRITICAL] IM gateway down"
    assert follow["In-Reply-To"] == follow["References"] == "<incident-42@im.example>"
    assert follow["Message-ID"] != first["Message-ID"]
    parsed = message_from_bytes(first.as_bytes(), policy=default)
    assert parsed.get_body(("html",)) is not None
    assert (
        "Runbook: http://gw.test/runbooks/gateway-down" in parsed.get_body(("plain",)).get_content()
    )


def test_templates_render_in_a_sandbox_and_fall_back_on_error() -> None:
    good, error = apply_templates(sample_message(), Templates(title="{{ severity }}: {{ title }}"))
    assert (good.title, error) == ("critical: IM gateway down", None)
    unsafe, error = apply_templates(
        sample_message(), Templates(text="{{ title.__class__.__mro__[1].__subclasses__() }}")
    )
    assert unsafe.text == "gw-1 stopped answering"
    assert error is not None
    missing, error = apply_templates(sample_message(), Templates(text="{{ nope }}"))
    assert missing.text == "gw-1 stopped answering" and error is not None


def test_slack_signature_and_replay_window() -> None:
    body = b"payload=%7B%7D"
    signature = slack_signature("secret", "1700000000", body)
    expected = "v0=" + hmac.new(b"secret", b"v0:1700000000:" + body, hashlib.sha256).hexdigest()
    assert signature == expected
    verify_slack_request(["other", "secret"], "1700000000", signature, body, 1700000100)
    with pytest.raises(InvalidSlackSignature, match="5-minute"):
        verify_slack_request(["secret"], "1700000000", signature, body, 1700000301)
    with pytest.raises(InvalidSlackSignature, match="does not match"):
        verify_slack_request(["secret"], "1700000000", signature, body + b"x", 1700000000)
    with pytest.raises(InvalidSlackSignature, match="missing"):
        verify_slack_request(["secret"], None, signature, body, 1700000000)


def test_webhook_signature_covers_timestamp_and_body() -> None:
    assert (
        sign("s3cret", "17", b"{}")
        == "v1=" + hmac.new(b"s3cret", b"17.{}", hashlib.sha256).hexdigest()
    )
    assert sign("s3cret", "18", b"{}") != sign("s3cret", "17", b"{}")


def test_pagerduty_channel_refuses_reminders_without_sending() -> None:
    import asyncio

    from gatewatch.config.channels import PagerDutyChannel
    from gatewatch.notify.http import http_sender
    from gatewatch.notify.pagerduty import PagerDutyNotifier

    async def attempt() -> object:
        # Port 9 has no listener: a send would fail as a transport error, not this way.
        config = PagerDutyChannel(
            id="pd", type="pagerduty", routing_key=KEY, url="http://127.0.0.1:9/v2/enqueue"
        )
        async with http_sender(timeout=5, connections=1) as http:
            return await PagerDutyNotifier(config, http).send(sample_message(Kind.REMINDER))

    result = asyncio.run(attempt())
    assert (result.ok, result.retryable, result.error) == (  # type: ignore[attr-defined]
        False,
        False,
        "reminders do not page",
    )


def test_a_title_with_line_breaks_becomes_a_one_line_subject() -> None:
    message = replace(sample_message(step=0), title="Gateway down\r\nin eu-west\n  node 3")
    mail = build_email(message, "gatewatch@im.example", ["alice@im.example"])
    assert mail["Subject"] == "[CRITICAL] Gateway down in eu-west node 3"
    assert "\n" not in str(mail["Subject"])
    assert mail.as_bytes()  # serialises: no header injection, no ValueError


@pytest.mark.parametrize(
    "template",
    [
        '{{ "%.1f" % labels.instance }}',  # TypeError: a string where a number is formatted
        "{{ 1 / 0 }}",  # ZeroDivisionError
        "{{ labels.clear() }}",  # mutation, refused by the immutable sandbox
        "{{ labels.update({'severity': 'info'}) }}",
    ],
)
def test_any_failing_template_falls_back_and_leaves_the_message_alone(template: str) -> None:
    message = sample_message()
    labels_before = dict(message.labels)
    result, error = apply_templates(message, Templates(text=template))
    assert result.text == message.text
    assert error is not None and error.startswith("text: ")
    assert message.labels == labels_before and result.labels == labels_before


def test_a_template_cannot_change_the_labels_it_is_shown() -> None:
    message = sample_message()
    labels_before = dict(message.labels)
    apply_templates(message, Templates(title="{% set _ = labels.pop('instance') %}{{ title }}"))
    assert message.labels == labels_before


def test_every_first_page_gets_a_fresh_message_id_and_a_retry_keeps_it() -> None:
    """Repeat cycles and re-triggers page step 0 again: RFC 5322 wants a new Message-ID for
    each mail, while a retry of the same notification keeps its own (receivers drop it)."""
    cycle_0 = replace(sample_message(step=0), delivery_id="17")
    cycle_1 = replace(sample_message(step=0), delivery_id="23")
    ids = [
        build_email(m, "gatewatch@im.example", ["alice@im.example"])["Message-ID"]
        for m in (cycle_0, cycle_1, cycle_0)
    ]
    assert ids[0] == "<17.incident-42@im.example>" and ids[1] != ids[0] and ids[2] == ids[0]


def test_alert_text_cannot_ping_or_disguise_links_in_slack() -> None:
    message = replace(
        sample_message(),
        title="<!channel> down",
        text="see <http://evil.example|the runbook> & <@U123>",
        labels={"instance": "<!here>", "team": "a&b"},
    )
    payload = slack_payload(message)
    blocks = payload["attachments"][0]["blocks"]
    # Everything Slack parses as mrkdwn (plain_text, the header, shows its text literally).
    mrkdwn = [payload["text"]] + [
        item["text"]
        for block in blocks
        for item in [block.get("text") or {}, *block.get("fields", []), *block.get("elements", [])]
        if isinstance(item, dict) and item.get("type") == "mrkdwn"
    ]
    flat = json.dumps(mrkdwn)
    for raw in ("<!channel>", "<!here>", "<http://evil.example|", "<@U123>"):
        assert raw not in flat
    assert "&lt;!here&gt;" in flat and "a&amp;b" in flat
    assert "<@UALICE>" in flat  # gatewatch's own mention of the person paged still works
    assert slack_contract_errors(payload) == []


def test_what_exceeds_a_vendor_limit_is_clipped_and_says_so() -> None:
    long_runbook = "https://wiki.example/" + "r" * 3500
    message = replace(sample_message(), text="t" * 5000, runbook_url=long_runbook)
    payload = slack_payload(message)
    assert slack_contract_errors(payload) == []
    blocks = payload["attachments"][0]["blocks"]
    assert blocks[1]["text"]["text"].endswith("[clipped]")
    assert "runbook link too long for Slack" in json.dumps(blocks)
    assert all(b.get("url") != long_runbook for b in blocks[-1]["elements"])
    event = pagerduty_event(replace(sample_message(), text="d" * 600_000), KEY)
    assert len(json.dumps(event).encode()) < 512 * 1024
    assert event["payload"]["custom_details"]["description"].endswith("[clipped]")
    assert pagerduty_contract_errors(event) == []


def test_long_non_ascii_subjects_keep_their_spaces() -> None:
    title = "网关 延迟 过高 " * 12 + "Шлюз недоступен в регионе"
    mail = build_email(
        replace(sample_message(step=0), title=title), "gw@im.example", ["a@im.example"]
    )
    subject = str(message_from_bytes(mail.as_bytes(), policy=default)["Subject"])
    expected = "[CRITICAL] " + " ".join(title.split())
    assert subject == expected[: len(subject) - 1] + "…" or subject == expected
    assert "网关 延迟 过高 网关" in subject
