"""An incident's escalation as people read it: each step of its frozen plan, whether it
has paged, was cancelled by an acknowledgement, or is next (and when)."""

from dataclasses import dataclass

from gatewatch.config import GatewatchConfig
from gatewatch.store.timers import CANCELLED, DONE, EscalationPlan, TimerState
from gatewatch.timestamps import format_utc


@dataclass(frozen=True)
class StepView:
    when: str
    targets: str
    state: str  # done | cancelled | next | later
    state_text: str


def _target(config: GatewatchConfig, target: str) -> str:
    kind, _, ident = target.partition(":")
    if kind == "person":
        person = config.person(ident)
        return person.display_name if person else ident
    return f"{kind} {ident}"


def escalation_steps(
    config: GatewatchConfig, plan: EscalationPlan | None, timers: list[TimerState]
) -> list[StepView]:
    if plan is None:
        return []
    steps = plan.plan["steps"]
    views = []
    seen_next = False
    for timer in timers:
        if timer.kind != "step" or timer.step is None or timer.step >= len(steps):
            continue
        targets = ", ".join(_target(config, t) for t in steps[timer.step]["targets"])
        if timer.status == DONE:
            state, text = "done", f"paged: {timer.outcome or 'sent'}"
        elif timer.status == CANCELLED:
            state, text = "cancelled", timer.outcome or "cancelled"
        elif not seen_next:
            state, text, seen_next = "next", "next", True
        else:
            state, text = "later", "later"
        cycle = f" (repeat {timer.cycle})" if timer.cycle else ""
        views.append(
            StepView(
                f"step {timer.step + 1}{cycle} at {format_utc(timer.due_at)}", targets, state, text
            )
        )
    return views
