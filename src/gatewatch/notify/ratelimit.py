"""A token bucket per channel: a throttled notification waits, it is never dropped.

The bucket's state is a row (`store/throttles.py`) taken under a lock in the transaction that
claims the notifications, so every process sending to a channel shares one bucket.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from gatewatch.config.channels import ChannelConfig
from gatewatch.store import throttles


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


def take_shared(
    connection: Connection, channel: ChannelConfig, count: int, now: datetime
) -> list[float]:
    """`take_many` on the channel's shared bucket, in the caller's transaction."""
    tokens, updated = throttles.lock_bucket(connection, channel.id, channel.burst, now)
    bucket = TokenBucket(channel.rate_per_second, float(channel.burst), tokens, updated.timestamp())
    waits = bucket.take_many(count, now.timestamp())
    throttles.save_bucket(connection, channel.id, bucket.tokens, now)
    return waits
