"""RFC 3339 stamps from Prometheus and Alertmanager: they write nanoseconds and `Z`, which
`datetime.fromisoformat` does not take before Python 3.11's limits (microseconds)."""

from datetime import UTC, datetime


def parse_rfc3339(text: str) -> datetime:
    head, dot, tail = text.replace("Z", "+00:00").partition(".")
    if dot:
        digits = "".join(c for c in tail if c.isdigit())
        head += "." + digits[:6] + tail[len(digits) :]
    return datetime.fromisoformat(head)


def format_utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""
