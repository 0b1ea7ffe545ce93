"""What a channel reports after one attempt, and how HTTP answers map onto it."""

from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    retryable: bool = True
    retry_after: float | None = None
    error: str | None = None


DELIVERED = DeliveryResult(ok=True)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def from_response(response: httpx.Response) -> DeliveryResult:
    """2xx delivered; 408, 429 and 5xx worth retrying; any other 4xx will never succeed."""
    if response.is_success:
        return DELIVERED
    body = response.text[:300]
    error = f"HTTP {response.status_code}: {body}"
    retryable = response.status_code in (408, 429) or response.status_code >= 500
    return DeliveryResult(
        ok=False, retryable=retryable, retry_after=_retry_after(response), error=error
    )


def from_transport_error(error: Exception) -> DeliveryResult:
    return DeliveryResult(ok=False, retryable=True, error=f"{type(error).__name__}: {error}")
