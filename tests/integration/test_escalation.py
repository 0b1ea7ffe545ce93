"""Escalation decisions against the real store, with time moved by hand (no waiting)."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from gatewatch.config import GatewatchConfig
from gatewatch.errors import Conflict
from gatewatch.ingest.prometheus_push import PostableAlerts, to_batch
from gatewatch.model import AlertBatch
from gatewatch.store.database import create_database_engine, migrate
from gatewatch.store.incidents import IncidentFilter
from gatewatch.store.tables import notifications, timers
from gatewatch.web.deps import Services
from gatewatch.wiring.services import build_services
from tests.support.auth import TOKEN_CONFIG
from tests.support.clock import ManualClock

PEOPLE = [{"id": p} for p in ("alice", "bob", "carol")]
CHANNELS = [{"id": "hook", "type": "webhook", "url": "http://127.0.0.1:9/hook"}]


def _config(database_url: str, steps: list[dict[str, Any]], **policy: Any) -> GatewatchConfig:
    return GatewatchConfig.model_validate(
        {
            "storage": {"url": database_url},
            "auth": {"tokens": TOKEN_CONFIG},
            "people": PEOPLE,
            "channels": CHANNELS,
            "severities": [{"name": "critical", "channels": ["hook"]}],
            "default_severity": "critical",
            "policies": {"page": {"steps": steps, **policy}},
            "routes": [{"name": "all", "policy": "page"}],
        }
    )


EngineFactory = Callable[[GatewatchConfig], Services]


@pytest.fixture
def make_engine(clock: ManualClock) -> Iterator[EngineFactory]:
    made: list[Engine] = []

    def factory(config: GatewatchConfig) -> Services:
        database = create_database_engine(config.database_url)
        migrate(database)
        made.append(database)
        return build_services(config, database, clock)

    yield factory
    for database in made:
        database.dispose()


def _open(engine: Services, clock: ManualClock, name: str = "Down") -> int:
    batch: AlertBatch = to_batch(
        PostableAlerts.model_validate([{"labels": {"alertname": name, "severity": "critical"}}]),
        clock.now(),
    )
    return engine.incidents.ingest(batch).opened[0]


def _paged(database: Engine) -> list[str]:
    with database.connect() as connection:
        query = select(notifications.c.person).where(notifications.c.kind == "trigger")
        rows = connection.execute(query.order_by(notifications.c.id))
        return [row.person for row in rows]


STEPS = [
    {"after": "0s", "targets": ["person:alice"]},
    {"after": "10m", "targets": ["person:bob"]},
    {"after": "20m", "targets": ["person:carol"]},
]


def test_steps_run_when_due_and_not_before(
    database_url: str, clock: ManualClock, make_engine: EngineFactory
) -> None:
    engine = make_engine(_config(database_url, STEPS))
    _open(engine, clock)
    assert _paged(engine.runtime.database) == ["alice"]
    clock.advance(timedelta(minutes=9, seconds=59))
    assert engine.escalation.run_due_timers() == 0
    clock.advance(timedelta(seconds=1))
    assert engine.escalation.run_due_timers() == 1
    assert _paged(engine.runtime.database) == ["alice", "bob"]
    clock.advance(timedelta(minutes=10))
    engine.escalation.run_due_timers()
    assert _paged(engine.runtime.database) == ["alice", "bob", "carol"]


def test_repeat_runs_the_policy_again(
    database_url: str, clock: ManualClock, make_engine: EngineFactory
) -> None:
    steps = STEPS[:2]
    engine = make_engine(_config(database_url, steps, repeat=1, repeat_interval="5m"))
    _open(engine, clock)
    for _ in range(5):
        clock.advance(timedelta(minutes=5))
        engine.escalation.run_due_timers()
    # The repeat starts 10m (last step) + 5m (pause) after the trigger: alice 15m, bob 25m.
    assert _paged(engine.runtime.database) == ["alice", "bob", "alice", "bob"]
    clock.advance(timedelta(hours=1))
    engine.escalation.run_due_timers()
    assert _paged(engine.runtime.database) == ["alice", "bob", "alice", "bob"]


def test_ack_cancels_pending_steps_and_records_why(
    database_url: str, clock: ManualClock, make_engine: EngineFactory
) -> None:
    engine = make_engine(_config(database_url, STEPS))
    incident_id = _open(engine, clock)
    clock.advance(timedelta(minutes=1))
    engine.incidents.acknowledge(incident_id, "alice", None)
    clock.advance(timedelta(hours=1))
    assert engine.escalation.run_due_timers() == 0
    assert _paged(engine.runtime.database) == ["alice"]
    with engine.runtime.database.connect() as connection:
        outcomes = {row.outcome for row in connection.execute(select(timers.c.outcome))}
    assert outcomes == {"cancelled: acknowledged by alice"}
    timeline = engine.incidents.detail(incident_id).timeline
    assert "Escalation stopped by alice's acknowledgement (2 pending steps cancelled)" in [
        e.message for e in timeline
    ]


def test_config_edits_do_not_change_incidents_under_way(
    database_url: str, clock: ManualClock, make_engine: EngineFactory
) -> None:
    before = make_engine(_config(database_url, STEPS))
    _open(before, clock)
    edited = [
        {"after": "0s", "targets": ["person:carol"]},
        {"after": "1m", "targets": ["person:carol"]},
    ]
    after = make_engine(_config(database_url, edited))
    clock.advance(timedelta(minutes=10))
    after.escalation.run_due_timers()
    assert _paged(after.runtime.database) == ["alice", "bob"]


def test_a_timer_is_run_once_even_if_asked_twice(
    database_url: str, clock: ManualClock, make_engine: EngineFactory
) -> None:
    first = make_engine(_config(database_url, STEPS))
    second = make_engine(_config(database_url, STEPS))
    _open(first, clock)
    clock.advance(timedelta(minutes=10))
    assert first.escalation.run_due_timers() + second.escalation.run_due_timers() == 1
    assert _paged(first.runtime.database) == ["alice", "bob"]


def test_a_restart_pages_the_current_step_once_instead_of_every_missed_one(
    database_url: str, clock: ManualClock, make_engine: EngineFactory
) -> None:
    """Steps at 0 s, 5 s and 10 s, repeated once after 5 s: down from 1.5 s to 33 s, gatewatch
    pages the step due now (the repeat's third, dana) once and records the others skipped."""
    steps = [
        {"after": "0s", "targets": ["person:alice"]},
        {"after": "5s", "targets": ["person:bob"]},
        {"after": "10s", "targets": ["person:carol"]},
    ]
    engine = make_engine(_config(database_url, steps, repeat=1, repeat_interval="5s"))
    incident_id = _open(engine, clock)
    clock.advance(timedelta(seconds=1.5))
    assert engine.escalation.run_due_timers() == 0
    clock.advance(timedelta(seconds=31.5))  # t = 33 s: steps at 5, 10, 15, 20, 25 s all passed
    engine.escalation.run_due_timers()
    assert _paged(engine.runtime.database) == ["alice", "carol"]
    timeline = [e.message for e in engine.incidents.detail(incident_id).timeline]
    skipped = [m for m in timeline if "skipped: overdue" in m]
    assert skipped == [
        "Step 2 skipped: overdue, a later step was already due",
        "Step 3 skipped: overdue, a later step was already due",
        "Step 1 (repeat 1) skipped: overdue, a later step was already due",
        "Step 2 (repeat 1) skipped: overdue, a later step was already due",
    ]
    assert "Step 3 of 3 (repeat 1): paged carol via hook" in timeline
    clock.advance(timedelta(hours=1))
    assert engine.escalation.run_due_timers() == 0  # the schedule is over, nothing bursts later
    assert _paged(engine.runtime.database) == ["alice", "carol"]


def test_after_downtime_the_schedule_continues_from_the_current_step(
    database_url: str, clock: ManualClock, make_engine: EngineFactory
) -> None:
    engine = make_engine(_config(database_url, STEPS))  # 0, 10 and 20 minutes
    _open(engine, clock)
    clock.advance(timedelta(minutes=15))  # the process was paused past step 2 only: normal
    engine.escalation.run_due_timers()
    assert _paged(engine.runtime.database) == ["alice", "bob"]
    clock.advance(timedelta(minutes=5))
    engine.escalation.run_due_timers()
    assert _paged(engine.runtime.database) == ["alice", "bob", "carol"]


def test_a_severity_rise_pages_the_current_target_through_the_added_channels(
    database_url: str, clock: ManualClock, make_engine: EngineFactory
) -> None:
    """A warning (chat only) gains a critical alert (pager and chat): whoever is being paged
    now is paged again through the pager, and later steps use both; a fall adds nothing."""
    config = GatewatchConfig.model_validate(
        {
            "storage": {"url": database_url},
            "auth": {"tokens": TOKEN_CONFIG},
            "people": PEOPLE,
            "channels": [
                {"id": "chat", "type": "webhook", "url": "http://127.0.0.1:9/chat"},
                {"id": "pager", "type": "webhook", "url": "http://127.0.0.1:9/pager"},
            ],
            "severities": [
                {"name": "critical", "channels": ["pager", "chat"]},
                {"name": "warning", "channels": ["chat"]},
            ],
            "default_severity": "warning",
            "policies": {"page": {"steps": STEPS}},
            "routes": [{"name": "all", "group_by": ["alertname"], "policy": "page"}],
        }
    )
    engine = make_engine(config)

    def fire(severity: str, instance: str) -> None:
        alert = {"labels": {"alertname": "Gateway", "severity": severity, "instance": instance}}
        engine.incidents.ingest(to_batch(PostableAlerts.model_validate([alert]), clock.now()))

    def sent() -> list[tuple[str, str]]:
        with engine.runtime.database.connect() as connection:
            query = select(notifications.c.person, notifications.c.channel).where(
                notifications.c.kind == "trigger"
            )
            return [
                (r.person, r.channel)
                for r in connection.execute(query.order_by(notifications.c.id))
            ]

    fire("warning", "gw-1")
    assert sent() == [("alice", "chat")]
    clock.advance(timedelta(minutes=2))
    fire("critical", "gw-2")
    assert sent() == [("alice", "chat"), ("alice", "pager")]
    [incident] = engine.incidents.list_incidents(IncidentFilter(), 10, 0)[0]
    timeline = [e.message for e in engine.incidents.detail(incident.id).timeline]
    assert "Severity raised from warning to critical: pager added; paged alice" in timeline
    clock.advance(timedelta(minutes=8))
    engine.escalation.run_due_timers()
    assert sent()[-2:] == [("bob", "chat"), ("bob", "pager")]  # the plan now has both
    fire("warning", "gw-3")  # a fall changes nothing
    assert len(sent()) == 4


def test_escalate_now_pages_the_next_step_at_once_and_only_once(
    database_url: str, clock: ManualClock, make_engine: EngineFactory
) -> None:
    engine = make_engine(_config(database_url, STEPS))  # alice now, bob at 10m, carol at 20m
    incident_id = _open(engine, clock)
    clock.advance(timedelta(minutes=1))
    assert engine.escalation.escalate_now(incident_id, "alice") == 2
    assert _paged(engine.runtime.database) == ["alice", "bob"]
    clock.advance(timedelta(minutes=9))
    engine.escalation.run_due_timers()
    assert _paged(engine.runtime.database) == ["alice", "bob"]  # bob's step already ran
    assert engine.escalation.escalate_now(incident_id, "bob") == 3
    with pytest.raises(Conflict, match="no further step"):
        engine.escalation.escalate_now(incident_id, "bob")
    timeline = [e.message for e in engine.incidents.detail(incident_id).timeline]
    assert "Escalated by alice: step 2 paged now" in timeline
    engine.incidents.acknowledge(incident_id, "carol", None)
    with pytest.raises(Conflict, match="acknowledged"):
        engine.escalation.escalate_now(incident_id, "carol")


def _office_config(database_url: str, days: list[str], steps: bool = True) -> GatewatchConfig:
    policy: dict[str, Any] = {
        "business_hours": {
            "time_zone": "Europe/Berlin",
            "days": days,
            "start": "09:00",
            "end": "18:00",
            "holidays": ["2026-12-24"],
        }
    }
    if steps:
        policy["steps"] = [{"after": "0s", "targets": ["person:alice"]}]
    return GatewatchConfig.model_validate(
        {
            "storage": {"url": database_url},
            "auth": {"tokens": TOKEN_CONFIG},
            "people": PEOPLE,
            "channels": CHANNELS,
            "severities": [{"name": "warning", "channels": ["hook"]}],
            "default_severity": "warning",
            "policies": {"office": policy},
            "routes": [{"name": "all", "policy": "office"}],
        }
    )


WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


EVERY_DAY = [*WEEKDAYS, "sat", "sun"]


@pytest.mark.parametrize(
    ("alert_at", "days", "pages_at"),
    [
        # Tuesday 02:00 in Berlin (winter, UTC+1): 09:00 local is 08:00 UTC.
        (_utc(2026, 12, 1, 1), WEEKDAYS, _utc(2026, 12, 1, 8)),
        # Friday evening: Monday morning.
        (_utc(2026, 12, 4, 19), WEEKDAYS, _utc(2026, 12, 7, 8)),
        # The day before a holiday, after hours: the day after it.
        (_utc(2026, 12, 23, 20), WEEKDAYS, _utc(2026, 12, 25, 8)),
        # Spring change (Sunday 2027-03-28, 02:00 -> 03:00): 09:00 CEST is 07:00 UTC.
        (_utc(2027, 3, 28, 1, 30), EVERY_DAY, _utc(2027, 3, 28, 7)),
        # Autumn change (Sunday 2026-10-25, 03:00 -> 02:00): 09:00 CET is 08:00 UTC.
        (_utc(2026, 10, 25, 0, 30), EVERY_DAY, _utc(2026, 10, 25, 8)),
    ],
)
def test_outside_business_hours_the_first_page_waits_for_them(
    database_url: str,
    clock: ManualClock,
    make_engine: EngineFactory,
    alert_at: datetime,
    days: list[str],
    pages_at: datetime,
) -> None:
    engine = make_engine(_office_config(database_url, days))
    clock.current = alert_at
    incident_id = _open(engine, clock)
    assert _paged(engine.runtime.database) == []
    timeline = [e.message for e in engine.incidents.detail(incident_id).timeline]
    assert any(m.startswith("Outside business hours") and "09:00" in m for m in timeline)
    clock.current = pages_at - timedelta(seconds=1)
    assert engine.escalation.run_due_timers() == 0
    clock.current = pages_at
    assert engine.escalation.run_due_timers() == 1
    assert _paged(engine.runtime.database) == ["alice"]


def _channel_messages(engine: Services) -> int:
    with engine.runtime.database.connect() as connection:
        return len(list(connection.execute(select(notifications.c.id))))


def test_a_policy_without_steps_tells_its_channels_when_the_hours_open(
    database_url: str, clock: ManualClock, make_engine: EngineFactory
) -> None:
    engine = make_engine(_office_config(database_url, WEEKDAYS, steps=False))
    clock.current = _utc(2026, 12, 1, 10)  # 11:00 in Berlin: at once
    _open(engine, clock)
    assert _channel_messages(engine) == 1
    clock.current = _utc(2026, 12, 5, 10)  # a Saturday: Monday 09:00
    _open(engine, clock, "Weekend")
    assert _channel_messages(engine) == 1
    clock.current = _utc(2026, 12, 7, 8)
    assert engine.escalation.run_due_timers() == 1
    assert _channel_messages(engine) == 2


def test_a_busy_loop_still_pages_steps_that_are_merely_late(
    database_url: str, clock: ManualClock, make_engine: EngineFactory
) -> None:
    """Timers a few seconds late because the loop is busy (it kept running) are paged, not
    skipped: only steps missed while nothing ran timers collapse."""
    steps = [
        {"after": "0s", "targets": ["person:alice"]},
        {"after": "1s", "targets": ["person:bob"]},
        {"after": "2s", "targets": ["person:carol"]},
    ]
    engine = make_engine(_config(database_url, steps))
    _open(engine, clock)
    engine.escalation.run_due_timers()  # the loop is alive
    clock.advance(timedelta(seconds=2.5))  # a slow pass: bob's and carol's steps both due
    engine.escalation.run_due_timers()
    assert _paged(engine.runtime.database) == ["alice", "bob", "carol"]


# -- the batch pass: claim with a lease, then run in one transaction ----------------------


def _step_statuses(database: Engine) -> list[tuple[int | None, str]]:
    with database.connect() as connection:
        query = select(timers.c.step, timers.c.status).where(timers.c.kind == "step")
        return sorted((row.step, row.status) for row in connection.execute(query))


def test_an_ack_between_claim_and_run_cancels_the_step(
    database_url: str, clock: ManualClock, make_engine: EngineFactory
) -> None:
    engine = make_engine(_config(database_url, STEPS))
    incident = _open(engine, clock)
    clock.advance(timedelta(minutes=10))
    claim = engine.escalation.timers.claim(clock.now())
    assert [timer.step for timer in claim.timers] == [1]
    engine.incidents.acknowledge(incident, "alice", None)
    assert engine.escalation.timers.run(claim, clock.now()) == []
    assert _paged(engine.runtime.database) == ["alice"]
    assert _step_statuses(engine.runtime.database) == [(1, "cancelled"), (2, "cancelled")]


def test_one_pass_runs_the_steps_of_many_incidents_once(
    database_url: str, clock: ManualClock, make_engine: EngineFactory
) -> None:
    engine = make_engine(_config(database_url, STEPS))
    for n in range(30):
        _open(engine, clock, name=f"Down{n}")
    clock.advance(timedelta(minutes=10))
    assert engine.escalation.run_due_timers() == 30
    assert engine.escalation.run_due_timers() == 0
    paged = _paged(engine.runtime.database)
    assert paged.count("alice") == 30 and paged.count("bob") == 30
    with engine.runtime.database.connect() as connection:
        keys = list(connection.execute(select(notifications.c.dedup_key)).scalars())
    assert len(keys) == len(set(keys)) == 60


def test_timers_claimed_by_a_pass_that_died_run_once_its_lease_is_over(
    database_url: str, clock: ManualClock, make_engine: EngineFactory
) -> None:
    engine = make_engine(_config(database_url, STEPS))
    _open(engine, clock)
    clock.advance(timedelta(minutes=10))
    abandoned = engine.escalation.timers.claim(clock.now())  # claimed, never run
    assert len(abandoned.timers) == 1
    assert engine.escalation.run_due_timers() == 0
    assert engine.escalation.next_timer_due() is not None
    clock.advance(engine.config.scheduler.claim_lease)
    assert engine.escalation.run_due_timers() == 1
    assert _paged(engine.runtime.database) == ["alice", "bob"]
    # The dead pass's claim is spent: running it late does nothing twice.
    assert engine.escalation.timers.run(abandoned, clock.now()) == []
    assert _paged(engine.runtime.database) == ["alice", "bob"]
