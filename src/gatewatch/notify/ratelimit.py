"""A token bucket per channel: a throttled notification waits, it is never dropped.

Every process sending to a channel shares one bucket. Its state is a row
(`store/throttles.py`) taken under a lock in the transaction that claims the notifications,
or, with `redis.url` configured, a Redis hash changed in a WATCH/MULTI transaction (the same
arithmetic, so the same semantics). While Redis is down the database's bucket takes over.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import redis
from sqlalchemy import Connection

from gatewatch.config.channels import ChannelConfig
from gatewatch.config.schema import RedisConfig
from gatewatch.store import throttles

log = logging.getLogger(__name__)
# A bucket left alone this long is full again at any rate we allow; Redis may forget it.
_IDLE_SECONDS = 3600


@dataclass
class TokenBucket:
    rate: float
    capacity: float
    tokens: float
    updated: float

    @classmethod
    def full(cls, rate: float, capacity: int, now: float) -> "TokenBucket":
        return cls(rate, float(capacity), float(capacity), now)

    def take(self, now: float) -> float:
        """Take a token; 0 if one was there, else the seconds until one will be."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate

    def take_many(self, count: int, now: float) -> list[float]:
        """Take a token for each of `count` sends: 0 for those that may go now; the others
        wait in turn, one token-time apart, so they come back spread out, not all at once."""
        waits = []
        short = 0
        for _ in range(count):
            wait = self.take(now)
            if wait > 0:
                wait += short / self.rate
                short += 1
            waits.append(wait)
        return waits


class SharedThrottle(Protocol):
    def take(
        self, connection: Connection, channel: ChannelConfig, count: int, now: datetime
    ) -> list[float]:
        """`TokenBucket.take_many` on the channel's bucket shared by every process."""
        ...


class DatabaseThrottle:
    """The bucket is a row, locked in the caller's transaction."""

    def take(
        self, connection: Connection, channel: ChannelConfig, count: int, now: datetime
    ) -> list[float]:
        tokens, updated = throttles.lock_bucket(connection, channel.id, channel.burst, now)
        bucket = TokenBucket(
            channel.rate_per_second, float(channel.burst), tokens, updated.timestamp()
        )
        waits = bucket.take_many(count, now.timestamp())
        throttles.save_bucket(connection, channel.id, bucket.tokens, now)
        return waits


class RedisThrottle:
    """The bucket is a Redis hash; a concurrent change retries the transaction."""

    def __init__(self, client: redis.Redis, fallback: SharedThrottle) -> None:
        self._client = client
        self._fallback = fallback
        self._down = False

    def take(
        self, connection: Connection, channel: ChannelConfig, count: int, now: datetime
    ) -> list[float]:
        try:
            waits = self._take(channel, count, now.timestamp())
        except redis.RedisError as exc:
            if not self._down:
                log.warning("throttles: Redis unavailable, using the database's: %s", exc)
                self._down = True
            return self._fallback.take(connection, channel, count, now)
        if self._down:
            log.info("throttles: Redis available again")
            self._down = False
        return waits

    def _take(self, channel: ChannelConfig, count: int, now: float) -> list[float]:
        key = f"gatewatch:throttle:{channel.id}"
        with self._client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]  # unannotated upstream
                    tokens, updated = pipe.hmget(key, ["tokens", "updated"])
                    bucket = (
                        TokenBucket.full(channel.rate_per_second, channel.burst, now)
                        if tokens is None or updated is None
                        else TokenBucket(
                            channel.rate_per_second,
                            float(channel.burst),
                            float(tokens),
                            float(updated),
                        )
                    )
                    waits = bucket.take_many(count, now)
                    pipe.multi()
                    pipe.hset(key, mapping={"tokens": bucket.tokens, "updated": bucket.updated})
                    pipe.expire(key, _IDLE_SECONDS)
                    pipe.execute()
                    return waits
                except redis.WatchError:
                    continue  # another process took tokens meanwhile: count again


@contextmanager
def shared_throttle(config: RedisConfig | None) -> Iterator[SharedThrottle]:
    """The database's buckets, or Redis's when it is configured (closed at the end)."""
    if config is None:
        yield DatabaseThrottle()
        return
    # Short timeouts: a claim waits on this, and the database's bucket is there meanwhile.
    client = redis.Redis.from_url(config.url, socket_timeout=1, socket_connect_timeout=1)
    try:
        yield RedisThrottle(client, DatabaseThrottle())
    finally:
        client.close()
