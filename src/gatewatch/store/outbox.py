"""Queries over the notification outbox: enqueue, claim with a lease, record the outcome."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from gatewatch.model import IncidentStatus
from gatewatch.store import deferred
from gatewatch.store.bulk import BulkWrite
from gatewatch.store.one_of import OneOf
from gatewatch.store.tables import incidents, notifications

PENDING, SENDING, DELIVERED, DEAD = "pending", "sending", "delivered", "dead"
CANCELLED = "cancelled"  # a page made stale by an acknowledgement or a resolution
TRIGGER, REMINDER = "trigger", "reminder"
PAGE_KINDS = (TRIGGER, REMINDER)


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


_ENQUEUED = (
    "incident_id",
    "channel",
    "kind",
    "person",
    "message",
    "dedup_key",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
)
# A dedup_key queued before is skipped: the same notification decided twice is one row.
_ENQUEUE = {
    name: BulkWrite(
        dialect.insert(notifications).inline().on_conflict_do_nothing(index_elements=["dedup_key"]),
        _ENQUEUED,
    )
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def enqueue(connection: Connection, rows: Iterable[dict[str, Any]], now: datetime) -> None:
    """Queue notifications; a dedup_key queued before is skipped, not sent twice."""
    values = [
        {**row, "status": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}
        for row in rows
    ]
    deferred.write(connection, _insert, values)


def _insert(connection: Connection, values: list[dict[str, Any]]) -> None:
    _ENQUEUE[connection.dialect.name].execute(connection, values)


def known_keys(connection: Connection, keys: Iterable[str]) -> set[str]:
    """Which of these dedup keys are queued already (whatever became of them)."""
    deferred.flush(connection)
    wanted = list(keys)
    if not wanted:
        return set()
    query = select(notifications.c.dedup_key).where(notifications.c.dedup_key.in_(wanted))
    return {row.dedup_key for row in connection.execute(query)}


_CANCEL_STALE = (
    update(notifications)
    .where(OneOf(notifications.c.id, "ids"))
    .values(status=CANCELLED, lease_until=None, last_error="cancelled: incident moved on")
)
_MARK_SENDING = (
    update(notifications)
    .where(OneOf(notifications.c.id, "ids"))
    .values(status=SENDING, lease_until=bindparam("until"))
)


def claim_due(
    connection: Connection, now: datetime, lease_until: datetime, limit: int
) -> list[Notification]:
    """Take due notifications (pending, or sending with an expired lease) for this process.

    Two rules keep a vendor from seeing a page after the acknowledgement or resolution:
    an acknowledgement or resolution waits while a page of the same incident to the same
    channel is in flight; and a page whose incident has moved on (a trigger no longer
    triggered, a reminder of a resolved incident) is cancelled here instead of sent.
    """
    deferred.flush(connection)
    in_flight = aliased(notifications)
    page_in_flight = (
        select(in_flight.c.id)
        .where(
            in_flight.c.incident_id == notifications.c.incident_id,
            in_flight.c.channel == notifications.c.channel,
            in_flight.c.kind.in_(PAGE_KINDS),
            in_flight.c.status == SENDING,
            in_flight.c.lease_until > now,
        )
        .exists()
    )
    due = or_(
        (notifications.c.status == PENDING) & (notifications.c.next_attempt_at <= now),
        (notifications.c.status == SENDING) & (notifications.c.lease_until <= now),
    )
    query = (
        select(notifications, incidents.c.status.label("incident_status"))
        .outerjoin(incidents, incidents.c.id == notifications.c.incident_id)
        .where(due, ~(notifications.c.kind.not_in(PAGE_KINDS) & page_in_flight))
        .order_by(notifications.c.next_attempt_at, notifications.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=notifications)
    )
    rows = list(connection.execute(query))
    stale = {row.id for row in rows if _stale(row.kind, row.incident_status)}
    claimed = [_row(row) for row in rows if row.id not in stale]
    if stale:
        connection.execute(_CANCEL_STALE, {"ids": list(stale)})
    if claimed:
        connection.execute(_MARK_SENDING, {"ids": [n.id for n in claimed], "until": lease_until})
    return claimed


def _stale(kind: str, incident_status: str | None) -> bool:
    if incident_status is None:
        return False
    if kind == TRIGGER:
        return incident_status != IncidentStatus.TRIGGERED.value
    return kind == REMINDER and incident_status == IncidentStatus.RESOLVED.value


def cancel_pages(connection: Connection, incident_id: int, reason: str) -> int:
    """The incident's queued pages (waiting to go, or waiting for a retry) will not be sent;
    returns how many."""
    deferred.flush(connection)
    result = connection.execute(
        update(notifications)
        .where(
            notifications.c.incident_id == incident_id,
            notifications.c.kind.in_(PAGE_KINDS),
            notifications.c.status == PENDING,
        )
        .values(status=CANCELLED, last_error=reason)
    )
    return result.rowcount


_DELIVERED = BulkWrite(
    update(notifications)
    .where(notifications.c.id == bindparam("notification_id"))
    .values(
        status=DELIVERED,
        delivered_at=bindparam("now"),
        lease_until=None,
        attempts=notifications.c.attempts + 1,
        last_error=None,
    ),
    ("now", "notification_id"),
)
_FAILED = BulkWrite(
    update(notifications)
    .where(notifications.c.id == bindparam("notification_id"))
    .values(
        status=bindparam("status"),
        next_attempt_at=bindparam("retry_at"),
        lease_until=None,
        attempts=notifications.c.attempts + 1,
        last_error=bindparam("error"),
    ),
    ("status", "retry_at", "error", "notification_id"),
)
_POSTPONED = BulkWrite(
    update(notifications)
    .where(notifications.c.id == bindparam("notification_id"))
    .values(status=PENDING, next_attempt_at=bindparam("until"), lease_until=None),
    ("until", "notification_id"),
)


@dataclass(frozen=True)
class Failure:
    """`retry_at` None means dead: no more attempts."""

    notification_id: int
    error: str
    retry_at: datetime | None


@dataclass(frozen=True)
class Postponed:
    """Back to pending until `until`, without counting an attempt (throttled, or claimed
    but never started)."""

    notification_id: int
    until: datetime


def record_outcomes(
    connection: Connection, delivered: list[int], failed: list[Failure], now: datetime
) -> None:
    """One statement per kind of outcome, however many notifications a pass sent."""
    _DELIVERED.execute(connection, [{"notification_id": i, "now": now} for i in delivered])
    _FAILED.execute(
        connection,
        [
            {
                "notification_id": f.notification_id,
                "error": f.error[:2000],
                "status": DEAD if f.retry_at is None else PENDING,
                "retry_at": f.retry_at if f.retry_at is not None else now,
            }
            for f in failed
        ],
    )


def postpone_many(connection: Connection, postponed: list[Postponed]) -> None:
    _POSTPONED.execute(
        connection,
        [{"notification_id": p.notification_id, "until": p.until} for p in postponed],
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
    deferred.flush(connection)
    query = select(notifications).order_by(notifications.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(notifications.c.status == status)
    if incident_id is not None:
        query = query.where(notifications.c.incident_id == incident_id)
    return [_row(row) for row in connection.execute(query)]


def count_by_status(connection: Connection) -> dict[str, int]:
    deferred.flush(connection)
    query = select(notifications.c.status, func.count()).group_by(notifications.c.status)
    return {status: count for status, count in connection.execute(query)}


def channels_notified(connection: Connection, incident_id: int) -> set[str]:
    """Channels that were sent (or will be sent) a trigger for this incident."""
    deferred.flush(connection)
    query = (
        select(notifications.c.channel)
        .where(notifications.c.incident_id == incident_id, notifications.c.kind == "trigger")
        .distinct()
    )
    return {row.channel for row in connection.execute(query)}
