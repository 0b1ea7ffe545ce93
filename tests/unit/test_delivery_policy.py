"""Backoff, Retry-After and rate limits: the retry policy that lives once, in the dispatcher."""

from datetime import UTC, datetime, timedelta

import pytest

from gatewatch.config.channels import DeliveryConfig
from gatewatch.notify.delivery import MAX_RETRY_AFTER, from_status, retry_after_seconds
from gatewatch.notify.dispatcher import retry_delay
from gatewatch.notify.ratelimit import TokenBucket

DELIVERY = DeliveryConfig(backoff_initial=timedelta(seconds=1), backoff_max=timedelta(seconds=60))


def test_backoff_doubles_with_jitter_and_caps() -> None:
    assert retry_delay(1, DELIVERY, None, jitter=lambda: 1.0) == 1.0
    assert retry_delay(3, DELIVERY, None, jitter=lambda: 1.0) == 4.0
    assert retry_delay(3, DELIVERY, None, jitter=lambda: 0.0) == 2.0
    assert retry_delay(20, DELIVERY, None, jitter=lambda: 1.0) == 60.0


def test_retry_after_is_honoured() -> None:
    assert retry_delay(1, DELIVERY, 30.0, jitter=lambda: 1.0) == 30.0
    assert retry_delay(8, DELIVERY, 5.0, jitter=lambda: 1.0) == 60.0


def test_http_answers_map_to_retry_or_dead() -> None:
    assert from_status(202, None, "").ok
    limited = from_status(429, "7", "")
    assert (limited.ok, limited.retryable, limited.retry_after) == (False, True, 7.0)
    assert from_status(503, None, "").retryable
    refused = from_status(400, None, "invalid_blocks")
    assert not refused.retryable and refused.error == "HTTP 400: invalid_blocks"


def test_token_bucket_delays_instead_of_dropping() -> None:
    bucket = TokenBucket.full(rate=2.0, capacity=2, now=0.0)
    assert [bucket.take(0.0), bucket.take(0.0)] == [0.0, 0.0]
    assert bucket.take(0.0) == 0.5
    assert bucket.take(0.5) == 0.0


NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("Wed, 02 Dec 2026 12:00:30 GMT", 30.0),  # an HTTP-date 30 s ahead
        ("Wed, 02 Dec 2026 11:00:00 GMT", 0.0),  # already past: at once
        ("99999999999999999999", MAX_RETRY_AFTER),  # absurd: clamped
        ("Fri, 31 Dec 2999 23:59:59 GMT", MAX_RETRY_AFTER),
        ("inf", None),  # neither form: normal backoff
        ("nan", None),
        ("-5", None),
        ("²", None),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_dates_and_clamps(
    header: str | None, seconds: float | None
) -> None:
    assert retry_after_seconds(header, NOW) == seconds


def test_a_429_with_an_absurd_retry_after_still_gets_a_finite_retry() -> None:
    limited = from_status(429, "inf", "")
    assert limited.retryable
    delay = retry_delay(1, DELIVERY, limited.retry_after, jitter=lambda: 1.0)
    assert NOW + timedelta(seconds=delay) > NOW  # no OverflowError, a real moment
