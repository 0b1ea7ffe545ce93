"""Who is connected, per-conversation order, ACK tracking, offline fallback, faults.

Nothing accepted is dropped silently: a message is ACKed live, or kept in the offline
store, or counted as lost (injected failures only).
"""

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from imgateway.breaker import CircuitBreaker
from imgateway.dedup import Deduplicator
from imgateway.metrics import GatewayMetrics
from imgateway.offline import OfflineStore
from imgateway.search import INDEXES, SearchIndex

MAX_BODY = 64 * 1024
MAX_MEMBERS = 500
REGISTRY_TTL = 300.0


class Peer(Protocol):
    user: str

    async def send(self, frame: dict[str, Any]) -> None: ...


@dataclass
class Faults:
    """Injected by the test endpoints only."""

    latency: float = 0.0
    failure_rate: float = 0.0
    cold_cache: bool = False  # every registry lookup misses, as after an eviction storm


@dataclass
class Pending:
    accepted_at: float
    frame: dict[str, Any]
    from_store: bool
    timer: asyncio.TimerHandle | None = None


@dataclass
class Counters:
    received: int = 0
    delivered: int = 0
    offline: int = 0
    lost: int = 0
    ack_timeouts: int = 0
    duplicates: int = 0
    connection_errors: dict[str, int] = field(default_factory=dict)


class FrameError(Exception):
    """A client frame we cannot act on; answered with an error frame, the connection stays."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Hub:
    def __init__(
        self,
        metrics: GatewayMetrics,
        dedup: Deduplicator,
        offline: OfflineStore,
        breaker: CircuitBreaker,
        ack_timeout: float = 5.0,
        rng: random.Random | None = None,
    ) -> None:
        self.metrics = metrics
        self.dedup = dedup
        self.offline = offline
        self.breaker = breaker
        self.ack_timeout = ack_timeout
        self.faults = Faults()
        self.counters = Counters()
        self.draining = False
        self._rng = rng or random.Random()
        self._peers: dict[str, set[Peer]] = {}
        self._groups: dict[str, set[str]] = {}
        self.search_index = SearchIndex()
        self._sequences: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._user_locks: dict[str, asyncio.Lock] = {}
        self._pending: dict[tuple[str, str], Pending] = {}
        self._registry: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- connections -------------------------------------------------------------------

    @property
    def active(self) -> int:
        return sum(len(peers) for peers in self._peers.values())

    def all_peers(self) -> list[Peer]:
        return [peer for peers in self._peers.values() for peer in peers]

    def _user_lock(self, user: str) -> asyncio.Lock:
        return self._user_locks.setdefault(user, asyncio.Lock())

    async def connected(self, peer: Peer) -> None:
        """Register the peer and hand over its stored messages, in the order they were kept."""
        async with self._user_lock(peer.user):
            self._peers.setdefault(peer.user, set()).add(peer)
            self.metrics.connections_opened.inc()
            self.metrics.active_connections.set(self.active)
            for stored in await self.offline.pending(peer.user):
                await self._send_live(peer.user, stored.frame, time.monotonic(), from_store=True)

    def disconnected(self, peer: Peer) -> None:
        peers = self._peers.get(peer.user)
        if peers is not None:
            peers.discard(peer)
            if not peers:
                del self._peers[peer.user]
        self.metrics.connections_closed.inc()
        self.metrics.active_connections.set(self.active)

    def connection_error(self, reason: str) -> None:
        self.metrics.connection_errors.labels(reason).inc()
        errors = self.counters.connection_errors
        errors[reason] = errors.get(reason, 0) + 1

    # -- frames --------------------------------------------------------------------------

    async def handle(self, peer: Peer, frame: Any) -> dict[str, Any] | None:
        """Act on one client frame; the answer to send back, if any."""
        if not isinstance(frame, dict):
            raise FrameError("bad_frame", "a frame is a JSON object")
        kind = frame.get("type")
        if kind == "ping":
            return {"type": "pong"}
        if kind == "ack":
            await self._acked(peer.user, _text(frame, "id"))
            return None
        if kind == "join":
            self._join(_text(frame, "group"), [peer.user])
            return {"type": "joined", "group": frame["group"]}
        if kind == "create":
            return self._create(peer.user, frame)
        if kind == "search":
            return await self._search(peer.user, frame)
        if kind == "send":
            return await self._send(peer.user, frame)
        raise FrameError("unknown_type", f"unknown frame type {kind!r}")

    def _join(self, group: str, users: list[str]) -> None:
        self._groups.setdefault(group, set()).update(users)
        for user in users:
            self.search_index.joined(user, f"group:{group}")

    def _injected_failure(self) -> bool:
        return bool(self.faults.failure_rate) and self._rng.random() < self.faults.failure_rate

    def _create(self, creator: str, frame: dict[str, Any]) -> dict[str, Any]:
        """Open a group conversation with its members; opening one that exists adds the
        members (as chat APIs open an existing conversation rather than fail)."""
        created = self.metrics.conversations_created
        try:
            group = _text(frame, "group")
            members = frame.get("members")
            if not isinstance(members, list) or not 0 < len(members) <= MAX_MEMBERS:
                raise FrameError("bad_members", f"members: a list of 1 to {MAX_MEMBERS} users")
            users = [_name(member, "member") for member in members]
        except FrameError:
            created.labels("rejected").inc()
            raise
        if self._injected_failure():
            created.labels("failed").inc()
            raise FrameError("unavailable", "the conversation could not be created; retry")
        existed = group in self._groups
        self._join(group, [creator, *users])
        created.labels("success").inc()
        return {"type": "created", "group": group, "existed": existed}

    async def _search(self, user: str, frame: dict[str, Any]) -> dict[str, Any]:
        index, query = frame.get("index"), _text(frame, "query")
        if index not in INDEXES:
            raise FrameError("bad_index", f"index must be one of {', '.join(INDEXES)}")
        started = time.perf_counter()
        try:
            if self.faults.latency:
                await asyncio.sleep(self.faults.latency)
            if self._injected_failure():
                self.metrics.searches.labels(index, "failed").inc()
                raise FrameError("search_failed", "the search failed; retry")
            hits = self.search_index.search(user, index, query)
        finally:
            self.metrics.search_latency.labels(index).observe(time.perf_counter() - started)
        self.metrics.searches.labels(index, "success").inc()
        return {"type": "results", "index": index, "query": query, "hits": hits}

    async def _send(self, sender: str, frame: dict[str, Any]) -> dict[str, Any]:
        client_id = _text(frame, "id")
        body = frame.get("body")
        if not isinstance(body, str) or len(body) > MAX_BODY:
            raise FrameError("bad_body", f"body must be a string of at most {MAX_BODY} chars")
        to, group = frame.get("to"), frame.get("group")
        if (to is None) == (group is None):
            raise FrameError("bad_target", "give exactly one of `to` or `group`")
        if to is not None:
            recipients = [_text(frame, "to")]
            conversation = "dm:" + ":".join(sorted((sender, recipients[0])))
            for party in (sender, recipients[0]):
                self.search_index.joined(party, conversation)
        else:
            name = _text(frame, "group")
            recipients = sorted(self._groups.get(name, set()) - {sender})
            conversation = f"group:{name}"
        self.metrics.messages_received.inc()
        self.counters.received += 1
        async with self._locks.setdefault(conversation, asyncio.Lock()):
            seq = self._sequences.get(conversation, 0) + 1
            first = await self.dedup.claim(f"{sender}:{client_id}", seq)
            if first is not None:
                self.metrics.duplicates.inc()
                self.counters.duplicates += 1
                return {"type": "sent", "id": client_id, "seq": first, "duplicate": True}
            self._sequences[conversation] = seq
        accepted_at = time.monotonic()
        message = {
            "type": "message",
            "id": f"{sender}:{client_id}",
            "from": sender,
            "seq": seq,
            "body": body,
            "ts": time.time(),
        }
        if group is not None:
            message["group"] = group
        self.search_index.added(conversation, message)
        for recipient in recipients:
            self._spawn(self._deliver(recipient, message, accepted_at))
        return {"type": "sent", "id": client_id, "seq": seq}

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- delivery ------------------------------------------------------------------------

    def _registry_lookup(self, user: str) -> None:
        """Where a user lives: the seeds' registry lookups, cached for five minutes."""
        now = time.monotonic()
        if not self.faults.cold_cache and self._registry.get(user, 0.0) > now:
            self.metrics.registry_cache_hits.inc()
        else:
            self.metrics.registry_cache_misses.inc()
            self._registry[user] = now + REGISTRY_TTL

    async def _deliver(self, recipient: str, message: dict[str, Any], accepted_at: float) -> None:
        self._registry_lookup(recipient)
        # Under the recipient's lock, a write to the store and a connect reading it cannot
        # interleave: the message is either read by the connect or sees the new peer.
        async with self._user_lock(recipient):
            if recipient not in self._peers:
                await self._store(recipient, message)
                return
            if self.breaker.open:
                # Durable first: stored, then handed over from the store; nothing to lose.
                await self._store(recipient, message)
                await self._send_live(recipient, message, accepted_at, from_store=True)
                return
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        if self._injected_failure():
            self.metrics.messages_lost.inc()
            self.metrics.messages_delivered.labels("failed").inc()
            self.counters.lost += 1
            if self.breaker.record(failed=True):
                self.metrics.circuit_breaker_state.set(1)
            return
        self.breaker.record(failed=False)
        await self._send_live(recipient, message, accepted_at, from_store=False)

    async def _send_live(
        self, recipient: str, message: dict[str, Any], accepted_at: float, from_store: bool
    ) -> None:
        key = (recipient, message["id"])
        if from_store and key in self._pending:
            return  # already on its way from the store (connect and late write raced)
        pending = Pending(accepted_at, message, from_store)
        previous = self._pending.pop(key, None)
        if previous is not None and previous.timer is not None:
            previous.timer.cancel()
        self._pending[key] = pending
        pending.timer = asyncio.get_running_loop().call_later(
            self.ack_timeout, lambda: self._spawn(self._ack_timed_out(key))
        )
        for peer in list(self._peers.get(recipient, ())):
            try:
                await peer.send(message)
            except Exception:
                continue

    async def _acked(self, user: str, message_id: str) -> None:
        pending = self._pending.pop((user, message_id), None)
        if pending is None:
            return
        if pending.timer is not None:
            pending.timer.cancel()
        self.metrics.acks.inc()
        self.metrics.messages_delivered.labels("success").inc()
        self.counters.delivered += 1
        if pending.from_store:
            # Off the connection's read loop: a reconnect with a large backlog ACKs faster
            # than one transaction per message could keep up with, and the ACK time-out runs.
            self._spawn(self._forget_stored(user, message_id))
        else:
            self.metrics.delivery_latency.observe(time.monotonic() - pending.accepted_at)

    async def _forget_stored(self, user: str, message_id: str) -> None:
        await self.offline.remove(user, message_id)
        self.metrics.offline_queue_size.dec()

    async def _ack_timed_out(self, key: tuple[str, str]) -> None:
        pending = self._pending.pop(key, None)
        if pending is None:
            return
        self.metrics.ack_timeouts.inc()
        self.counters.ack_timeouts += 1
        if not pending.from_store:
            await self._store(key[0], pending.frame)

    async def _store(self, recipient: str, message: dict[str, Any]) -> None:
        await self.offline.put(recipient, message["id"], message)
        self.metrics.offline_queue_size.inc()
        self.metrics.messages_delivered.labels("offline").inc()
        self.counters.offline += 1

    async def settle(self) -> None:
        """Wait for deliveries in flight (tests and drains)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _text(frame: dict[str, Any], key: str) -> str:
    return _name(frame.get(key), key)


def _name(value: Any, key: str) -> str:
    """A frame's name-like field (an id, user, group or query), checked."""
    if not isinstance(value, str) or not value or len(value) > 255:
        raise FrameError(f"bad_{key}", f"`{key}` must be a non-empty string of at most 255 chars")
    return value
