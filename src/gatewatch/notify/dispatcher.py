"""Delivers the outbox: claim due rows with a lease, send, then record the outcome.

At-least-once: a process that dies mid-send leaves rows whose lease expires, and another
pass sends them again. Backoff, jitter, Retry-After, rate limits and dead-lettering live
here once, not in each channel.
"""

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Connection

from gatewatch.config.channels import ChannelConfig, DeliveryConfig
from gatewatch.notify.action import ActionNotifier
from gatewatch.notify.channel import Channel
from gatewatch.notify.delivery import DeliveryResult
from gatewatch.notify.mail import EmailNotifier
from gatewatch.notify.message import Message
from gatewatch.notify.pagerduty import PagerDutyNotifier
from gatewatch.notify.ratelimit import TokenBucket
from gatewatch.notify.slack import SlackNotifier
from gatewatch.notify.webhook import WebhookNotifier
from gatewatch.runtime import Runtime
from gatewatch.store import outbox
from gatewatch.store.database import run_transaction

log = logging.getLogger(__name__)


def http_limits(configured: list[ChannelConfig], delivery: DeliveryConfig) -> httpx.Limits:
    """httpx's connection pool slows down sharply with many queued requests: the queue is
    kept in per-channel semaphores of our own, and the pool holds what may be in flight, its
    connections kept alive between passes (each channel reuses its own)."""
    size = max(1, len(configured)) * delivery.in_flight_per_channel
    return httpx.Limits(max_connections=size, max_keepalive_connections=size)


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
    configured: list[ChannelConfig], delivery: DeliveryConfig, http: httpx.AsyncClient
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


class Dispatcher:
    def __init__(
        self,
        runtime: Runtime,
        delivery: DeliveryConfig,
        configured: list[ChannelConfig],
        channels: dict[str, Channel],
    ) -> None:
        self.delivery = delivery
        self.database = runtime.database
        self.clock = runtime.clock
        self.metrics = runtime.metrics
        self.channels = channels
        self._in_flight = {
            channel_id: asyncio.Semaphore(delivery.in_flight_per_channel) for channel_id in channels
        }
        started = self.clock.now().timestamp()
        self.buckets = {
            channel.id: TokenBucket.full(channel.rate_per_second, channel.burst, started)
            for channel in configured
        }

    async def run_once(self) -> int:
        """One pass: returns how many notifications it attempted."""
        now = self.clock.now()
        lease = now + self.delivery.timeout * 2 + timedelta(seconds=5)
        claimed = await asyncio.to_thread(
            run_transaction,
            self.database,
            lambda connection: outbox.claim_due(connection, now, lease, self.delivery.batch_size),
        )
        if not claimed:
            return 0
        to_send: list[outbox.Notification] = []
        postponed: list[tuple[int, datetime]] = []
        for notification in claimed:
            bucket = self.buckets.get(notification.channel)
            wait = bucket.take(now.timestamp()) if bucket is not None else 0.0
            if wait > 0:
                postponed.append((notification.id, now + timedelta(seconds=wait)))
                self.metrics.notifications_throttled.labels(notification.channel).inc()
            else:
                to_send.append(notification)
        results = await asyncio.gather(*(self._send(n) for n in to_send))
        finished = self.clock.now()

        delivered: list[int] = []
        failed: list[outbox.Failure] = []
        for notification, result in zip(to_send, results, strict=True):
            self._account(notification, result, finished, delivered, failed)

        def record(connection: Connection) -> None:
            for notification_id, until in postponed:
                outbox.postpone(connection, notification_id, until)
            outbox.record_outcomes(connection, delivered, failed, finished)

        await asyncio.to_thread(run_transaction, self.database, record)
        return len(to_send)

    async def _send(self, notification: outbox.Notification) -> DeliveryResult:
        channel = self.channels.get(notification.channel)
        if channel is None:
            return DeliveryResult(
                ok=False,
                retryable=False,
                error=f"channel {notification.channel!r} is not configured",
            )
        async with self._in_flight[channel.id]:
            return await self._attempt(channel, notification)

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
        self,
        notification: outbox.Notification,
        result: DeliveryResult,
        now: datetime,
        delivered: list[int],
        failed: list[outbox.Failure],
    ) -> None:
        """Decide delivered, retry (when) or dead, and count it."""
        channel = notification.channel
        if result.ok:
            delivered.append(notification.id)
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
