"""The background loops of a gatewatch process: due timers, the outbox, the SLO monitor.

Each re-scans the database every cycle, so a restart simply carries on where the rows say.
Each runs on its own, so a slow channel never delays an escalation step.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from fastapi import FastAPI

from gatewatch.notify.dispatcher import HTTP_LIMITS, Dispatcher, build_channels
from gatewatch.slo.monitor import SloMonitor
from gatewatch.store.database import DatabaseUnavailable
from gatewatch.web.deps import Services

log = logging.getLogger(__name__)
EXPIRY_INTERVAL = 1.0


async def _poll(
    name: str,
    work: Callable[[], Awaitable[int]],
    interval: float,
    stop: asyncio.Event,
    wake: asyncio.Event,
) -> None:
    """Run `work` until `stop`; sleep `interval` when idle unless woken. Failures are retried."""
    while not stop.is_set():
        done = 0
        try:
            done = await work()
        except DatabaseUnavailable as exc:
            log.warning("%s: store unavailable, retrying: %s", name, exc)
        except Exception:
            log.exception("%s: pass failed; retrying", name)
        if done:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=interval)
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

    async def timers() -> int:
        ran = await asyncio.to_thread(services.escalation.run_due_timers)
        if ran:
            outbox_wake.set()
        return ran

    async def stopper() -> None:
        # Every loop sleeps on its wake event: set them all so none outlives the stop.
        await stop.wait()
        for wake in (timers_wake, outbox_wake, slo_wake, expiry_wake):
            wake.set()

    async def expiry() -> int:
        """Pushed alerts past their endsAt, heartbeats gone silent (or back), hand-offs."""
        changed = await asyncio.to_thread(services.incidents.expire_alerts)
        changed += await asyncio.to_thread(services.heartbeats.check, services.incidents.ingest)
        changed += await asyncio.to_thread(services.handoffs.announce)
        if changed:
            outbox_wake.set()
        return 0  # a pass a second is precise enough for both

    loops = [
        _poll("timers", timers, interval, stop, timers_wake),
        _poll("outbox", dispatcher.run_once, interval, stop, outbox_wake),
        _poll("expiry", expiry, EXPIRY_INTERVAL, stop, expiry_wake),
        stopper(),
    ]
    if slo_monitor is not None:
        monitor = slo_monitor

        async def slo_pass() -> int:
            with httpx.Client(timeout=10) as http:
                await asyncio.to_thread(monitor.run_once, http)
            outbox_wake.set()
            return 0  # always wait a full poll interval between passes

        slo_interval = config.slo.poll_interval.total_seconds()
        loops.append(_poll("slo", slo_pass, slo_interval, stop, slo_wake))
    await asyncio.gather(*loops)


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
        async with httpx.AsyncClient(timeout=timeout, limits=HTTP_LIMITS) as http:
            dispatcher = Dispatcher(
                runtime,
                config.delivery,
                config.channels,
                build_channels(config.channels, config.delivery, http),
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
            try:
                yield
            finally:
                stop.set()
                await task
                runtime.dispatcher_wakeup.detach(wake)

    return lifespan
