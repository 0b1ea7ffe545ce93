"""Queries over durable timers and the escalation plans they follow."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

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
    plan: dict[str, Any]
    started_at: datetime


def save_plan(
    connection: Connection,
    incident_id: int,
    policy: str | None,
    plan: dict[str, Any],
    started_at: datetime,
) -> None:
    connection.execute(
        insert(incident_escalations).values(
            incident_id=incident_id, policy=policy, plan=plan, started_at=started_at
        )
    )


def update_plan(connection: Connection, incident_id: int, plan: dict[str, Any]) -> None:
    connection.execute(
        update(incident_escalations)
        .where(incident_escalations.c.incident_id == incident_id)
        .values(plan=plan)
    )


def restart_plan(connection: Connection, incident_id: int, started_at: datetime) -> None:
    connection.execute(
        update(incident_escalations)
        .where(incident_escalations.c.incident_id == incident_id)
        .values(started_at=started_at)
    )


_LOAD_PLAN = select(incident_escalations).where(
    incident_escalations.c.incident_id == bindparam("incident_id")
)
_FINISH = (
    update(timers)
    .where(timers.c.id == bindparam("timer_id"))
    .values(status=bindparam("status"), outcome=bindparam("outcome"), done_at=bindparam("now"))
)


def load_plan(connection: Connection, incident_id: int) -> EscalationPlan | None:
    row = connection.execute(_LOAD_PLAN, {"incident_id": incident_id}).one_or_none()
    if row is None:
        return None
    return EscalationPlan(row.incident_id, row.policy, row.plan, row.started_at)


@dataclass(frozen=True)
class TimerSpec:
    kind: str
    due_at: datetime
    step: int | None = None
    cycle: int = 0


def add_timers(
    connection: Connection, incident_id: int, specs: list[TimerSpec], now: datetime
) -> None:
    if specs:
        connection.execute(
            insert(timers),
            [
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
            ],
        )


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
    query = (
        select(func.count())
        .select_from(timers)
        .where(timers.c.incident_id == incident_id, timers.c.kind == kind)
    )
    return int(connection.execute(query).scalar_one())


def claim_due(connection: Connection, now: datetime, limit: int) -> list[Timer]:
    """Due timers, locked for this transaction; a second process skips them (SKIP LOCKED)."""
    query = (
        select(timers)
        .where(timers.c.status == PENDING, timers.c.due_at <= now)
        .order_by(timers.c.due_at, timers.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [
        Timer(r.id, r.incident_id, r.kind, r.step, r.cycle, r.due_at)
        for r in connection.execute(query)
    ]


def next_pending(connection: Connection, incident_id: int, kind: str) -> Timer | None:
    """The incident's earliest pending timer of a kind, locked for this transaction."""
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


def finish(connection: Connection, timer_id: int, status: str, outcome: str, now: datetime) -> None:
    connection.execute(
        _FINISH, {"timer_id": timer_id, "status": status, "outcome": outcome, "now": now}
    )


def cancel_pending(
    connection: Connection, incident_id: int, kinds: tuple[str, ...], outcome: str, now: datetime
) -> int:
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
    rows = connection.execute(
        select(timers)
        .where(timers.c.incident_id == incident_id)
        .order_by(timers.c.due_at, timers.c.id)
    )
    return [TimerState(r.kind, r.step, r.cycle, r.due_at, r.status, r.outcome) for r in rows]
