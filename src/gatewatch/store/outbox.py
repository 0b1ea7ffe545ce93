"""Queries over the notification outbox: enqueue, claim with a lease, record the outcome."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from gatewatch.store.tables import notifications

PENDING, SENDING, DELIVERED, DEAD = "pending", "sending", "delivered", "dead"


@dataclass(frozen=True)
class Notification:
    id: int
    incident_id: int | None
    channel: str
    kind: str
    person: str | None
    message: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


def _row(row: Any) -> Notification:
    return Notification(
        id=row.id,
        incident_id=row.incident_id,
        channel=row.channel,
        kind=row.kind,
        person=row.person,
        message=row.message,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )


def _insert_ignoring_duplicates(connection: Connection) -> Insert:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(notifications).on_conflict_do_nothing(index_elements=["dedup_key"])
    return sqlite.insert(notifications).on_conflict_do_nothing(index_elements=["dedup_key"])


def enqueue(connection: Connection, rows: Iterable[dict[str, Any]], now: datetime) -> int:
    """Queue notifications; a dedup_key seen before is skipped. Returns how many were new."""
    values = [
        {**row, "status": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}
        for row in rows
    ]
    if not values:
        return 0
    inserted = 0
    statement = _insert_ignoring_duplicates(connection)
    for value in values:
        inserted += connection.execute(statement.values(**value)).rowcount
    return inserted


def claim_due(
    connection: Connection, now: datetime, lease_until: datetime, limit: int
) -> list[Notification]:
    """Take due notifications (pending, or sending with an expired lease) for this process."""
    due = or_(
        (notifications.c.status == PENDING) & (notifications.c.next_attempt_at <= now),
        (notifications.c.status == SENDING) & (notifications.c.lease_until <= now),
    )
    query = (
        select(notifications)
        .where(due)
        .order_by(notifications.c.next_attempt_at, notifications.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = [_row(row) for row in connection.execute(query)]
    if claimed:
        connection.execute(
            update(notifications)
            .where(notifications.c.id.in_([n.id for n in claimed]))
            .values(status=SENDING, lease_until=lease_until)
        )
    return claimed


def record_delivered(connection: Connection, notification_id: int, now: datetime) -> None:
    connection.execute(
        update(notifications)
        .where(notifications.c.id == notification_id)
        .values(
            status=DELIVERED,
            delivered_at=now,
            lease_until=None,
            attempts=notifications.c.attempts + 1,
            last_error=None,
        )
    )


def record_failure(
    connection: Connection, notification_id: int, error: str, retry_at: datetime | None
) -> None:
    """`retry_at` None means dead: no more attempts."""
    connection.execute(
        update(notifications)
        .where(notifications.c.id == notification_id)
        .values(
            status=DEAD if retry_at is None else PENDING,
            next_attempt_at=retry_at if retry_at is not None else notifications.c.next_attempt_at,
            lease_until=None,
            attempts=notifications.c.attempts + 1,
            last_error=error[:2000],
        )
    )


def postpone(connection: Connection, notification_id: int, until: datetime) -> None:
    """Throttled: back to pending for later, without counting an attempt."""
    connection.execute(
        update(notifications)
        .where(notifications.c.id == notification_id)
        .values(status=PENDING, next_attempt_at=until, lease_until=None)
    )


def resend(connection: Connection, notification_id: int, now: datetime) -> bool:
    """Give a dead notification a fresh set of attempts."""
    result = connection.execute(
        update(notifications)
        .where(notifications.c.id == notification_id, notifications.c.status == DEAD)
        .values(status=PENDING, attempts=0, next_attempt_at=now, last_error=None)
    )
    return result.rowcount > 0


def list_notifications(
    connection: Connection, status: str | None, incident_id: int | None, limit: int
) -> list[Notification]:
    query = select(notifications).order_by(notifications.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(notifications.c.status == status)
    if incident_id is not None:
        query = query.where(notifications.c.incident_id == incident_id)
    return [_row(row) for row in connection.execute(query)]


def count_by_status(connection: Connection) -> dict[str, int]:
    query = select(notifications.c.status, func.count()).group_by(notifications.c.status)
    return {status: count for status, count in connection.execute(query)}


def channels_notified(connection: Connection, incident_id: int) -> set[str]:
    """Channels that were sent (or will be sent) a trigger for this incident."""
    query = (
        select(notifications.c.channel)
        .where(notifications.c.incident_id == incident_id, notifications.c.kind == "trigger")
        .distinct()
    )
    return {row.channel for row in connection.execute(query)}
