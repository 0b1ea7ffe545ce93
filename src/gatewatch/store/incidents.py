"""Queries over incidents, their alert links and their timelines."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    and_,
    bindparam,
    func,
    insert,
    select,
    update,
)

from gatewatch.model import AlertStatus, Incident, IncidentStatus, StoredAlert, TimelineEvent
from gatewatch.store import deferred
from gatewatch.store.alerts import alert_from_row
from gatewatch.store.bulk import BulkWrite
from gatewatch.store.one_of import OneOf
from gatewatch.store.tables import alerts, incident_alerts, incidents, timeline_events

_OPEN = incidents.c.status != IncidentStatus.RESOLVED.value


def _to_incident(row: Row[Any]) -> Incident:
    return Incident(
        id=row.id,
        group_key=row.group_key,
        group_labels=row.group_labels,
        route=row.route,
        policy=row.policy,
        severity=row.severity,
        title=row.title,
        service=row.service,
        status=IncidentStatus(row.status),
        triggered_at=row.triggered_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        updated_at=row.updated_at,
    )


@dataclass(frozen=True)
class OpenIncidentRef:
    """What ingest needs of an open incident: far cheaper to load than the whole row."""

    id: int
    severity: str


_OPEN_BY_KEY = select(incidents.c.id, incidents.c.group_key, incidents.c.severity).where(
    OneOf(incidents.c.group_key, "keys"), _OPEN
)
_OPEN_LINKS = (
    select(incident_alerts.c.incident_id, incident_alerts.c.fingerprint)
    .join(incidents, incidents.c.id == incident_alerts.c.incident_id)
    .where(OneOf(incident_alerts.c.fingerprint, "fingerprints"), _OPEN)
)


def open_incidents_by_key(
    connection: Connection, keys: Iterable[str]
) -> dict[str, OpenIncidentRef]:
    wanted = list(set(keys))
    if not wanted:
        return {}
    rows = connection.execute(_OPEN_BY_KEY, {"keys": wanted})
    return {key: OpenIncidentRef(incident_id, severity) for incident_id, key, severity in rows}


_CREATE_INCIDENTS = insert(incidents).returning(
    incidents.c.id, incidents.c.severity, sort_by_parameter_order=True
)


def create_incidents(connection: Connection, rows: list[dict[str, Any]]) -> list[OpenIncidentRef]:
    """Insert incidents with one statement; their ids come back in the order of `rows`."""
    if not rows:
        return []
    # A statement built once, the rows as parameters: `.values(**row)` per incident made
    # SQLAlchemy build and hash a new statement each time, a third of opening one in a storm.
    result = connection.execute(_CREATE_INCIDENTS, rows)
    return [OpenIncidentRef(row.id, row.severity) for row in result]


def update_incident(connection: Connection, incident_id: int, values: dict[str, Any]) -> None:
    connection.execute(update(incidents).where(incidents.c.id == incident_id).values(**values))


# Built once: SQLAlchemy then reuses their cache keys, which matters when paging thousands.
_GET_INCIDENT = select(incidents).where(incidents.c.id == bindparam("incident_id"))
_GET_INCIDENT_FOR_UPDATE = _GET_INCIDENT.with_for_update()
_INCIDENT_ALERTS = (
    select(alerts)
    .join(incident_alerts, incident_alerts.c.fingerprint == alerts.c.fingerprint)
    .where(incident_alerts.c.incident_id == bindparam("incident_id"))
    .order_by(incident_alerts.c.attached_at, alerts.c.fingerprint)
)


def get_incident(
    connection: Connection, incident_id: int, for_update: bool = False
) -> Incident | None:
    query = _GET_INCIDENT_FOR_UPDATE if for_update else _GET_INCIDENT
    row = connection.execute(query, {"incident_id": incident_id}).one_or_none()
    return _to_incident(row) if row is not None else None


_GET_INCIDENTS = select(incidents).where(OneOf(incidents.c.id, "ids"))


def get_incidents(connection: Connection, incident_ids: Iterable[int]) -> dict[int, Incident]:
    """These incidents by id, in one query."""
    wanted = sorted(set(incident_ids))
    if not wanted:
        return {}
    rows = connection.execute(_GET_INCIDENTS, {"ids": wanted})
    return {row.id: _to_incident(row) for row in rows}


_LOCK_INCIDENTS = _GET_INCIDENTS.order_by(incidents.c.id).with_for_update()


def lock_incidents(connection: Connection, incident_ids: Iterable[int]) -> dict[int, Incident]:
    """These incidents, locked for this transaction in id order (the order every batch takes
    them in, so two batches cannot deadlock); an acknowledgement waits for the lock."""
    rows = connection.execute(_LOCK_INCIDENTS, {"ids": sorted(set(incident_ids))})
    return {row.id: _to_incident(row) for row in rows}


def open_links(connection: Connection, fingerprints: Iterable[str]) -> set[tuple[int, str]]:
    """(incident id, fingerprint) pairs linking these alerts to incidents still open."""
    wanted = list(set(fingerprints))
    if not wanted:
        return set()
    rows = connection.execute(_OPEN_LINKS, {"fingerprints": wanted})
    return {(incident_id, fingerprint) for incident_id, fingerprint in rows}


_ATTACH = BulkWrite(insert(incident_alerts).inline(), ("incident_id", "fingerprint", "attached_at"))
_ADD_EVENT = BulkWrite(
    insert(timeline_events).inline(), ("incident_id", "at", "actor", "kind", "message", "data")
)


def attach_alerts(connection: Connection, rows: list[dict[str, Any]]) -> None:
    _ATTACH.execute(connection, rows)


# For each incident, its links in order, each alert looked up by its key, until one fires.
# The shape is spelled out (a lookup per link, `OFFSET 0` so PostgreSQL keeps the subquery
# per incident): left to plan it as a join from statistics, which lag in a storm (a fresh
# table, thousands of alerts changed in seconds), PostgreSQL hashed every firing alert found
# through the status index, 9-50 ms a batch instead of well under one.
_STILL_FIRING = (
    select(incident_alerts.c.fingerprint)
    .where(
        incident_alerts.c.incident_id == incidents.c.id,
        select(alerts.c.status)
        .where(alerts.c.fingerprint == incident_alerts.c.fingerprint)
        .scalar_subquery()
        == AlertStatus.FIRING.value,
    )
    .offset(0)
    .exists()
)
_WITHOUT_FIRING_ALERTS = select(incidents.c.id).where(
    OneOf(incidents.c.id, "ids"), _OPEN, ~_STILL_FIRING
)


def incidents_without_firing_alerts(
    connection: Connection, incident_ids: Iterable[int]
) -> list[int]:
    """Of these open incidents, those none of whose alerts is still firing."""
    wanted = list(set(incident_ids))
    if not wanted:
        return []
    rows = connection.execute(_WITHOUT_FIRING_ALERTS, {"ids": wanted})
    return sorted(row.id for row in rows)


def add_events(connection: Connection, events: list[TimelineEvent]) -> None:
    deferred.write(
        connection,
        _ADD_EVENT.execute,
        [
            {
                "incident_id": event.incident_id,
                "at": event.at,
                "actor": event.actor,
                "kind": event.kind,
                "message": event.message,
                "data": event.data,
            }
            for event in events
        ],
    )


@dataclass(frozen=True)
class IncidentFilter:
    statuses: tuple[IncidentStatus, ...] = ()
    severities: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    triggered_since: datetime | None = None


def list_incidents(
    connection: Connection, filters: IncidentFilter, limit: int, offset: int
) -> tuple[list[Incident], int]:
    """A page of incidents, newest first, and the total matching the filter."""
    conditions: list[ColumnElement[bool]] = []
    if filters.statuses:
        conditions.append(incidents.c.status.in_([status.value for status in filters.statuses]))
    if filters.severities:
        conditions.append(incidents.c.severity.in_(filters.severities))
    if filters.services:
        conditions.append(incidents.c.service.in_(filters.services))
    if filters.triggered_since is not None:
        conditions.append(incidents.c.triggered_at >= filters.triggered_since)
    where = and_(*conditions) if conditions else None
    query = select(incidents).order_by(incidents.c.id.desc()).limit(limit).offset(offset)
    count = select(func.count()).select_from(incidents)
    if where is not None:
        query = query.where(where)
        count = count.where(where)
    rows = [_to_incident(row) for row in connection.execute(query)]
    return rows, connection.execute(count).scalar_one()


_PRELOADED = "gatewatch_preloaded_alert_lists"
_ALERT_LISTS = (
    select(incident_alerts.c.incident_id, alerts)
    .join(incident_alerts, incident_alerts.c.fingerprint == alerts.c.fingerprint)
    .where(OneOf(incident_alerts.c.incident_id, "ids"))
    .order_by(incident_alerts.c.incident_id, incident_alerts.c.attached_at, alerts.c.fingerprint)
)


def incident_alert_list(connection: Connection, incident_id: int) -> list[StoredAlert]:
    preloaded: dict[int, list[StoredAlert]] | None = connection.info.get(_PRELOADED)
    if preloaded is not None and incident_id in preloaded:
        return preloaded[incident_id]
    rows = connection.execute(_INCIDENT_ALERTS, {"incident_id": incident_id})
    return [alert_from_row(row) for row in rows]


@contextmanager
def alert_lists_preloaded(connection: Connection, incident_ids: Iterable[int]) -> Iterator[None]:
    """Within the block, these incidents' alert lists come from one query made up front: a
    timer pass composes a message per step, and a query per incident was a quarter of it.
    Only for blocks that change no alert links (the lists are read once)."""
    wanted = sorted(set(incident_ids))
    lists: dict[int, list[StoredAlert]] = {incident_id: [] for incident_id in wanted}
    if wanted:  # most ingest batches change no incident
        for row in connection.execute(_ALERT_LISTS, {"ids": wanted}):
            lists[row.incident_id].append(alert_from_row(row))
    connection.info[_PRELOADED] = lists
    try:
        yield
    finally:
        del connection.info[_PRELOADED]


def timeline(connection: Connection, incident_id: int) -> list[TimelineEvent]:
    deferred.flush(connection)
    query = (
        select(timeline_events)
        .where(timeline_events.c.incident_id == incident_id)
        .order_by(timeline_events.c.at, timeline_events.c.id)
    )
    return [
        TimelineEvent(
            incident_id=row.incident_id,
            at=row.at,
            actor=row.actor,
            kind=row.kind,
            message=row.message,
            data=row.data,
        )
        for row in connection.execute(query)
    ]


def count_by_status(connection: Connection) -> dict[str, int]:
    query = select(incidents.c.status, func.count()).group_by(incidents.c.status)
    return {status: count for status, count in connection.execute(query)}
