"""Queries over the alerts table."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    update,
)

from gatewatch.model import AlertStatus, StoredAlert
from gatewatch.store.bulk import BulkWrite
from gatewatch.store.one_of import OneOf
from gatewatch.store.tables import alerts


def alert_from_row(row: Row[Any]) -> StoredAlert:
    return StoredAlert(
        fingerprint=row.fingerprint,
        labels=row.labels,
        annotations=row.annotations,
        status=AlertStatus(row.status),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        generator_url=row.generator_url,
        source=row.source,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        receive_count=row.receive_count,
    )


_LOAD_STATUSES = select(alerts.c.fingerprint, alerts.c.status).where(
    OneOf(alerts.c.fingerprint, "fingerprints")
)


def load_statuses(connection: Connection, fingerprints: Iterable[str]) -> dict[str, AlertStatus]:
    """The stored status of each known fingerprint; ingest needs no more than this."""
    wanted = list(set(fingerprints))
    if not wanted:
        return {}
    rows = connection.execute(_LOAD_STATUSES, {"fingerprints": wanted})
    return {fingerprint: AlertStatus(status) for fingerprint, status in rows}


_CHANGED = ("status", "annotations", "starts_at", "ends_at", "generator_url", "source")
_INSERT = BulkWrite(
    insert(alerts).inline(),
    (*_CHANGED, "fingerprint", "alertname", "labels", "first_seen", "last_seen", "receive_count"),
)
# Labels never change: the fingerprint is their hash.
_UPDATE = BulkWrite(
    update(alerts)
    .where(alerts.c.fingerprint == bindparam("key"))
    .values(
        **{column: bindparam(column) for column in (*_CHANGED, "last_seen")},
        receive_count=alerts.c.receive_count + literal_column("1"),
    ),
    (*_CHANGED, "last_seen", "key"),
)


def insert_alerts(connection: Connection, rows: list[dict[str, Any]]) -> None:
    _INSERT.execute(connection, rows)


def update_alerts(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Rows carry `key` (the fingerprint) and the columns to change."""
    _UPDATE.execute(connection, rows)


def list_alerts(connection: Connection, status: AlertStatus | None = None) -> list[StoredAlert]:
    query = select(alerts).order_by(alerts.c.starts_at.desc(), alerts.c.fingerprint)
    if status is not None:
        query = query.where(alerts.c.status == status.value)
    return [alert_from_row(row) for row in connection.execute(query)]


def firing_by_severity(connection: Connection) -> dict[str, int]:
    """Firing alerts counted by their `severity` label, in the database (the console's header
    asks every few seconds; loading every alert for it did not scale)."""
    severity = alerts.c.labels["severity"].as_string()
    query = (
        select(severity.label("severity"), func.count())
        .where(alerts.c.status == AlertStatus.FIRING.value)
        .group_by(severity)
    )
    return {row.severity or "none": row[1] for row in connection.execute(query)}


def get_alert(connection: Connection, fingerprint: str) -> StoredAlert | None:
    row = connection.execute(select(alerts).where(alerts.c.fingerprint == fingerprint)).first()
    return alert_from_row(row) if row is not None else None


def _expired(now: datetime, source: str) -> tuple[ColumnElement[bool], ...]:
    return (
        alerts.c.status == AlertStatus.FIRING.value,
        alerts.c.source == source,
        alerts.c.ends_at.is_not(None),
        alerts.c.ends_at <= now,
    )


def any_expired(connection: Connection, now: datetime, source: str) -> bool:
    """Whether any alert is due to expire: a read, so the common answer (no) takes no lock."""
    query = select(alerts.c.fingerprint).where(*_expired(now, source)).limit(1)
    return connection.execute(query).first() is not None


def expired_alerts(
    connection: Connection, now: datetime, source: str, limit: int
) -> list[StoredAlert]:
    """Firing alerts from `source` whose endsAt has passed without a refresh, locked for this
    transaction (a refresh arriving meanwhile waits, then finds them resolved or not)."""
    query = (
        select(alerts)
        .where(*_expired(now, source))
        .order_by(alerts.c.ends_at, alerts.c.fingerprint)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [alert_from_row(row) for row in connection.execute(query)]
