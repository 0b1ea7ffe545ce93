"""The load generator: simulated users that send to random peers and ACK what they get.

It measures from the client side, independently of the server's metrics, so the two can
be compared.
"""

import asyncio
import json
import random
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from imgateway.auth import make_token
from imgateway.search import INDEXES

# Besides messages, every SEARCH_EVERY-th send also searches and every ROOM_EVERY-th opens one
# of ROOMS group conversations, so the search and conversation metrics see traffic too.
SEARCH_EVERY = 10
ROOM_EVERY = 25
ROOMS = 10


@dataclass
class LoadReport:
    users: int
    connected: int
    connection_errors: int
    sent: int
    accepted: int
    delivered: int
    duplicates_seen: int
    lost: int
    latency_ms: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Tally:
    sent_at: dict[str, float] = field(default_factory=dict)
    accepted: set[str] = field(default_factory=set)
    received_at: dict[str, float] = field(default_factory=dict)
    duplicates: int = 0
    connection_errors: int = 0

    def latencies_ms(self) -> list[float]:
        return [
            (self.received_at[k] - self.sent_at[k]) * 1000
            for k in self.received_at
            if k in self.sent_at
        ]


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))], 2)

    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1], 2),
    }


async def _reader(user: str, socket: ClientConnection, tally: _Tally) -> None:
    try:
        async for raw in socket:
            frame = json.loads(raw)
            if frame.get("type") == "message":
                key = frame["id"]
                if key in tally.received_at:
                    tally.duplicates += 1
                else:
                    tally.received_at[key] = time.monotonic()
                await socket.send(json.dumps({"type": "ack", "id": key}))
            elif frame.get("type") == "sent":
                tally.accepted.add(f"{user}:{frame['id']}")
    except ConnectionClosed:
        return


async def run_load(
    url: str,
    users: int,
    rate: float,
    duration: float,
    secret: str,
    on_progress: Callable[[int, int, float | None], None] | None = None,
    grace: float = 3.0,
) -> LoadReport:
    """Connect `users`, send `rate` messages/s for `duration` s, wait `grace` s, report."""
    tally = _Tally()
    sockets: dict[str, ClientConnection] = {}
    names = [f"load-{n}" for n in range(users)]

    async def open_one(name: str) -> None:
        token = make_token(name, secret, 3600, time.time())
        try:
            sockets[name] = await connect(f"{url}?token={token}", open_timeout=10, max_queue=None)
        except (OSError, InvalidStatus, TimeoutError):
            tally.connection_errors += 1

    for first in range(0, users, 200):
        await asyncio.gather(*(open_one(n) for n in names[first : first + 200]))
    readers = [asyncio.create_task(_reader(n, s, tally)) for n, s in sockets.items()]
    senders = list(sockets)
    rng = random.Random(7)
    started = time.monotonic()
    interval = 1.0 / rate
    count = 0
    while len(senders) > 1:
        now = time.monotonic()
        if now - started >= duration:
            break
        due = int((now - started) / interval) + 1
        while count < due:
            sender, peer = rng.sample(senders, 2)
            client_id = uuid.uuid4().hex[:16]
            tally.sent_at[f"{sender}:{client_id}"] = time.monotonic()
            frames: list[dict[str, Any]] = [
                {"type": "send", "id": client_id, "to": peer, "body": "x" * 64}
            ]
            if count % SEARCH_EVERY == 0:
                index = INDEXES[count // SEARCH_EVERY % len(INDEXES)]
                query = peer if index == "conversations" else "x"
                frames.append({"type": "search", "index": index, "query": query})
            if count % ROOM_EVERY == 0:
                room = f"load-room-{rng.randrange(ROOMS)}"
                frames.append({"type": "create", "group": room, "members": [peer]})
            try:
                for frame in frames:
                    await sockets[sender].send(json.dumps(frame))
            except ConnectionClosed:
                tally.connection_errors += 1
            count += 1
        if on_progress is not None and count % 50 == 0:
            latencies = tally.latencies_ms()
            p99 = _percentiles(latencies[-2000:]).get("p99") if latencies else None
            on_progress(count, len(tally.received_at), p99)
        await asyncio.sleep(min(interval, 0.01))
    deadline = time.monotonic() + grace
    # In flight: sends not yet answered, accepted messages not yet received.
    while time.monotonic() < deadline and (
        len(tally.accepted) < count or len(tally.received_at) < len(tally.accepted)
    ):
        await asyncio.sleep(0.05)
    for socket in sockets.values():
        await socket.close()
    await asyncio.gather(*readers, return_exceptions=True)
    if on_progress is not None:
        on_progress(count, len(tally.received_at), _percentiles(tally.latencies_ms()).get("p99"))
    received = set(tally.received_at)
    return LoadReport(
        users=users,
        connected=len(sockets),
        connection_errors=tally.connection_errors,
        sent=count,
        accepted=len(tally.accepted),
        delivered=len(received),
        duplicates_seen=tally.duplicates,
        lost=len(tally.accepted - received),
        latency_ms=_percentiles(tally.latencies_ms()),
    )
