"""The dispatcher as a pipeline: the real dispatcher loop, real channels and real HTTP
sinks; what it must keep is that one slow channel delays only itself, that a row is never
sent after its lease could have run out, and that stopping loses no outcome."""

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from gatewatch.ingest.prometheus_push import PostableAlerts, to_batch
from gatewatch.notify.dispatcher import CLAIM_SLACK, Dispatcher, build_channels
from gatewatch.notify.http import http_sender
from gatewatch.store import outbox
from gatewatch.store.database import create_database_engine, migrate, read_transaction
from gatewatch.web.deps import Services
from gatewatch.wiring.services import build_services
from tests.conftest import ConfigFactory
from tests.support.clock import ManualClock
from tests.support.paging import WEBHOOK_SECRET
from tests.support.standins import webhook_sink

SLOW_ANSWER = 2.0  # seconds the slow sink takes to answer each request


class Sinks:
    def __init__(self) -> None:
        self.fast = webhook_sink(WEBHOOK_SECRET).start()
        self.slow = webhook_sink(WEBHOOK_SECRET).start()
        self.slow.plan.delay = SLOW_ANSWER

    def stop(self) -> None:
        self.fast.stop()
        self.slow.stop()


@pytest.fixture
def sinks() -> Iterator[Sinks]:
    made = Sinks()
    yield made
    made.stop()


@pytest.fixture
def services(make_config: ConfigFactory, clock: ManualClock, sinks: Sinks) -> Iterator[Services]:
    hook = {"type": "webhook", "secret": WEBHOOK_SECRET, "rate_per_second": 1000, "burst": 1000}
    config = make_config(
        channels=[
            {"id": "fast", "url": sinks.fast.url, **hook},
            {"id": "slow", "url": sinks.slow.url, **hook},
        ],
        severities=[
            {"name": "critical", "channels": ["fast"]},
            {"name": "warning", "channels": ["slow"]},
        ],
        delivery={"in_flight_per_channel": 1, "poll_interval": "50ms"},
    )
    database = create_database_engine(config.database_url)
    migrate(database)
    yield build_services(config, database, clock)
    database.dispose()


def _fire(services: Services, clock: ManualClock, severity: str, count: int) -> None:
    alerts = [
        {"labels": {"alertname": f"Down-{severity}-{n}", "severity": severity}}
        for n in range(count)
    ]
    services.incidents.ingest(to_batch(PostableAlerts.model_validate(alerts), clock.now()))


def _statuses(services: Services) -> dict[str, list[tuple[str, int]]]:
    with read_transaction(services.runtime.database) as connection:
        found = outbox.list_notifications(connection, None, None, 1000)
    by_channel: dict[str, list[tuple[str, int]]] = {}
    for notification in found:
        by_channel.setdefault(notification.channel, []).append(
            (notification.status, notification.attempts)
        )
    return by_channel


async def _until(check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def _run_dispatcher(services: Services, scenario: object) -> None:
    """Run the dispatcher's own loop while `scenario(stop)` acts, then stop it."""
    config = services.config
    async with http_sender(timeout=10, connections=8) as http:
        dispatcher = Dispatcher(
            services.runtime,
            config.delivery,
            config.channels,
            build_channels(config.channels, config.delivery, http),
        )
        stop, wake = asyncio.Event(), asyncio.Event()
        loop = asyncio.create_task(dispatcher.run(stop, wake))
        try:
            await scenario(stop)  # type: ignore[operator]
        finally:
            stop.set()
            await asyncio.wait_for(loop, timeout=30)


def test_a_slow_channel_holds_up_only_its_own_sends(
    services: Services, clock: ManualClock, sinks: Sinks
) -> None:
    _fire(services, clock, "warning", 2)  # two sends to the slow channel, one at a time
    _fire(services, clock, "critical", 20)

    async def scenario(_: asyncio.Event) -> None:
        await _until(lambda: len(sinks.fast.received) == 20, SLOW_ANSWER)
        assert sinks.slow.received == []  # the slow sink has not answered even once yet

    asyncio.run(_run_dispatcher(services, scenario))
    statuses = _statuses(services)
    assert statuses["fast"] == [("delivered", 1)] * 20


def test_stopping_finishes_the_sends_under_way_and_records_them(
    services: Services, clock: ManualClock, sinks: Sinks
) -> None:
    _fire(services, clock, "warning", 1)
    started = time.monotonic()

    async def scenario(_: asyncio.Event) -> None:
        await _until(lambda: time.monotonic() - started > SLOW_ANSWER / 2, SLOW_ANSWER)

    asyncio.run(_run_dispatcher(services, scenario))  # stops while the send is in flight
    assert len(sinks.slow.received) == 1
    assert _statuses(services)["slow"] == [("delivered", 1)]


def test_a_row_whose_lease_ran_out_while_it_waited_goes_back_unsent(
    services: Services, clock: ManualClock, sinks: Sinks
) -> None:
    """The second row waits for the slow channel's one slot; meanwhile its lease is nearly
    over (the clock jumps), so it is put back as pending without an attempt and sent by a
    later claim under a new lease: each arrives once, each with one attempt."""
    _fire(services, clock, "warning", 2)

    async def scenario(_: asyncio.Event) -> None:
        await asyncio.sleep(0.3)  # both claimed; the first is in flight, the second waits
        assert sinks.slow.received == []
        clock.advance(CLAIM_SLACK + timedelta(seconds=1))
        await _until(lambda: len(sinks.slow.received) == 2, 4 * SLOW_ANSWER)
        await _until(lambda: _statuses(services)["slow"] == [("delivered", 1), ("delivered", 1)], 2)

    asyncio.run(_run_dispatcher(services, scenario))
    ids = [r["headers"]["x-gatewatch-delivery"] for r in sinks.slow.received]
    assert len(ids) == len(set(ids)) == 2
