"""Deduplication of re-sent message ids per sender: in memory, or Redis with SET NX EX."""

import time
from typing import Protocol

import redis.asyncio as redis_asyncio

TTL_SECONDS = 7 * 24 * 3600


class Deduplicator(Protocol):
    async def claim(self, key: str, seq: int) -> int | None:
        """Remember `key` -> `seq`; if the key was seen before, return the first seq instead."""
        ...

    async def close(self) -> None: ...


class MemoryDeduplicator:
    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self._seen: dict[str, tuple[int, float]] = {}
        self._ttl = ttl

    async def claim(self, key: str, seq: int) -> int | None:
        now = time.monotonic()
        known = self._seen.get(key)
        if known is not None and known[1] > now:
            return known[0]
        self._seen[key] = (seq, now + self._ttl)
        if len(self._seen) % 10_000 == 0:
            self._seen = {k: v for k, v in self._seen.items() if v[1] > now}
        return None

    async def close(self) -> None:
        return None


class RedisDeduplicator:
    def __init__(self, url: str, ttl: int = TTL_SECONDS) -> None:
        self._redis = redis_asyncio.from_url(url)
        self._ttl = ttl

    async def claim(self, key: str, seq: int) -> int | None:
        name = f"imgw:dedup:{key}"
        if await self._redis.set(name, seq, nx=True, ex=self._ttl):
            return None
        existing = await self._redis.get(name)
        return int(existing) if existing is not None else None

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()
