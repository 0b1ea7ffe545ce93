"""Clocks a test moves by hand: in-process, or a server's through its --clock-file."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path


class ManualClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


class ClockFile:
    """The file `gatewatch serve --clock-file` reads its time from; replaced whole, so the
    server never reads half a moment."""

    def __init__(self, path: Path, start: datetime) -> None:
        self.path = path
        self.set(start)

    def set(self, moment: datetime) -> None:
        scratch = self.path.with_suffix(".new")
        scratch.write_text(moment.isoformat())
        os.replace(scratch, self.path)
