"""Queries over console sessions and failed sign-ins."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from gatewatch.store.tables import console_sessions, sign_in_failures


@dataclass(frozen=True)
class StoredSession:
    name: str
    role: str
    expires_at: datetime
    revoked_at: datetime | None


def create(
    connection: Connection, id_hash: str, name: str, role: str, now: datetime, expires: datetime
) -> None:
    connection.execute(
        insert(console_sessions).values(
            id_hash=id_hash, name=name, role=role, created_at=now, expires_at=expires
        )
    )


def get(connection: Connection, id_hash: str) -> StoredSession | None:
    row = connection.execute(
        select(console_sessions).where(console_sessions.c.id_hash == id_hash)
    ).first()
    return StoredSession(row.name, row.role, row.expires_at, row.revoked_at) if row else None


def revoke(connection: Connection, id_hash: str, now: datetime) -> None:
    connection.execute(
        update(console_sessions)
        .where(console_sessions.c.id_hash == id_hash, console_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def failures_since(connection: Connection, keys: Iterable[str], since: datetime) -> int:
    """The most failed sign-ins of any one key (a user, an address) since then."""
    query = (
        select(func.count())
        .select_from(sign_in_failures)
        .where(sign_in_failures.c.key.in_(list(keys)), sign_in_failures.c.at >= since)
        .group_by(sign_in_failures.c.key)
    )
    return max((row[0] for row in connection.execute(query)), default=0)


def record_failure(connection: Connection, keys: Iterable[str], now: datetime) -> None:
    connection.execute(insert(sign_in_failures), [{"key": key, "at": now} for key in keys])


def forget_failures(connection: Connection, before: datetime) -> None:
    connection.execute(delete(sign_in_failures).where(sign_in_failures.c.at < before))
