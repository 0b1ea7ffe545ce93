"""Who a step's targets are right now: people named, people on call, channels paged directly."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from gatewatch.config.oncall import ScheduleConfig
from gatewatch.config.policies import Target
from gatewatch.oncall.rotation import people_on_call
from gatewatch.store.oncall import list_overrides


@dataclass(frozen=True)
class Audience:
    people: list[str]  # each paged through the plan's channels, in order, once
    channels: list[str]  # channels paged directly, addressed to no one
    described: list[str]  # for the timeline


def resolve_targets(
    connection: Connection,
    targets: list[Target],
    schedules: Mapping[str, ScheduleConfig],
    now: datetime,
) -> Audience:
    people: list[str] = []
    channels: list[str] = []
    described: list[str] = []
    for target in targets:
        if target.kind == "person":
            people.append(target.id)
            described.append(target.id)
        elif target.kind == "schedule":
            schedule = schedules.get(target.id)
            on_call: list[str] = []
            if schedule is not None:
                overrides = list_overrides(connection, target.id, ending_after=now)
                on_call, _ = people_on_call(schedule, overrides, now)
            people += on_call
            described.append(f"{', '.join(on_call) or 'nobody'} (on call for {target.id})")
        else:
            channels.append(target.id)
            described.append(f"channel {target.id}")
    return Audience(list(dict.fromkeys(people)), channels, described)
