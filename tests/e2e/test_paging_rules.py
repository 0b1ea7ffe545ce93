"""The paging rules a responder relies on, against a real `gatewatch serve` whose clock a
file sets (`--clock-file`), with the Slack and PagerDuty stand-ins and a real SMTP server:
what each sink received, and when by the server's clock."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.auth import TOKENS
from tests.support.clock import ClockFile
from tests.support.paging import Sinks, notifications
from tests.support.payloads import webhook, webhook_alert
from tests.support.postgres import PostgresCluster
from tests.support.processes import GatewatchProcess
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

START = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)  # a Tuesday
RESPONDER = {"Authorization": f"Bearer {TOKENS['responder']}"}
VIEWER = {"Authorization": f"Bearer {TOKENS['viewer']}"}
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.fixture
def sinks() -> Iterator[Sinks]:
    created = Sinks()
    yield created
    created.stop()


@pytest.fixture
def clock_file(tmp_path: Path) -> ClockFile:
    return ClockFile(tmp_path / "clock", START)


@pytest.fixture
def servers() -> Iterator[list[GatewatchProcess]]:
    started: list[GatewatchProcess] = []
    yield started
    for server in started:
        server.stop()


def _serve(
    servers: list[GatewatchProcess], workdir: Path, config: dict[str, Any], clock: ClockFile
) -> GatewatchProcess:
    workdir.mkdir(exist_ok=True)
    server = GatewatchProcess(workdir, config, clock_file=clock.path).start()
    servers.append(server)
    return server


def _config(sinks: Sinks, store_url: str, **changes: Any) -> dict[str, Any]:
    """The stand-in paging config with one `gateway` route (every severity, grouped by
    alertname) following `policy`, and the changes given."""
    config = sinks.config(store_url, step_delay="600s")
    config["routes"] = [
        {
            "name": "gateway",
            "matchers": ['service="im-gateway"'],
            "group_by": ["alertname"],
            "policy": changes.pop("policy", "page-now"),
        }
    ]
    config.update(changes)
    return config


def _fire(
    server: GatewatchProcess,
    severity: str,
    name: str = "GatewayTrouble",
    instance: str = "gw-1:8080",
) -> list[int]:
    labels = {"alertname": name, "severity": severity, "service": "im-gateway"}
    body = webhook([webhook_alert({**labels, "instance": instance})], group_key=name)
    response = httpx.post(
        f"{server.url}/api/v1/webhooks/alertmanager",
        json=body,
        headers={"Authorization": f"Bearer {TOKENS['ingest']}"},
    )
    response.raise_for_status()
    opened: list[int] = response.json()["incidents_opened"]
    return opened


def _timeline(server: GatewatchProcess, incident_id: int) -> list[dict[str, Any]]:
    response = httpx.get(f"{server.url}/api/v1/incidents/{incident_id}", headers=VIEWER)
    response.raise_for_status()
    events: list[dict[str, Any]] = response.json()["timeline"]
    return events


def _events(server: GatewatchProcess, incident_id: int, kind: str) -> list[dict[str, Any]]:
    return [e for e in _timeline(server, incident_id) if e["kind"] == kind]


def _settled(server: GatewatchProcess) -> bool:
    """Nothing left to send: every notification delivered, dead or cancelled."""
    return all(n["status"] not in ("pending", "sending") for n in notifications(server.url))


def _at(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(event["at"]).replace("Z", "+00:00"))


def test_a_trigger_waiting_for_a_retry_is_never_sent_after_the_resolve(
    sinks: Sinks, tmp_path: Path, clock_file: ClockFile, servers: list[GatewatchProcess]
) -> None:
    sinks.pagerduty.plan.statuses, sinks.pagerduty.plan.retry_after = [503], "8"
    server = _serve(
        servers, tmp_path / "gw", _config(sinks, f"sqlite:///{tmp_path}/gw.db"), clock_file
    )
    [incident_id] = _fire(server, "critical")
    eventually(lambda: sinks.pagerduty.failed, what="the trigger answered with 503")
    resolved = httpx.post(f"{server.url}/api/v1/incidents/{incident_id}/resolve", headers=RESPONDER)
    assert resolved.status_code == 200
    eventually(lambda: sinks.pd("resolve"), what="PagerDuty resolve")

    # Past the 8 s the vendor asked for: the retry is due now, and must not go out.
    clock_file.set(START + timedelta(minutes=5))
    eventually(lambda: _settled(server), what="the outbox settled")
    assert [b["event_action"] for b in sinks.pagerduty.bodies()] == ["resolve"]
    assert len(sinks.pagerduty.failed) == 1
    statuses = {(n["kind"], n["channel"], n["status"]) for n in notifications(server.url)}
    assert ("trigger", "pagerduty", "cancelled") in statuses
    assert _events(server, incident_id, "pages_cancelled")


def test_an_ack_during_a_throttled_step_stops_the_rest_of_its_pages(
    sinks: Sinks, tmp_path: Path, clock_file: ClockFile, servers: list[GatewatchProcess]
) -> None:
    config = _config(sinks, f"sqlite:///{tmp_path}/gw.db", policy="everyone")
    config["channels"][0].update(rate_per_second=0.2, burst=1)  # Slack: one page per 5 s
    config["policies"]["everyone"] = {
        "steps": [{"after": "0s", "targets": ["person:alice", "person:bob", "person:carol"]}]
    }
    server = _serve(servers, tmp_path / "gw", config, clock_file)
    [incident_id] = _fire(server, "warning")
    eventually(lambda: sinks.slack_mentions("UALICE"), what="alice's page")
    acked = httpx.post(f"{server.url}/api/v1/incidents/{incident_id}/ack", headers=RESPONDER)
    assert acked.status_code == 200

    clock_file.set(START + timedelta(minutes=1))  # the bucket has refilled many times over
    eventually(lambda: _settled(server), what="the outbox settled")
    assert not sinks.slack_mentions("UBOB")
    assert not sinks.slack_mentions("UCAROL")
    assert _events(server, incident_id, "pages_cancelled")[0]["data"]["count"] == 2


def test_a_restart_after_downtime_pages_the_current_step_once(
    sinks: Sinks, tmp_path: Path, clock_file: ClockFile, servers: list[GatewatchProcess]
) -> None:
    config = _config(sinks, f"sqlite:///{tmp_path}/gw.db", policy="three-steps")
    config["policies"]["three-steps"] = {
        "steps": [
            {"after": "0s", "targets": ["person:alice"]},
            {"after": "5s", "targets": ["person:bob"]},
            {"after": "10s", "targets": ["person:carol"]},
        ],
        "repeat": 1,
        "repeat_interval": "5s",
    }
    first = _serve(servers, tmp_path / "gw", config, clock_file)
    [incident_id] = _fire(first, "warning")
    eventually(lambda: sinks.slack_mentions("UALICE"), what="step 1 paged")
    first.stop()

    # Down across step 2 and 3 and the whole repeat (15 s, 20 s, 25 s): back at 33 s.
    clock_file.set(START + timedelta(seconds=33))
    second = _serve(servers, tmp_path / "gw", config, clock_file)
    eventually(lambda: sinks.slack_mentions("UCAROL"), what="the current step paged")
    eventually(lambda: _settled(second), what="the outbox settled")

    assert len(sinks.slack_mentions("UALICE")) == 1
    assert not sinks.slack_mentions("UBOB")
    assert len(sinks.slack_mentions("UCAROL")) == 1
    skipped = [
        (e["data"]["step"], e["data"]["cycle"])
        for e in _events(second, incident_id, "step_skipped")
    ]
    assert sorted(skipped) == [(0, 1), (1, 0), (1, 1), (2, 0)]


def test_a_critical_alert_joining_a_warning_incident_pages_pagerduty(
    sinks: Sinks, tmp_path: Path, clock_file: ClockFile, servers: list[GatewatchProcess]
) -> None:
    server = _serve(
        servers, tmp_path / "gw", _config(sinks, f"sqlite:///{tmp_path}/gw.db"), clock_file
    )
    [incident_id] = _fire(server, "warning", instance="gw-1:8080")
    eventually(lambda: sinks.slack_mentions("UALICE"), what="alice's Slack page")
    assert not sinks.pd("trigger")

    assert _fire(server, "critical", instance="gw-2:8080") == []  # joins the same incident
    [trigger] = eventually(lambda: sinks.pd("trigger"), what="PagerDuty trigger")
    assert trigger["dedup_key"] == str(incident_id)
    assert trigger["payload"]["severity"] == "critical"
    eventually(lambda: sinks.mails_to("alice@im.example"), what="alice's mail")
    [added] = _events(server, incident_id, "channels_added")
    assert added["data"]["channels"] == ["pagerduty", "email"]


@pytest.mark.parametrize(
    ("fired_at", "opens_at"),
    [
        # An ordinary Tuesday, 02:00 CET: the page waits for 09:00 CET (08:00 UTC).
        (datetime(2027, 1, 12, 1, 0, tzinfo=UTC), datetime(2027, 1, 12, 8, 0, tzinfo=UTC)),
        # Spring forward (28 March 2027, 02:00 -> 03:00), 01:30 CET: 09:00 CEST (07:00 UTC).
        (datetime(2027, 3, 28, 0, 30, tzinfo=UTC), datetime(2027, 3, 28, 7, 0, tzinfo=UTC)),
        # Fall back (25 October 2026, 03:00 -> 02:00), the first 02:00 CEST: 09:00 CET.
        (datetime(2026, 10, 25, 0, 0, tzinfo=UTC), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
    ],
    ids=["ordinary-day", "spring-forward", "fall-back"],
)
def test_a_warning_at_night_pages_when_business_hours_open(
    sinks: Sinks,
    tmp_path: Path,
    servers: list[GatewatchProcess],
    fired_at: datetime,
    opens_at: datetime,
) -> None:
    clock = ClockFile(tmp_path / "clock", fired_at)
    config = _config(sinks, f"sqlite:///{tmp_path}/gw.db", policy="office")
    config["policies"]["office"] = {
        "business_hours": {"time_zone": "Europe/Berlin", "days": EVERY_DAY},
        "steps": [{"after": "0s", "targets": ["person:alice"]}],
    }
    server = _serve(servers, tmp_path / "gw", config, clock)
    [incident_id] = _fire(server, "warning")
    [deferred] = _events(server, incident_id, "deferred")
    assert datetime.fromisoformat(deferred["data"]["opens"]) == opens_at  # shown in advance

    clock.set(opens_at - timedelta(seconds=30))  # the night passes; still closed
    eventually(lambda: _settled(server), what="the outbox settled")
    assert not sinks.slack.bodies()
    clock.set(opens_at - timedelta(seconds=2))
    eventually(lambda: sinks.slack_mentions("UALICE"), what="alice paged at opening time")
    [paged] = _events(server, incident_id, "paged")
    assert opens_at <= _at(paged) < opens_at + timedelta(seconds=5)


def test_escalate_now_pages_the_next_timed_step_then_the_manual_steps(
    sinks: Sinks, tmp_path: Path, clock_file: ClockFile, servers: list[GatewatchProcess]
) -> None:
    config = _config(sinks, f"sqlite:///{tmp_path}/gw.db", policy="p2")
    config["policies"]["p2"] = {
        "steps": [
            {"after": "0s", "targets": ["person:alice"]},
            {"after": "2h", "targets": ["person:bob"]},
        ],
        "manual_steps": [{"targets": ["person:carol"]}],
    }
    server = _serve(servers, tmp_path / "gw", config, clock_file)
    [incident_id] = _fire(server, "P2")
    eventually(lambda: sinks.slack_mentions("UALICE"), what="alice's page")

    def escalate() -> httpx.Response:
        return httpx.post(
            f"{server.url}/api/v1/incidents/{incident_id}/escalate", headers=RESPONDER
        )

    assert escalate().json()["step"] == 2  # bob, now rather than in two hours
    eventually(lambda: sinks.slack_mentions("UBOB"), what="bob's page")
    assert escalate().json()["step"] == 3  # the manual step: carol
    eventually(lambda: sinks.slack_mentions("UCAROL"), what="carol's page")
    refused = escalate()
    assert refused.status_code == 409
    assert "no further step" in refused.json()["error"]

    clock_file.set(START + timedelta(hours=3))  # bob's own timer does not page again
    eventually(lambda: _settled(server), what="the outbox settled")
    assert len(sinks.slack_mentions("UBOB")) == 1
    assert [e["message"] for e in _events(server, incident_id, "escalated")] == [
        "Escalated by responder-alice: step 2 paged now",
        "Escalated by responder-alice: manual step 1 paged now",
    ]


def test_bulk_acknowledge_of_fifty_incidents(
    sinks: Sinks, tmp_path: Path, clock_file: ClockFile, servers: list[GatewatchProcess]
) -> None:
    config = _config(sinks, f"sqlite:///{tmp_path}/gw.db")
    config["channels"][1].update(rate_per_second=100, burst=100)  # PagerDuty's own limit
    server = _serve(servers, tmp_path / "gw", config, clock_file)
    ids = [incident for n in range(50) for incident in _fire(server, "critical", f"Storm{n}")]
    assert len(ids) == 50
    eventually(lambda: len(sinks.pd("trigger")) == 50, what="50 PagerDuty triggers")
    response = httpx.post(
        f"{server.url}/api/v1/incidents/bulk",
        json={"action": "ack", "ids": ids},
        headers=RESPONDER,
    )
    assert response.status_code == 200
    assert sorted(response.json()["done"]) == sorted(ids)
    eventually(lambda: len(sinks.pd("acknowledge")) == 50, what="50 PagerDuty acknowledgements")
    assert {b["dedup_key"] for b in sinks.pd("acknowledge")} == {str(i) for i in ids}
    for incident_id in ids:
        assert len(_events(server, incident_id, "acknowledged")) == 1


@pytest.mark.postgres
def test_each_rotation_change_is_announced_once_by_two_replicas(
    sinks: Sinks,
    tmp_path: Path,
    clock_file: ClockFile,
    servers: list[GatewatchProcess],
    postgres_cluster: PostgresCluster,
) -> None:
    store_url = postgres_cluster.create_database(f"handoffs_{uuid.uuid4().hex[:12]}")
    config = _config(sinks, store_url)
    config["schedules"].append(
        {
            "id": "follow-the-sun",
            "layers": [
                {
                    "rotation": ["alice", "bob"],
                    "shift": "1h",
                    "handoff": START.replace(tzinfo=None).isoformat(),
                }
            ],
            "announce": "slack",
        }
    )
    for name in ("one", "two"):
        _serve(servers, tmp_path / name, config, clock_file)

    def announced() -> list[str]:
        return [str(b) for b in sinks.slack.bodies() if "On call for follow-the-sun" in str(b)]

    eventually(lambda: announced(), what="the first announcement")
    for hour in (1, 2):
        clock_file.set(START + timedelta(hours=hour) - timedelta(seconds=1))
        eventually(lambda hour=hour: len(announced()) == hour + 1, what=f"hand-off {hour}")
    clock_file.set(START + timedelta(hours=2, minutes=30))  # no change: nothing new
    for server in servers:
        eventually(lambda server=server: _settled(server), what="the outbox settled")
    texts = announced()
    assert len(texts) == 3
    on_call = ["On call for follow-the-sun: " + name for name in ("Alice", "Bob", "Alice")]
    assert [expected in text for expected, text in zip(on_call, texts, strict=True)] == [True] * 3
