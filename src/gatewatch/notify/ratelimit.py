"""A token bucket per channel: a throttled notification waits, it is never dropped."""

from dataclasses import dataclass


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
