"""The escalation plan an incident freezes when it opens: later config edits apply to new
incidents only. Stored as JSON, read back typed (by the timers and by the console)."""

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection

from gatewatch.config.policies import PolicyConfig, TargetField
from gatewatch.config.schema import SeverityLevel
from gatewatch.store import timers as timer_store

PLAN_VERSION = 1
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PlanStep(_Frozen):
    after: float  # seconds from the start of a cycle
    targets: list[TargetField]


class ManualPlanStep(_Frozen):
    targets: list[TargetField]


class EscalationPlan(_Frozen):
    """Plans stored before versioning had no `version` key; they read as version 1."""

    version: int = PLAN_VERSION
    steps: list[PlanStep] = []
    manual_steps: list[ManualPlanStep] = []
    repeat: int = 0
    repeat_interval: float = 0
    ack_timeout: float | None = None
    channels: list[str] = []
    reminder_after: float | None = None

    def step_due(self, started_at: datetime, step: int, cycle: int) -> datetime:
        cycle_length = self.steps[-1].after + self.repeat_interval
        return started_at + timedelta(seconds=cycle * cycle_length + self.steps[step].after)

    def due_steps(self, started_at: datetime, now: datetime) -> list[int]:
        """The steps (of whichever cycle) due most recently by `now`: who is being paged now."""
        latest = self.latest_due(started_at, now)
        return sorted(
            {
                step
                for cycle in range(self.repeat + 1)
                for step in range(len(self.steps))
                if self.step_due(started_at, step, cycle) == latest
            }
        )

    @cached_property
    def stored(self) -> dict[str, Any]:
        """The plan as its JSON column holds it; dumped once per plan, as plans are shared."""
        return self.model_dump(mode="json")

    @cached_property
    def due_offsets(self) -> list[timedelta]:
        """Every step of every cycle, as time from the start, in order. Worked out once per
        plan: incidents of a policy share their plan, and a timer pass asks this per step."""
        return sorted(
            self.step_due(_EPOCH, step, cycle) - _EPOCH
            for cycle in range(self.repeat + 1)
            for step in range(len(self.steps))
        )

    def latest_due(self, started_at: datetime, now: datetime) -> datetime | None:
        """When the last step that is due by `now` (over every cycle) was due."""
        passed = bisect_right(self.due_offsets, now - started_at)
        return started_at + self.due_offsets[passed - 1] if passed else None


def _seconds(delta: timedelta | None) -> float | None:
    return None if delta is None else delta.total_seconds()


def freeze_plan(
    policy: PolicyConfig | None, level: SeverityLevel | None, configured_channels: set[str]
) -> EscalationPlan:
    """The policy's steps and the severity's channels (those configured), as of now."""
    return EscalationPlan(
        steps=[
            PlanStep(after=step.after.total_seconds(), targets=list(step.targets))
            for step in (policy.steps if policy else [])
        ],
        manual_steps=[
            ManualPlanStep(targets=list(step.targets))
            for step in (policy.manual_steps if policy else [])
        ],
        repeat=policy.repeat if policy else 0,
        repeat_interval=policy.repeat_interval.total_seconds() if policy else 0,
        ack_timeout=_seconds(policy.ack_timeout) if policy else None,
        channels=[c for c in (level.channels if level else []) if c in configured_channels],
        reminder_after=_seconds(level.reminder_after) if level else None,
    )


@dataclass(frozen=True)
class IncidentPlan:
    incident_id: int
    policy: str | None
    plan: EscalationPlan
    started_at: datetime


def save_plan(
    connection: Connection,
    incident_id: int,
    policy: str | None,
    plan: EscalationPlan,
    started_at: datetime,
) -> None:
    timer_store.save_plan(connection, incident_id, policy, plan.stored, started_at)


def update_plan(connection: Connection, incident_id: int, plan: EscalationPlan) -> None:
    timer_store.update_plan(connection, incident_id, plan.model_dump(mode="json"))


def _incident_plan(stored: timer_store.EscalationPlan) -> IncidentPlan:
    return IncidentPlan(
        stored.incident_id, stored.policy, _typed_plan(stored.plan_json), stored.started_at
    )


@lru_cache(maxsize=1024)
def _typed_plan(stored: str) -> EscalationPlan:
    """Incidents of one policy and severity share a plan, stored as the same text: each
    distinct one is parsed and validated once (validating, then parsing the same plan
    again took a quarter, then a sixth of a timer pass's CPU)."""
    return EscalationPlan.model_validate_json(stored)


def load_plan(connection: Connection, incident_id: int) -> IncidentPlan | None:
    stored = timer_store.load_plan(connection, incident_id)
    return _incident_plan(stored) if stored is not None else None


def load_plans(connection: Connection, incident_ids: list[int]) -> dict[int, IncidentPlan]:
    stored = timer_store.load_plans(connection, incident_ids)
    return {incident_id: _incident_plan(plan) for incident_id, plan in stored.items()}
