"""Runs a drill against a live stack: injects its faults, then waits for each expected hop
(Prometheus, Alertmanager, gatewatch, the stand-ins, the gateway) within its deadline and
records when it happened."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from gatewatch.config import GatewatchConfig
from gatewatch.drills.context import DrillContext, DrillState, Expectation, StepMissed
from gatewatch.drills.expectations import step_kind
from gatewatch.drills.probes import StackEndpoints, StackProbe
from gatewatch.drills.scenario import Scenario
from gatewatch.drills.timing import StackTimings
from gatewatch.errors import GatewatchError

POLL = 0.2
QUIET_WITHIN = 180.0  # the previous drill's alert must have cleared by then


@dataclass
class Hop:
    step: str
    deadline: float | None = None
    took: float | None = None  # since the previous hop
    at: float | None = None  # since the first fault
    ok: bool = False
    detail: str = ""


@dataclass
class DrillResult:
    name: str
    summary: str
    hops: list[Hop] = field(default_factory=list)
    passed: bool = False
    error: str | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class DrillRunner:
    def __init__(
        self,
        endpoints: StackEndpoints,
        timings: StackTimings,
        config: GatewatchConfig,
        stop: Callable[[str], Awaitable[None]],
        start: Callable[[str], Awaitable[None]],
        margin: float = 10.0,
        on_hop: Callable[[str, Hop], None] = lambda drill, hop: None,
    ) -> None:
        self.endpoints = endpoints
        self.timings = timings
        self.config = config
        self.margin = margin
        self.on_hop = on_hop
        self._stop, self._start = stop, start

    async def run(self, scenario: Scenario) -> DrillResult:
        result = DrillResult(scenario.name, scenario.summary)
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=10) as client:
            state = DrillState(started=time.time())
            context = DrillContext(
                scenario,
                state,
                StackProbe(self.endpoints, client),
                self.timings,
                self.config,
                self._stop,
                self._start,
            )
            try:
                await _wait_quiet(context)
                state.standins_seq = await context.probe.standins_seq()
                state.last = time.monotonic()
                for index in range(len(scenario.steps)):
                    kind = step_kind(scenario, index)
                    hop = Hop(kind.describe(scenario))
                    result.hops.append(hop)
                    state.seen_at = None
                    if isinstance(kind, Expectation):
                        within = scenario.steps[index].within
                        hop.detail = await self._expect(kind, context, hop, within)
                    else:
                        hop.detail = await kind.run(context)
                    state.last = time.monotonic()
                    at = (state.seen_at or time.time()) - (state.fault_at or time.time())
                    hop.at = round(max(at, 0.0), 2)
                    hop.took = round(max(hop.at - state.previous_at, 0.0), 2)
                    state.previous_at = hop.at
                    hop.ok = True
                    self.on_hop(scenario.name, hop)
                result.passed = True
            except (StepMissed, GatewatchError, httpx.HTTPError) as exc:
                result.error = str(exc)
                if result.hops and not result.hops[-1].ok:
                    result.hops[-1].detail = str(exc)
                    self.on_hop(scenario.name, result.hops[-1])
            finally:
                for undo in reversed(state.undo):
                    await undo()
        result.seconds = round(time.monotonic() - started, 1)
        return result

    async def _expect(
        self,
        expectation: Expectation,
        context: DrillContext,
        hop: Hop,
        within: timedelta | None,
    ) -> str:
        """Poll the expectation until it holds or its deadline passes (`within` overrides)."""
        anchor = expectation.counted_from(context)
        if within is not None:
            deadline = within.total_seconds()
        else:
            deadline = expectation.allowed(context) + self.margin
        hop.deadline = round(deadline, 1)
        detail = ""
        while True:
            try:
                ok, detail = await expectation.check(context)
            except httpx.HTTPError as exc:
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            if ok:
                return detail
            if time.monotonic() >= anchor + deadline:
                raise StepMissed(f"missed its deadline: {hop.step} ({detail or 'not seen'})")
            await asyncio.sleep(POLL)


async def _wait_quiet(context: DrillContext) -> None:
    """The previous drill's alert and incident are gone before this one starts."""
    deadline = time.monotonic() + QUIET_WITHIN
    while True:
        alerts = await context.probe.prometheus_alerts(context.alert_labels)
        incident = await context.probe.open_incident(context.alert_labels, 0.0)
        if not alerts and incident is None:
            return
        if time.monotonic() >= deadline:
            raise StepMissed(f"{context.scenario.alert} still active from before the drill")
        await asyncio.sleep(1.0)
