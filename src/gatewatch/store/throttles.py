"""The rows behind the channels' shared token buckets; the arithmetic is the dispatcher's."""

from datetime import datetime

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from gatewatch.store.tables import channel_throttles

_LOCK = (
    select(channel_throttles.c.tokens, channel_throttles.c.updated_at)
    .where(channel_throttles.c.channel == bindparam("channel"))
    .with_for_update()
)
_SAVE = (
    update(channel_throttles)
    .where(channel_throttles.c.channel == bindparam("of"))
    .values(tokens=bindparam("counted"), updated_at=bindparam("at"))
)
_CREATE = {
    "postgresql": postgresql.insert(channel_throttles).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(channel_throttles).on_conflict_do_nothing(),
}


def lock_bucket(
    connection: Connection, channel: str, capacity: float, now: datetime
) -> tuple[float, datetime]:
    """The channel's tokens and when they were counted, locked until this transaction ends
    (another process taking tokens for the channel waits); a full bucket the first time."""
    row = connection.execute(_LOCK, {"channel": channel}).one_or_none()
    if row is None:  # the first time: another process may create it meanwhile, so insert-or-not
        connection.execute(
            _CREATE[connection.dialect.name],
            {"channel": channel, "tokens": capacity, "updated_at": now},
        )
        row = connection.execute(_LOCK, {"channel": channel}).one()
    return row.tokens, row.updated_at


def save_bucket(connection: Connection, channel: str, tokens: float, at: datetime) -> None:
    connection.execute(_SAVE, {"of": channel, "counted": tokens, "at": at})
