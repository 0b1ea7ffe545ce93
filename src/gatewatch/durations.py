"""Prometheus/Alertmanager duration syntax (`5m`, `1h30m`, `250ms`), used throughout the config."""

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_UNITS_MS = {
    "y": 365 * 24 * 3600 * 1000,
    "w": 7 * 24 * 3600 * 1000,
    "d": 24 * 3600 * 1000,
    "h": 3600 * 1000,
    "m": 60 * 1000,
    "s": 1000,
    "ms": 1,
}
# Units must appear largest first and at most once each, as in Prometheus.
_DURATION_RE = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)


def parse_duration(text: str) -> timedelta:
    """Parse a Prometheus duration; raise ValueError naming the text when it is not one."""
    stripped = text.strip()
    if stripped == "0":
        return timedelta(0)
    match = _DURATION_RE.match(stripped)
    if not match or not any(match.groups()):
        raise ValueError(f"invalid duration {text!r}: expected e.g. 30s, 5m, 1h30m, 1d")
    total_ms = sum(
        int(value) * _UNITS_MS[unit]
        for value, unit in zip(match.groups(), ("y", "w", "d", "h", "m", "s", "ms"), strict=True)
        if value
    )
    return timedelta(milliseconds=total_ms)


def format_duration(delta: timedelta) -> str:
    """Render a timedelta in the shortest Prometheus syntax (`1h30m`, `0s`)."""
    remaining = int(delta.total_seconds() * 1000)
    if remaining == 0:
        return "0s"
    parts = []
    for unit in ("w", "d", "h", "m", "s", "ms"):
        size = _UNITS_MS[unit]
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _coerce_duration(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    return value


Duration = Annotated[
    timedelta,
    BeforeValidator(_coerce_duration),
    PlainSerializer(format_duration, return_type=str),
]
"""A config field written in Prometheus duration syntax."""
