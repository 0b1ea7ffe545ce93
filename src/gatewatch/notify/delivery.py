"""What a channel reports after one attempt, and how HTTP answers map onto it."""

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# A channel asking us to wait longer than this is asked again after this.
MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    retryable: bool = True
    retry_after: float | None = None
    error: str | None = None


DELIVERED = DeliveryResult(ok=True)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """RFC 9110 Retry-After: delay-seconds or an HTTP-date; None when absent or unreadable.
    Clamped to [0, MAX_RETRY_AFTER], so `inf` or a date in 2999 cannot stall a page."""
    if value is None:
        return None
    text = value.strip()
    seconds: float
    if text.isascii() and text.isdigit():
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def from_status(status: int, retry_after: str | None, body: str) -> DeliveryResult:
    """2xx delivered; 408, 429 and 5xx worth retrying; any other 4xx will never succeed."""
    if 200 <= status < 300:
        return DELIVERED
    retryable = status in (408, 429) or status >= 500
    return DeliveryResult(
        ok=False,
        retryable=retryable,
        retry_after=retry_after_seconds(retry_after, datetime.now(UTC)),
        error=f"HTTP {status}: {body[:300]}",
    )


def from_transport_error(error: Exception) -> DeliveryResult:
    return DeliveryResult(ok=False, retryable=True, error=f"{type(error).__name__}: {error}")
