"""An incident's escalation as people read it: each step of its frozen plan, whether it
has paged, was cancelled by an acknowledgement, or is next (and when)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from gatewatch.config.policies import Target
from gatewatch.escalation.plan import IncidentPlan
from gatewatch.escalation.steps import MANUAL, STEP
from gatewatch.store.timers import CANCELLED, DONE, TimerState
from gatewatch.timestamps import format_utc


@dataclass(frozen=True)
class StepView:
    when: str
    targets: str
    state: str  # done | cancelled | next | later
    state_text: str


def _target(display_name: Callable[[str], str], target: Target) -> str:
    return display_name(target.id) if target.kind == "person" else f"{target.kind} {target.id}"


def escalation_steps(
    display_name: Callable[[str], str], frozen: IncidentPlan | None, timers: list[TimerState]
) -> list[StepView]:
    """One line per step of the first cycle, plus any repeat cycles that have timers."""
    if frozen is None:
        return []
    steps = frozen.plan.steps
    by_step = {(t.step, t.cycle): t for t in timers if t.kind == STEP and t.step is not None}
    cycles = sorted({cycle for _, cycle in by_step} | {0})
    views = []
    seen_next = False
    for cycle in cycles:
        for index, step in enumerate(steps):
            timer = by_step.get((index, cycle))
            if timer is None and cycle:
                continue
            due = timer.due_at if timer else frozen.started_at + timedelta(seconds=step.after)
            if timer is None:
                # A step due at once runs in the transaction that opens the incident.
                state, text = ("done", "paged") if not step.after else ("later", "not set")
            elif timer.status == DONE:
                state, text = "done", f"paged: {timer.outcome}" if timer.outcome else "paged"
            elif timer.status == CANCELLED:
                state, text = "cancelled", timer.outcome or "cancelled"
            elif not seen_next:
                state, text, seen_next = "next", "next", True
            else:
                state, text = "later", "later"
            repeat = f" (repeat {cycle})" if cycle else ""
            targets = ", ".join(_target(display_name, t) for t in step.targets)
            views.append(
                StepView(f"step {index + 1}{repeat} at {format_utc(due)}", targets, state, text)
            )
    manual = {t.step: t for t in timers if t.kind == MANUAL}
    for index, manual_step in enumerate(frozen.plan.manual_steps):
        timer = manual.get(len(steps) + index)
        targets = ", ".join(_target(display_name, t) for t in manual_step.targets)
        if timer is not None:
            views.append(
                StepView(f"manual step {index + 1}", targets, "done", timer.outcome or "paged")
            )
        else:
            views.append(
                StepView(f"manual step {index + 1}", targets, "later", "on 'Escalate now'")
            )
    return views
