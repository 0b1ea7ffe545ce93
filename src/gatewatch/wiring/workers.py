"""The background loops of a gatewatch process: due timers, the outbox, the SLO monitor.

Each re-scans the database every cycle, so a restart simply carries on where the rows say.
Each runs on its own, so a slow channel never delays an escalation step.
"""

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from fastapi import FastAPI

from gatewatch.notify.dispatcher import Dispatcher, build_channels, connections_needed
from gatewatch.notify.http import http_sender
from gatewatch.notify.ratelimit import shared_throttle
from gatewatch.slo.monitor import SloMonitor
from gatewatch.store.database import DatabaseUnavailable
from gatewatch.web.deps import Services

log = logging.getLogger(__name__)
EXPIRY_INTERVAL = 1.0


async def _poll(
    name: str,
    work: Callable[[], Awaitable[float]],
    interval: float,
    stop: asyncio.Event,
    wake: asyncio.Event,
) -> None:
    """Run `work` until `stop`; it returns how long to sleep (0: run again at once), and a
    wake-up cuts the sleep short. A failed pass is retried after `interval`."""
    while not stop.is_set():
        delay = interval
        try:
            delay = await work()
        except DatabaseUnavailable as exc:
            log.warning("%s: store unavailable, retrying: %s", name, exc)
        except Exception:
            log.exception("%s: pass failed; retrying", name)
        if delay <= 0:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=delay)
        wake.clear()


async def run_workers(
    services: Services,
    dispatcher: Dispatcher,
    stop: asyncio.Event,
    outbox_wake: asyncio.Event,
    slo_monitor: SloMonitor | None = None,
) -> None:
    config = services.config
    interval = config.scheduler.poll_interval.total_seconds()
    timers_wake, slo_wake, expiry_wake = asyncio.Event(), asyncio.Event(), asyncio.Event()
    services.runtime.timers_wakeup.attach(asyncio.get_running_loop(), timers_wake)

    async def timers() -> float:
        """Sleep until the earliest due timer, not a fixed poll: a step is late by the time a
        pass takes, not by the interval (which only bounds the sleep, for other replicas'
        timers and for clock jumps)."""
        escalation = services.escalation
        if await asyncio.to_thread(escalation.run_due_timers):
            outbox_wake.set()
            return 0.0
        due = await asyncio.to_thread(escalation.next_timer_due)
        if due is None:
            return interval
        wait = (due - services.runtime.clock.now()).total_seconds()
        return min(interval, max(wait, 0.001))

    async def stopper() -> None:
        # Every loop sleeps on its wake event: set them all so none outlives the stop.
        await stop.wait()
        for wake in (timers_wake, outbox_wake, slo_wake, expiry_wake):
            wake.set()

    async def expiry() -> float:
        """Pushed alerts past their endsAt, heartbeats gone silent (or back), hand-offs."""
        changed = await asyncio.to_thread(services.incidents.expire_alerts)
        changed += await asyncio.to_thread(services.heartbeats.check, services.incidents.ingest)
        changed += await asyncio.to_thread(services.handoffs.announce)
        if changed:
            outbox_wake.set()
        return EXPIRY_INTERVAL  # a pass a second is precise enough for all three

    loops = [
        _poll("timers", timers, interval, stop, timers_wake),
        dispatcher.run(stop, outbox_wake),
        _poll("expiry", expiry, EXPIRY_INTERVAL, stop, expiry_wake),
        stopper(),
    ]
    if slo_monitor is not None:
        monitor = slo_monitor

        slo_interval = config.slo.poll_interval.total_seconds()

        async def slo_pass() -> float:
            with httpx.Client(timeout=10) as http:
                await asyncio.to_thread(monitor.run_once, http)
            outbox_wake.set()
            return slo_interval  # always a full poll interval between passes

        loops.append(_poll("slo", slo_pass, slo_interval, stop, slo_wake))
    try:
        await asyncio.gather(*loops)
    finally:
        services.runtime.timers_wakeup.detach(timers_wake)


def worker_lifespan(
    services: Services,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Timers, outbox delivery and the SLO monitor run beside the API, in the same process."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        config, runtime = services.config, services.runtime
        stop, wake = asyncio.Event(), asyncio.Event()
        runtime.dispatcher_wakeup.attach(asyncio.get_running_loop(), wake)
        timeout = config.delivery.timeout.total_seconds()
        connections = connections_needed(config.channels, config.delivery)
        async with http_sender(timeout, connections) as http:
            with shared_throttle(config.redis) as throttle:
                dispatcher = Dispatcher(
                    runtime,
                    config.delivery,
                    config.channels,
                    build_channels(config.channels, config.delivery, http),
                    throttle,
                )
                monitor = None
                if config.slo.enabled:
                    monitor = SloMonitor(
                        services.slo_specs,
                        config.prometheus.url,
                        config.external_url,
                        services.incidents.ingest,
                        runtime.clock,
                        runtime.metrics,
                    )
                task = asyncio.create_task(run_workers(services, dispatcher, stop, wake, monitor))
                # What is built by now (config, app, the libraries' own tables) lives as long
                # as the process. Frozen, it is left out of the collector's full passes: each
                # one walked it with every thread stopped, 70-150 ms that were most of
                # ingest's p99 (docs/benchmarks.md).
                gc.freeze()
                try:
                    yield
                finally:
                    stop.set()
                    await task
                    runtime.dispatcher_wakeup.detach(wake)

    return lifespan
