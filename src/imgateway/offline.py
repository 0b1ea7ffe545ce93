"""The durable offline store: messages for users who are not connected, in order."""

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.engine import make_url

metadata = MetaData()
offline_messages = Table(
    "offline_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recipient", String(255), nullable=False, index=True),
    Column("message_id", String(512), nullable=False),
    Column("frame", Text, nullable=False),
)


@dataclass(frozen=True)
class StoredMessage:
    row_id: int
    message_id: str
    frame: dict[str, Any]


T = TypeVar("T")


class _GroupCommit(Generic[T]):
    """Writes that arrive while one transaction runs share the next one: a backlog of ten
    thousand messages costs a few dozen fsyncs, not ten thousand. Callers still wait for
    their own write to be durable."""

    def __init__(self, write: Callable[[list[T]], None]) -> None:
        self._write = write
        self._queue: list[tuple[T, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queue.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await asyncio.to_thread(self._write, [item for item, _ in batch])
            except Exception as exc:
                for _, done in batch:
                    done.set_exception(exc)
            else:
                for _, done in batch:
                    done.set_result(None)


class OfflineStore:
    """SQLite by default, PostgreSQL by URL; calls run in a thread so the loop never blocks."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        self._engine = create_engine(parsed)
        metadata.create_all(self._engine)
        self._puts = _GroupCommit[tuple[str, str, dict[str, Any]]](self._put_many)
        self._removals = _GroupCommit[tuple[str, str]](self._remove_many)

    def _put_many(self, rows: list[tuple[str, str, dict[str, Any]]]) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                insert(offline_messages),
                [
                    {"recipient": r, "message_id": m, "frame": json.dumps(frame)}
                    for r, m, frame in rows
                ],
            )

    def _pending(self, recipient: str) -> list[StoredMessage]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(offline_messages)
                .where(offline_messages.c.recipient == recipient)
                .order_by(offline_messages.c.id)
            )
            return [StoredMessage(r.id, r.message_id, json.loads(r.frame)) for r in rows]

    def _remove_many(self, keys: list[tuple[str, str]]) -> None:
        with self._engine.begin() as connection:
            for recipient, message_id in keys:
                connection.execute(
                    delete(offline_messages).where(
                        offline_messages.c.recipient == recipient,
                        offline_messages.c.message_id == message_id,
                    )
                )

    def _count(self) -> int:
        with self._engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(offline_messages)).scalar_one()
            )

    async def put(self, recipient: str, message_id: str, frame: dict[str, Any]) -> None:
        await self._puts.submit((recipient, message_id, frame))

    async def pending(self, recipient: str) -> list[StoredMessage]:
        return await asyncio.to_thread(self._pending, recipient)

    async def remove(self, recipient: str, message_id: str) -> None:
        await self._removals.submit((recipient, message_id))

    async def count(self) -> int:
        return await asyncio.to_thread(self._count)

    def ping(self) -> None:
        self._count()

    def close(self) -> None:
        self._engine.dispose()
