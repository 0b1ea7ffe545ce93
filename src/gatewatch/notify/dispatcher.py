"""Delivers the outbox: claim due rows with a lease, send, then record the outcome.

At-least-once: a process that dies mid-send leaves rows whose lease expires, and another
pass sends them again. Backoff, jitter, Retry-After, rate limits and dead-lettering live
here once, not in each channel.
"""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection

from gatewatch.config.channels import ChannelConfig, DeliveryConfig
from gatewatch.notify.action import ActionNotifier
from gatewatch.notify.channel import Channel
from gatewatch.notify.delivery import DeliveryResult
from gatewatch.notify.http import HttpSender
from gatewatch.notify.mail import EmailNotifier
from gatewatch.notify.message import Message
from gatewatch.notify.pagerduty import PagerDutyNotifier
from gatewatch.notify.ratelimit import DatabaseThrottle, SharedThrottle
from gatewatch.notify.slack import SlackNotifier
from gatewatch.notify.webhook import WebhookNotifier
from gatewatch.runtime import Runtime
from gatewatch.store import outbox
from gatewatch.store.database import DatabaseUnavailable, run_transaction

log = logging.getLogger(__name__)
T = TypeVar("T")
# How long after its claim a row may wait for a free slot of its channel and still be sent.
CLAIM_SLACK = timedelta(seconds=5)


def connections_needed(configured: list[ChannelConfig], delivery: DeliveryConfig) -> int:
    """Every channel's sends in flight at once, each on a kept-alive connection of its own."""
    return max(1, len(configured)) * delivery.in_flight_per_channel


async def _first_of(events: Iterable[asyncio.Event], timeout: float) -> set[asyncio.Event]:
    """Wait until one of `events` is set or `timeout` passes; return those that are set."""
    events = list(events)
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    return {event for event in events if event.is_set()}


def retry_delay(
    attempt: int,
    delivery: DeliveryConfig,
    retry_after: float | None,
    jitter: Callable[[], float] = random.random,
) -> float:
    """Exponential backoff with jitter (50-100 % of the step), never sooner than Retry-After."""
    step = min(
        delivery.backoff_max.total_seconds(),
        delivery.backoff_initial.total_seconds() * 2.0 ** (attempt - 1),
    )
    delay = step * (0.5 + 0.5 * jitter())
    return max(delay, retry_after) if retry_after is not None else delay


def build_channels(
    configured: list[ChannelConfig], delivery: DeliveryConfig, http: HttpSender
) -> dict[str, Channel]:
    channels: dict[str, Channel] = {}
    for channel in configured:
        if channel.type == "slack":
            channels[channel.id] = SlackNotifier(channel, http)
        elif channel.type == "pagerduty":
            channels[channel.id] = PagerDutyNotifier(channel, http)
        elif channel.type == "email":
            channels[channel.id] = EmailNotifier(channel, delivery.timeout.total_seconds())
        elif channel.type == "action":
            channels[channel.id] = ActionNotifier(channel, http)
        else:
            channels[channel.id] = WebhookNotifier(channel, http)
    return channels


@dataclass
class _Outcomes:
    """What sends finished with, waiting to be written in one transaction."""

    delivered: list[int] = field(default_factory=list)
    failed: list[outbox.Failure] = field(default_factory=list)
    # Back to pending without an attempt: throttled, or its lease too short to send in.
    postponed: list[outbox.Postponed] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.delivered or self.failed or self.postponed)


class Dispatcher:
    def __init__(
        self,
        runtime: Runtime,
        delivery: DeliveryConfig,
        configured: list[ChannelConfig],
        channels: dict[str, Channel],
        throttle: SharedThrottle | None = None,
    ) -> None:
        self.delivery = delivery
        self.throttle = throttle or DatabaseThrottle()
        self.database = runtime.database
        self.clock = runtime.clock
        self.metrics = runtime.metrics
        self.channels = channels
        self._in_flight = {
            channel_id: asyncio.Semaphore(delivery.in_flight_per_channel) for channel_id in channels
        }
        self._configured = {channel.id: channel for channel in configured}
        self._outcomes = _Outcomes()
        # A send starts only while its lease still covers a whole attempt, so a lease never
        # runs out under a send and no other replica can take the row over mid-send.
        self._attempt_budget = delivery.timeout * 2

    async def run_once(self) -> int:
        """One pass: claim what is due, send it, record the outcomes; returns how many it
        attempted (tests drive the dispatcher this way, pass by pass)."""
        claimed = await self._claim(self.delivery.batch_size)
        await asyncio.gather(*(self._deliver(n, lease) for n, lease in claimed))
        await self._record()
        return len(claimed)

    async def run(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        """Deliver until `stop`, as a pipeline: sends stay in flight while the next rows are
        claimed and finished ones are recorded in bulk, so one slow send holds up only its
        own channel's slot, never a whole pass. It claims again when woken (a commit queued
        something), when sends drained below half a batch after a full claim, and every poll
        interval (retries falling due). On stop, sends under way finish and are recorded."""
        sending: set[asyncio.Task[None]] = set()
        finished = asyncio.Event()

        def settled(task: asyncio.Task[None]) -> None:
            sending.discard(task)
            finished.set()

        low_water = max(1, self.delivery.batch_size // 2)
        interval = self.delivery.poll_interval.total_seconds()
        loop = asyncio.get_running_loop()
        claim_now, last_claim = True, loop.time()
        while not stop.is_set() or sending:
            if not stop.is_set() and claim_now and len(sending) < low_water:
                room = self.delivery.batch_size - len(sending)
                last_claim = loop.time()
                claimed = await self._guarded(self._claim(room)) or []
                claim_now = len(claimed) == room
                for notification, lease in claimed:
                    task = asyncio.create_task(self._deliver(notification, lease))
                    sending.add(task)
                    task.add_done_callback(settled)
            if self._outcomes:
                await self._guarded(self._record())
            if claim_now and len(sending) < low_water and not stop.is_set():
                continue
            # Below half a batch, sleep until the next poll; above it, until a send finishes.
            timeout = (
                interval
                if len(sending) >= low_water
                else max(0.0, last_claim + interval - loop.time())
            )
            waited_for = (wake, finished) if stop.is_set() else (wake, finished, stop)
            if wake in await _first_of(waited_for, timeout):
                wake.clear()
                claim_now = True
            finished.clear()
            claim_now = claim_now or loop.time() - last_claim >= interval
        if self._outcomes:  # not written (database gone): the leases expire, rows are resent
            await self._guarded(self._record())

    async def _guarded(self, work: Awaitable[T]) -> T | None:
        """A database outage costs this pass, not the loop: logged, retried next time."""
        try:
            return await work
        except DatabaseUnavailable as exc:
            log.warning("outbox: store unavailable, retrying: %s", exc)
            return None

    async def _claim(self, limit: int) -> list[tuple[outbox.Notification, datetime]]:
        """Claim up to `limit` due rows with a lease, and take their channels' tokens in the
        same transaction (the buckets are shared by every process); the throttled ones go
        back to wait, spread out, never dropped."""
        now = self.clock.now()
        lease = now + self._attempt_budget + CLAIM_SLACK

        def claim(connection: Connection) -> tuple[list[outbox.Notification], dict[str, int]]:
            claimed = outbox.claim_due(connection, now, lease, limit)
            by_channel: dict[str, list[outbox.Notification]] = {}
            for notification in claimed:
                by_channel.setdefault(notification.channel, []).append(notification)
            to_send: list[outbox.Notification] = []
            postponed: list[outbox.Postponed] = []
            throttled: dict[str, int] = {}
            for channel_id, waiting in sorted(by_channel.items()):  # locks in one order
                channel = self._configured.get(channel_id)
                waits = (
                    self.throttle.take(connection, channel, len(waiting), now)
                    if channel is not None
                    else [0.0] * len(waiting)
                )
                for notification, wait in zip(waiting, waits, strict=True):
                    if wait > 0:
                        until = now + timedelta(seconds=wait)
                        postponed.append(outbox.Postponed(notification.id, until))
                        throttled[channel_id] = throttled.get(channel_id, 0) + 1
                    else:
                        to_send.append(notification)
            outbox.postpone_many(connection, postponed)
            return to_send, throttled

        to_send, throttled = await asyncio.to_thread(run_transaction, self.database, claim)
        for channel_id, count in throttled.items():
            self.metrics.notifications_throttled.labels(channel_id).inc(count)
        return [(notification, lease) for notification in to_send]

    async def _record(self) -> None:
        """Write the outcomes kept so far in one transaction; on failure keep them."""
        outcomes, self._outcomes = self._outcomes, _Outcomes()
        now = self.clock.now()

        def record(connection: Connection) -> None:
            outbox.postpone_many(connection, outcomes.postponed)
            outbox.record_outcomes(connection, outcomes.delivered, outcomes.failed, now)

        try:
            await asyncio.to_thread(run_transaction, self.database, record)
        except BaseException:
            # Not written: keep them for the next try (their leases keep the rows ours).
            self._outcomes.delivered += outcomes.delivered
            self._outcomes.failed += outcomes.failed
            self._outcomes.postponed += outcomes.postponed
            raise

    async def _deliver(self, notification: outbox.Notification, lease: datetime) -> None:
        """Send one notification when its channel has a slot, and keep the outcome."""
        channel = self.channels.get(notification.channel)
        if channel is None:
            result = DeliveryResult(
                ok=False,
                retryable=False,
                error=f"channel {notification.channel!r} is not configured",
            )
        else:
            async with self._in_flight[channel.id]:
                if self.clock.now() + self._attempt_budget > lease:
                    self._outcomes.postponed.append(
                        outbox.Postponed(notification.id, self.clock.now())
                    )
                    return
                result = await self._attempt(channel, notification)
        self._account(notification, result, self.clock.now())

    async def _attempt(self, channel: Channel, notification: outbox.Notification) -> DeliveryResult:
        """One send. Whatever it raises stays with this notification: a failed attempt,
        retried with backoff and dead after the last, never the end of the whole pass."""
        try:
            return await asyncio.wait_for(
                channel.send(
                    replace(
                        Message.from_json(notification.message),
                        delivery_id=str(notification.id),
                    )
                ),
                self.delivery.timeout.total_seconds() * 2,
            )
        except TimeoutError:
            return DeliveryResult(ok=False, retryable=True, error="timed out")
        except Exception as exc:
            log.exception("notification %s to %s raised", notification.id, channel.id)
            self.metrics.notification_errors.labels(channel.id).inc()
            return DeliveryResult(ok=False, retryable=True, error=f"{type(exc).__name__}: {exc}")

    def _account(
        self, notification: outbox.Notification, result: DeliveryResult, now: datetime
    ) -> None:
        """Decide delivered, retry (when) or dead, count it, and keep it to be recorded."""
        channel = notification.channel
        failed = self._outcomes.failed
        if result.ok:
            self._outcomes.delivered.append(notification.id)
            self.metrics.notifications_sent.labels(channel, "delivered").inc()
            self.metrics.notification_latency.labels(channel).observe(
                (now - notification.created_at).total_seconds()
            )
            return
        attempt = notification.attempts + 1
        error = result.error or "failed"
        if not result.retryable or attempt >= self.delivery.max_attempts:
            log.error(
                "notification %s to %s is dead after %s attempts: %s",
                notification.id,
                channel,
                attempt,
                error,
            )
            failed.append(outbox.Failure(notification.id, error, None))
            self.metrics.notifications_sent.labels(channel, "dead").inc()
            return
        delay = retry_delay(attempt, self.delivery, result.retry_after)
        failed.append(outbox.Failure(notification.id, error, now + timedelta(seconds=delay)))
        self.metrics.notifications_sent.labels(channel, "retry").inc()
