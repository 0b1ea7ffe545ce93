"""Queries over heartbeats: one row per configured heartbeat, shared by every replica."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from gatewatch.store.tables import heartbeats


@dataclass(frozen=True)
class HeartbeatState:
    name: str
    created_at: datetime
    last_seen_at: datetime | None
    missed: bool


def ensure(connection: Connection, names: Iterable[str], now: datetime) -> None:
    """A row for each heartbeat; one configured now starts its first interval now."""
    rows = [
        {"name": name, "created_at": now, "last_seen_at": None, "missed": False} for name in names
    ]
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(dialect.insert(heartbeats).on_conflict_do_nothing(), rows)


def seen(connection: Connection, names: Iterable[str], now: datetime) -> None:
    wanted = list(names)
    if wanted:
        connection.execute(
            update(heartbeats).where(heartbeats.c.name.in_(wanted)).values(last_seen_at=now)
        )


def set_missed(connection: Connection, name: str, missed: bool) -> None:
    connection.execute(update(heartbeats).where(heartbeats.c.name == name).values(missed=missed))


def load(connection: Connection) -> dict[str, HeartbeatState]:
    return {
        row.name: HeartbeatState(row.name, row.created_at, row.last_seen_at, row.missed)
        for row in connection.execute(select(heartbeats))
    }
