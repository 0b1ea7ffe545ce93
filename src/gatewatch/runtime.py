"""What every domain service needs from the running process, handed to it explicitly."""

import asyncio
from dataclasses import dataclass, field

from sqlalchemy import Engine

from gatewatch.clock import Clock
from gatewatch.metrics import Metrics


class Wakeup:
    """A nudge from any thread to a background loop: a commit that queued notifications (or
    added timers) sets it, so the dispatcher (or the timer loop) does not sleep on. Unattached,
    it does nothing."""

    def __init__(self) -> None:
        self._targets: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def attach(self, loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
        self._targets.append((loop, event))

    def detach(self, event: asyncio.Event) -> None:
        self._targets = [(loop, e) for loop, e in self._targets if e is not event]

    def __call__(self) -> None:
        for loop, event in self._targets:
            loop.call_soon_threadsafe(event.set)


@dataclass(frozen=True)
class Runtime:
    database: Engine
    clock: Clock
    metrics: Metrics
    dispatcher_wakeup: Wakeup = field(default_factory=Wakeup)
    timers_wakeup: Wakeup = field(default_factory=Wakeup)
