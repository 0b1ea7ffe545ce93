"""The HTTP transport the channels post through: one aiohttp session per process, its
connections kept alive and shared by the channels.

aiohttp rather than httpx on this path: on loopback, httpx spent about 1 ms of CPU per
request (anyio, h11, header models) and delivered about 1 000 requests/s at best, fewer with
more in flight; aiohttp's C parser does the same send in about a quarter of that.
"""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson

from gatewatch.notify.delivery import DeliveryResult, from_status, from_transport_error

JSON_HEADERS = {"Content-Type": "application/json"}
# Of an error reply, only this much is read: it lands in the notification's last_error.
ERROR_BODY_BYTES = 300


class HttpSender:
    """POST a body and map the answer onto a DeliveryResult; never raises for the network."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str] = JSON_HEADERS
    ) -> DeliveryResult:
        try:
            async with self._session.post(url, data=body, headers=dict(headers)) as response:
                if 200 <= response.status < 300:
                    await response.read()
                    return from_status(response.status, None, "")
                text = (await response.content.read(ERROR_BODY_BYTES)).decode(errors="replace")
                return from_status(response.status, response.headers.get("Retry-After"), text)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return from_transport_error(exc)

    async def post_json(self, url: str, payload: Any) -> DeliveryResult:
        return await self.post(url, orjson.dumps(payload))


@asynccontextmanager
async def http_sender(timeout: float, connections: int) -> AsyncIterator[HttpSender]:
    """A sender whose session holds up to `connections` connections, each request bounded by
    `timeout` seconds from connecting to the last byte of the answer."""
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=0, force_close=False)
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=timeout),
        # Vendors' answers are small; a cookie jar or trust_env proxies would only cost time.
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=True,
    ) as session:
        yield HttpSender(session)
