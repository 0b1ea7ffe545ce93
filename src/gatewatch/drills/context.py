"""What every drill step works with: the drill's state, the stack it probes, and the two
kinds of step (an action that does something, an expectation that waits for a hop)."""

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gatewatch.config import GatewatchConfig
from gatewatch.drills.faults import Undo
from gatewatch.drills.probes import StackProbe
from gatewatch.drills.scenario import Scenario
from gatewatch.drills.timing import StackTimings
from gatewatch.timestamps import parse_rfc3339


class StepMissed(Exception):
    """A hop did not happen within its deadline (or went wrong)."""


@dataclass
class DrillState:
    started: float
    fault_at: float | None = None  # wall clock, to compare with the components' timestamps
    previous_at: float = 0.0
    seen_at: float | None = None  # when the component says the hop happened
    last: float = 0.0
    standins_seq: int = 0
    incident: int | None = None
    incident_at: float = 0.0
    policy: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    undo: list[Undo] = field(default_factory=list)
    on_call: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class DrillContext:
    scenario: Scenario
    state: DrillState
    probe: StackProbe
    timings: StackTimings
    config: GatewatchConfig
    stop: Callable[[str], Awaitable[None]]
    start: Callable[[str], Awaitable[None]]

    @property
    def alert_labels(self) -> dict[str, str]:
        return {"alertname": self.scenario.alert, **self.scenario.alert_labels}


class Action(ABC):
    @abstractmethod
    def describe(self, scenario: Scenario) -> str: ...

    @abstractmethod
    async def run(self, context: DrillContext) -> str:
        """Do it; returns what happened, for the hop's detail."""


class Expectation(ABC):
    @abstractmethod
    def describe(self, scenario: Scenario) -> str: ...

    @abstractmethod
    def allowed(self, context: DrillContext) -> float:
        """Seconds allowed for this hop, derived from the stack, before the margin."""

    def counted_from(self, context: DrillContext) -> float:
        """The moment the allowed seconds count from: the previous hop."""
        return context.state.last

    @abstractmethod
    async def check(self, context: DrillContext) -> tuple[bool, str]:
        """Whether the hop has happened, and what was seen."""


def wall_time(stamp: str) -> float:
    return parse_rfc3339(stamp).timestamp()


async def arrivals(
    context: "DrillContext",
    incident: int | None,
    channels: Sequence[str],
    matches: Callable[[dict[str, Any]], bool],
    label: str,
) -> tuple[bool, str]:
    """Whether each of `channels` has received an item that `matches` (the stand-ins' record
    of `incident`); the hop happened when the last of them did."""
    reached: dict[str, float] = {}
    for item in await context.probe.received(context.state.standins_seq, incident):
        if matches(item):
            reached.setdefault(item["channel"], item["at"])
    context.state.seen_at = max((reached[c] for c in channels if c in reached), default=None)
    missing = sorted(set(channels) - set(reached))
    detail = f"{label} {', '.join(sorted(reached)) or 'nothing'}"
    return not missing, detail + (f"; waiting for {', '.join(missing)}" if missing else "")
