"""Who is on call at a moment: layers in wall-clock time of the schedule's zone, overrides on top.

Every layer's current person is on call (several layers page several people); an override
replaces the whole schedule's on-call set for its window, or, given a layer, that layer's
person only.
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import datetime

from gatewatch.config.oncall import LayerConfig, Months, ScheduleConfig
from gatewatch.model import Override


@dataclass(frozen=True)
class Shift:
    person_id: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class OnCallWindow:
    """Who is on call at `at`, until when, and who takes over then."""

    schedule_id: str
    at: datetime
    people: list[str]
    until: datetime
    next_people: list[str]
    overridden: bool


def add_months(start: datetime, months: int) -> datetime:
    """`start` moved by calendar months, the day clamped to the target month's length."""
    total = start.month - 1 + months
    year, month = start.year + total // 12, total % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, monthrange(year, month)[1]))


def _shift_bounds(layer: LayerConfig, local: datetime) -> tuple[int, datetime, datetime]:
    """The index of the turn containing `local` (naive wall-clock time), its start and end."""
    if not isinstance(layer.shift, Months):
        index = (local - layer.handoff) // layer.shift
        start = layer.handoff + index * layer.shift
        return index, start, start + layer.shift
    size, handoff = layer.shift.count, layer.handoff
    index = ((local.year - handoff.year) * 12 + local.month - handoff.month) // size
    while add_months(handoff, index * size) > local:
        index -= 1
    while add_months(handoff, (index + 1) * size) <= local:
        index += 1
    return index, add_months(handoff, index * size), add_months(handoff, (index + 1) * size)


def layer_shift(layer: LayerConfig, schedule: ScheduleConfig, at: datetime) -> Shift:
    """The shift of `layer` that contains `at`; hand-offs fall on the same wall-clock time."""
    zone = schedule.zone
    local = at.astimezone(zone).replace(tzinfo=None)
    index, start_local, end_local = _shift_bounds(layer, local)
    return Shift(
        person_id=layer.rotation[index % len(layer.rotation)],
        starts_at=start_local.replace(tzinfo=zone),
        ends_at=end_local.replace(tzinfo=zone),
    )


def _unique(people: list[str]) -> list[str]:
    return list(dict.fromkeys(people))


def people_on_call(
    schedule: ScheduleConfig, overrides: list[Override], at: datetime
) -> tuple[list[str], bool]:
    """The people on call at `at`, and whether an override decided it."""
    active = sorted(
        (o for o in overrides if o.schedule_id == schedule.id and o.starts_at <= at < o.ends_at),
        key=lambda o: o.id,
    )
    whole = [o for o in active if o.layer is None]
    if whole:
        return _unique([o.person_id for o in whole]), True
    by_layer = {o.layer: o.person_id for o in active}
    people = [
        by_layer.get(layer.name) or layer_shift(layer, schedule, at).person_id
        for layer in schedule.layers
    ]
    return _unique(people), bool(by_layer)


def _next_boundary(schedule: ScheduleConfig, overrides: list[Override], at: datetime) -> datetime:
    """The first moment after `at` when a shift or an override starts or ends."""
    moments = [layer_shift(layer, schedule, at).ends_at for layer in schedule.layers]
    moments += [
        moment
        for override in overrides
        if override.schedule_id == schedule.id
        for moment in (override.starts_at, override.ends_at)
        if moment > at
    ]
    return min(moments)


def on_call_window(
    schedule: ScheduleConfig, overrides: list[Override], at: datetime
) -> OnCallWindow:
    """Now and next; a hand-off to the same people is no change, so look past it (bounded)."""
    people, overridden = people_on_call(schedule, overrides, at)
    until = _next_boundary(schedule, overrides, at)
    next_people, _ = people_on_call(schedule, overrides, until)
    for _ in range(64):
        if next_people != people:
            break
        until = _next_boundary(schedule, overrides, until)
        next_people, _ = people_on_call(schedule, overrides, until)
    return OnCallWindow(schedule.id, at, people, until, next_people, overridden)
