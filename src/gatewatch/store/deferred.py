"""Deferred writes: inside `deferred_writes`, timeline events and queued notifications are
kept in memory and written with one bulk statement each when the block ends.

A timer pass or an ingest unit writes hundreds of small rows (an event and a page per step);
one statement per row was most of their cost. Reads of those tables within the same
transaction call `flush` first, so the transaction still reads its own writes. A block that
raises drops what it kept: its savepoint or transaction is rolled back anyway.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection

Writer = Callable[[Connection, list[Any]], None]
_KEY = "gatewatch_deferred_writes"


def write(connection: Connection, writer: Writer, rows: list[Any]) -> None:
    """Write `rows` with `writer` now, or at the end of the enclosing deferred block."""
    if not rows:
        return
    queues: dict[Writer, list[Any]] | None = connection.info.get(_KEY)
    if queues is None:
        writer(connection, rows)
    else:
        queues.setdefault(writer, []).extend(rows)


def flush(connection: Connection) -> None:
    """Write everything kept so far (before a read that must see it)."""
    queues: dict[Writer, list[Any]] | None = connection.info.get(_KEY)
    while queues:
        writer = next(iter(queues))
        writer(connection, queues.pop(writer))


@contextmanager
def deferred_writes(connection: Connection) -> Iterator[None]:
    if _KEY in connection.info:  # nested: the outer block writes
        yield
        return
    info = connection.info  # kept: a connection that broke meanwhile refuses to hand it out
    info[_KEY] = {}
    try:
        yield
        flush(connection)
    finally:
        info.pop(_KEY, None)  # invalidating a connection empties its info
