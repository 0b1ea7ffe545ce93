"""Queries over on-call overrides."""

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from gatewatch.model import Override
from gatewatch.store.tables import oncall_overrides


def list_overrides(
    connection: Connection, schedule_id: str | None = None, ending_after: datetime | None = None
) -> list[Override]:
    query = select(oncall_overrides).order_by(oncall_overrides.c.starts_at, oncall_overrides.c.id)
    if schedule_id is not None:
        query = query.where(oncall_overrides.c.schedule_id == schedule_id)
    if ending_after is not None:
        query = query.where(oncall_overrides.c.ends_at > ending_after)
    return [_to_override(row) for row in connection.execute(query)]


def _to_override(row: Any) -> Override:
    return Override(
        id=row.id,
        schedule_id=row.schedule_id,
        person_id=row.person_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        created_by=row.created_by,
        layer=row.layer,
    )


def add_override(
    connection: Connection,
    schedule_id: str,
    person_id: str,
    starts_at: datetime,
    ends_at: datetime,
    created_by: str,
    now: datetime,
    layer: str | None = None,
) -> Override:
    row = connection.execute(
        insert(oncall_overrides)
        .values(
            schedule_id=schedule_id,
            person_id=person_id,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=created_by,
            created_at=now,
            layer=layer,
        )
        .returning(oncall_overrides.c.id)
    ).one()
    return Override(row.id, schedule_id, person_id, starts_at, ends_at, created_by, layer)


def overlapping(
    connection: Connection,
    schedule_id: str,
    starts_at: datetime,
    ends_at: datetime,
    except_id: int | None = None,
    layer: str | None = None,
) -> list[Override]:
    """The overrides of the schedule (of the same layer, or whole) meeting [starts_at, ends_at)."""
    same_layer = (
        oncall_overrides.c.layer.is_(None) if layer is None else oncall_overrides.c.layer == layer
    )
    query = (
        select(oncall_overrides)
        .where(
            oncall_overrides.c.schedule_id == schedule_id,
            same_layer,
            oncall_overrides.c.starts_at < ends_at,
            oncall_overrides.c.ends_at > starts_at,
        )
        .with_for_update()
    )
    if except_id is not None:
        query = query.where(oncall_overrides.c.id != except_id)
    return [_to_override(row) for row in connection.execute(query)]


def get_override(connection: Connection, override_id: int) -> Override | None:
    row = connection.execute(
        select(oncall_overrides).where(oncall_overrides.c.id == override_id)
    ).first()
    return _to_override(row) if row is not None else None


def set_end(connection: Connection, override_id: int, ends_at: datetime) -> None:
    connection.execute(
        update(oncall_overrides).where(oncall_overrides.c.id == override_id).values(ends_at=ends_at)
    )


def delete_override(connection: Connection, override_id: int) -> bool:
    result = connection.execute(
        delete(oncall_overrides).where(oncall_overrides.c.id == override_id)
    )
    return result.rowcount > 0
