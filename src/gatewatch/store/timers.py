"""Queries over durable timers and the escalation plans they follow.

New plans and timers are deferred writes (`store/deferred.py`): an ingest unit that opens a
hundred incidents writes their plans and timers in one statement each. Every query here
flushes first, so a transaction always reads its own writes.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Text,
    bindparam,
    cast,
    func,
    insert,
    or_,
    select,
    update,
)

from gatewatch.store import deferred
from gatewatch.store.bulk import BulkWrite
from gatewatch.store.one_of import OneOf
from gatewatch.store.tables import incident_escalations, timers

PENDING, DONE, CANCELLED = "pending", "done", "cancelled"


@dataclass(frozen=True)
class Timer:
    id: int
    incident_id: int
    kind: str
    step: int | None
    cycle: int
    due_at: datetime


@dataclass(frozen=True)
class EscalationPlan:
    incident_id: int
    policy: str | None
    plan_json: str  # as stored: incidents of one policy share the text, parsed once by its reader
    started_at: datetime


_INSERT_PLAN = BulkWrite(
    insert(incident_escalations).inline(), ("incident_id", "policy", "plan", "started_at")
)
_INSERT_TIMER = BulkWrite(
    insert(timers).inline(),
    ("incident_id", "kind", "step", "cycle", "due_at", "status", "created_at"),
)


def save_plan(
    connection: Connection,
    incident_id: int,
    policy: str | None,
    plan: dict[str, Any],
    started_at: datetime,
) -> None:
    row = {"incident_id": incident_id, "policy": policy, "plan": plan, "started_at": started_at}
    deferred.write(connection, _INSERT_PLAN.execute, [row])


def update_plan(connection: Connection, incident_id: int, plan: dict[str, Any]) -> None:
    deferred.flush(connection)
    connection.execute(
        update(incident_escalations)
        .where(incident_escalations.c.incident_id == incident_id)
        .values(plan=plan)
    )


def restart_plan(connection: Connection, incident_id: int, started_at: datetime) -> None:
    deferred.flush(connection)
    connection.execute(
        update(incident_escalations)
        .where(incident_escalations.c.incident_id == incident_id)
        .values(started_at=started_at)
    )


_PLAN_COLUMNS = (
    incident_escalations.c.incident_id,
    incident_escalations.c.policy,
    cast(incident_escalations.c.plan, Text).label("plan_json"),
    incident_escalations.c.started_at,
)
_LOAD_PLAN = select(*_PLAN_COLUMNS).where(
    incident_escalations.c.incident_id == bindparam("incident_id")
)
_FINISH = BulkWrite(
    update(timers)
    .where(timers.c.id == bindparam("timer_id"))
    .values(status=bindparam("status"), outcome=bindparam("outcome"), done_at=bindparam("now")),
    ("status", "outcome", "now", "timer_id"),
)


def load_plan(connection: Connection, incident_id: int) -> EscalationPlan | None:
    deferred.flush(connection)
    row = connection.execute(_LOAD_PLAN, {"incident_id": incident_id}).one_or_none()
    if row is None:
        return None
    return EscalationPlan(row.incident_id, row.policy, row.plan_json, row.started_at)


_LOAD_PLANS = select(*_PLAN_COLUMNS).where(OneOf(incident_escalations.c.incident_id, "ids"))


def load_plans(connection: Connection, incident_ids: list[int]) -> dict[int, EscalationPlan]:
    deferred.flush(connection)
    rows = connection.execute(_LOAD_PLANS, {"ids": incident_ids})
    return {
        row.incident_id: EscalationPlan(row.incident_id, row.policy, row.plan_json, row.started_at)
        for row in rows
    }


@dataclass(frozen=True)
class TimerSpec:
    kind: str
    due_at: datetime
    step: int | None = None
    cycle: int = 0


def add_timers(
    connection: Connection, incident_id: int, specs: list[TimerSpec], now: datetime
) -> None:
    rows = [
        {
            "incident_id": incident_id,
            "kind": spec.kind,
            "step": spec.step,
            "cycle": spec.cycle,
            "due_at": spec.due_at,
            "status": PENDING,
            "created_at": now,
        }
        for spec in specs
    ]
    deferred.write(connection, _INSERT_TIMER.execute, rows)


def add_timer(
    connection: Connection,
    incident_id: int,
    kind: str,
    due_at: datetime,
    now: datetime,
    step: int | None = None,
    cycle: int = 0,
) -> None:
    add_timers(connection, incident_id, [TimerSpec(kind, due_at, step, cycle)], now)


def record_done(
    connection: Connection,
    incident_id: int,
    kind: str,
    step: int,
    outcome: str,
    now: datetime,
) -> None:
    """A step done at once, with no timer before it (a manual step paged by hand)."""
    deferred.flush(connection)
    connection.execute(
        insert(timers).values(
            incident_id=incident_id,
            kind=kind,
            step=step,
            cycle=0,
            due_at=now,
            status=DONE,
            outcome=outcome,
            created_at=now,
            done_at=now,
        )
    )


def count_of_kind(connection: Connection, incident_id: int, kind: str) -> int:
    deferred.flush(connection)
    query = (
        select(func.count())
        .select_from(timers)
        .where(timers.c.incident_id == incident_id, timers.c.kind == kind)
    )
    return int(connection.execute(query).scalar_one())


_TIMER_COLUMNS = ("id", "incident_id", "kind", "step", "cycle", "due_at")


def _claimable(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        timers.c.status == PENDING,
        or_(timers.c.claimed_until.is_(None), timers.c.claimed_until <= now),
    )


_MARK_CLAIMED = (
    update(timers)
    .where(OneOf(timers.c.id, "ids"))
    .values(claim=bindparam("claim"), claimed_until=bindparam("until"))
)
_STILL_CLAIMED = select(timers.c.id).where(
    OneOf(timers.c.id, "ids"), timers.c.status == PENDING, timers.c.claim == bindparam("claim")
)


def claim_due(
    connection: Connection, now: datetime, claim: str, lease_until: datetime, limit: int
) -> list[Timer]:
    """Mark due timers as this pass's (`claim`) until `lease_until`, in a short transaction of
    their own; a second process skips the rows being claimed (SKIP LOCKED) and the claimed."""
    deferred.flush(connection)
    query = (
        select(*(timers.c[name] for name in _TIMER_COLUMNS))
        .where(*_claimable(now), timers.c.due_at <= now)
        .order_by(timers.c.due_at, timers.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = [Timer(*row) for row in connection.execute(query)]
    if claimed:
        connection.execute(
            _MARK_CLAIMED,
            {"ids": [timer.id for timer in claimed], "claim": claim, "until": lease_until},
        )
    return claimed


def still_claimed(connection: Connection, timer_ids: list[int], claim: str) -> set[int]:
    """Which claimed timers are still pending and still this pass's: an acknowledgement that
    landed after the claim has cancelled its steps, and those are not run."""
    deferred.flush(connection)
    if not timer_ids:
        return set()
    rows = connection.execute(_STILL_CLAIMED, {"ids": timer_ids, "claim": claim})
    return set(rows.scalars())


def next_due(connection: Connection, now: datetime) -> datetime | None:
    """When the earliest timer that a pass could claim falls due (a read: no lock)."""
    deferred.flush(connection)
    query = select(func.min(timers.c.due_at)).where(*_claimable(now))
    return connection.execute(query).scalar_one_or_none()


def next_pending(connection: Connection, incident_id: int, kind: str) -> Timer | None:
    """The incident's earliest pending timer of a kind, locked for this transaction."""
    deferred.flush(connection)
    row = connection.execute(
        select(timers)
        .where(
            timers.c.incident_id == incident_id,
            timers.c.kind == kind,
            timers.c.status == PENDING,
        )
        .order_by(timers.c.due_at, timers.c.id)
        .limit(1)
        .with_for_update()
    ).first()
    if row is None:
        return None
    return Timer(row.id, row.incident_id, row.kind, row.step, row.cycle, row.due_at)


@dataclass(frozen=True)
class Finished:
    timer_id: int
    status: str
    outcome: str


def finish(connection: Connection, timer_id: int, status: str, outcome: str, now: datetime) -> None:
    finish_many(connection, [Finished(timer_id, status, outcome)], now)


def finish_many(connection: Connection, finished: list[Finished], now: datetime) -> None:
    deferred.flush(connection)
    _FINISH.execute(
        connection,
        [
            {"timer_id": done.timer_id, "status": done.status, "outcome": done.outcome, "now": now}
            for done in finished
        ],
    )


def cancel_pending(
    connection: Connection, incident_id: int, kinds: tuple[str, ...], outcome: str, now: datetime
) -> int:
    deferred.flush(connection)
    result = connection.execute(
        update(timers)
        .where(
            timers.c.incident_id == incident_id,
            timers.c.status == PENDING,
            timers.c.kind.in_(kinds),
        )
        .values(status=CANCELLED, outcome=outcome, done_at=now)
    )
    return result.rowcount


def pending_count(connection: Connection) -> int:
    deferred.flush(connection)
    query = select(func.count()).select_from(timers).where(timers.c.status == PENDING)
    return int(connection.execute(query).scalar_one())


@dataclass(frozen=True)
class TimerState:
    kind: str
    step: int | None
    cycle: int
    due_at: datetime
    status: str
    outcome: str | None


def incident_timers(connection: Connection, incident_id: int) -> list[TimerState]:
    """Every timer of an incident, done or not, in due order: its escalation so far."""
    deferred.flush(connection)
    rows = connection.execute(
        select(timers)
        .where(timers.c.incident_id == incident_id)
        .order_by(timers.c.due_at, timers.c.id)
    )
    return [TimerState(r.kind, r.step, r.cycle, r.due_at, r.status, r.outcome) for r in rows]
