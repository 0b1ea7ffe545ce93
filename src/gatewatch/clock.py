"""The one real clock; everything that needs the time takes a Clock so tests can set it."""

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from gatewatch.errors import GatewatchError


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock UTC time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def _read_moment(path: Path) -> datetime:
    text = path.read_text().strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise GatewatchError(
            f"{path}: {text!r} is not an ISO-8601 moment",
            hint="write e.g. 2027-03-28T02:00:00+01:00",
        ) from None
    if moment.tzinfo is None:
        raise GatewatchError(f"{path}: {text!r} has no UTC offset", hint="add +00:00 or Z")
    return moment.astimezone(UTC)


class FileClock:
    """A clock set through a file, for rehearsals and tests that span hours (business hours,
    hand-offs, downtime) against a real server: the file holds the moment the clock reads
    when the file is (re)written; from there it runs at the real pace. Replacing the file
    moves the clock; a file that no longer reads keeps the last setting."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._signature = self._stat()
        self._base = _read_moment(path)
        self._base_monotonic = time.monotonic()

    def _stat(self) -> tuple[int, int, int]:
        stat = os.stat(self._path)
        return stat.st_mtime_ns, stat.st_ino, stat.st_size

    def now(self) -> datetime:
        with self._lock:
            try:
                signature = self._stat()
                if signature != self._signature:
                    self._base = _read_moment(self._path)
                    self._base_monotonic = time.monotonic()
                    self._signature = signature
            except (OSError, GatewatchError):
                pass  # mid-rewrite or removed: the clock keeps running from the last setting
            return self._base + timedelta(seconds=time.monotonic() - self._base_monotonic)
