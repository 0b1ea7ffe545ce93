"""A channel's throttle holds across processes: three dispatchers (as three replicas would
run them) on one database send a channel limited to 5 messages/s (burst 5) no faster than
that in total, and every page arrives: with the buckets in the database, in a real Redis,
and with Redis configured but down (the database's buckets take over)."""

import asyncio
import contextlib
import time
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import select

from gatewatch.clock import SystemClock
from gatewatch.ingest.prometheus_push import PostableAlerts, to_batch
from gatewatch.notify.dispatcher import Dispatcher, build_channels
from gatewatch.notify.http import http_sender
from gatewatch.notify.ratelimit import TokenBucket, shared_throttle
from gatewatch.store.database import create_database_engine, migrate
from gatewatch.store.tables import channel_throttles
from gatewatch.web.deps import Services
from gatewatch.wiring.services import build_services
from tests.conftest import ConfigFactory
from tests.support.paging import WEBHOOK_SECRET
from tests.support.redis import RedisServer
from tests.support.standins import HttpStandIn, webhook_sink

PAGES = 50
RATE, BURST = 5, 5
REPLICAS = 3

pytestmark = pytest.mark.slow


@pytest.fixture
def sink() -> Iterator[HttpStandIn]:
    made = webhook_sink(WEBHOOK_SECRET).start()
    yield made
    made.stop()


@pytest.fixture(params=["database", "redis", "redis down"])
def redis_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """Where the buckets are: None for the database, else a Redis (stopped for "down")."""
    if request.param == "database":
        yield None
        return
    server = RedisServer().start()
    if request.param == "redis down":
        server.stop()
    yield server.url
    server.stop()


@pytest.fixture
def services(
    make_config: ConfigFactory, sink: HttpStandIn, redis_url: str | None
) -> Iterator[Services]:
    config = make_config(
        redis={"url": redis_url} if redis_url is not None else None,
        channels=[
            {
                "id": "hook",
                "type": "webhook",
                "url": sink.url,
                "secret": WEBHOOK_SECRET,
                "rate_per_second": RATE,
                "burst": BURST,
            }
        ],
        severities=[{"name": "critical", "channels": ["hook"]}],
        delivery={"poll_interval": "50ms"},
    )
    database = create_database_engine(config.database_url)
    migrate(database)
    yield build_services(config, database, SystemClock())
    database.dispose()


async def _replicas_deliver(services: Services, sink: HttpStandIn, timeout: float) -> None:
    config = services.config
    stop = asyncio.Event()
    async with http_sender(timeout=5, connections=8) as http:
        with contextlib.ExitStack() as stack:
            loops = [
                asyncio.create_task(
                    Dispatcher(
                        services.runtime,
                        config.delivery,
                        config.channels,
                        build_channels(config.channels, config.delivery, http),
                        # Each its own, as each replica has its own connection to Redis.
                        stack.enter_context(shared_throttle(config.redis)),
                    ).run(stop, asyncio.Event())
                )
                for _ in range(REPLICAS)
            ]
            deadline = time.monotonic() + timeout
            while len(sink.received) < PAGES and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            stop.set()
            await asyncio.gather(*loops)


def test_three_replicas_together_keep_the_channel_rate_and_lose_nothing(
    services: Services, sink: HttpStandIn, redis_url: str | None, request: pytest.FixtureRequest
) -> None:
    alerts = [{"labels": {"alertname": f"Down{n}", "severity": "critical"}} for n in range(PAGES)]
    clock = services.runtime.clock
    services.incidents.ingest(to_batch(PostableAlerts.model_validate(alerts), clock.now()))
    began = time.monotonic()
    asyncio.run(_replicas_deliver(services, sink, timeout=30))
    elapsed = time.monotonic() - began
    assert len(sink.received) == PAGES
    assert len({r["headers"]["x-gatewatch-delivery"] for r in sink.received}) == PAGES
    # BURST at once, then one every 1/RATE s: (PAGES - BURST) / RATE = 9 s at the least.
    assert 9 <= elapsed <= 15, f"{PAGES} pages took {elapsed:.1f}s"
    # Any 25 consecutive pages span at least 3 s: the burst, then 20 tokens at 5/s is 4 s,
    # less up to 1 s of delivery jitter on a loaded machine. Three buckets of their own would
    # have sent 15 at once and the next 10 within 0.7 s.
    arrivals = sorted(r["at"] for r in sink.received)
    for first, last in zip(arrivals, arrivals[24:], strict=False):
        assert last - first >= 3.0, "the replicas together sent faster than the channel rate"
    # The bucket was where it should be: Redis's while it is up, else the database's.
    with services.runtime.database.connect() as connection:
        in_database = connection.execute(select(channel_throttles.c.channel)).scalars().all()
    in_redis = redis_url is not None and request.node.callspec.params["redis_url"] == "redis"
    assert in_database == ([] if in_redis else ["hook"])
    if in_redis:
        with redis.Redis.from_url(redis_url) as client:
            assert client.exists("gatewatch:throttle:hook")


def test_throttled_sends_wait_in_turn_one_token_apart() -> None:
    bucket = TokenBucket.full(rate=2.0, capacity=2, now=0.0)
    assert bucket.take_many(5, 0.0) == [0.0, 0.0, 0.5, 1.0, 1.5]
