"""Escalation policies as written in gatewatch.yml."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, PlainSerializer, field_validator, model_validator

from gatewatch.config.base import ConfigModel
from gatewatch.durations import Duration

TargetKind = Literal["person", "schedule", "channel"]
TARGET_KINDS: tuple[TargetKind, ...] = get_args(TargetKind)


@dataclass(frozen=True)
class Target:
    """Whom a step pages: a person, whoever a schedule has on call, or a channel directly.

    Written `kind:id` in the config and in stored plans; parsed once, here.
    """

    kind: TargetKind
    id: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


def parse_target(value: object) -> Target:
    if isinstance(value, Target):
        return value
    text = str(value)
    kind, _, ident = text.partition(":")
    for known in TARGET_KINDS:
        if kind == known and ident:
            return Target(known, ident)
    raise ValueError(f"target {text!r}: expected person:ID, schedule:ID or channel:ID")


TargetField = Annotated[Target, BeforeValidator(parse_target), PlainSerializer(str)]


class EscalationStep(ConfigModel):
    """Who is paged, `after` this long from the incident's trigger."""

    after: Duration = timedelta(0)
    targets: list[TargetField] = Field(min_length=1)


class ManualStep(ConfigModel):
    """Who is paged when a responder escalates by hand once the timed steps are used up
    (P2's "manual escalation"): never on a timer."""

    targets: list[TargetField] = Field(min_length=1)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)


class BusinessHours(ConfigModel):
    """When people work: weekdays and a time of day in a time zone, holidays excepted.
    Wall-clock times, so 09:00 stays 09:00 across daylight-saving changes."""

    time_zone: str = "UTC"
    days: list[Weekday] = Field(default=["mon", "tue", "wed", "thu", "fri"], min_length=1)
    start: time = time(9)
    end: time = time(18)
    holidays: list[date] = []

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use e.g. Europe/Berlin)") from None
        return value

    @model_validator(mode="after")
    def _ordered(self) -> "BusinessHours":
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def next_open(self, at: datetime) -> datetime:
        """`at` itself while the hours are open; otherwise when they next open (UTC)."""
        zone = ZoneInfo(self.time_zone)
        local = at.astimezone(zone)
        for offset in range(0, 400):
            day = local.date() + timedelta(days=offset)
            if WEEKDAYS[day.weekday()] not in self.days or day in self.holidays:
                continue
            opens = datetime.combine(day, self.start, tzinfo=zone)
            closes = datetime.combine(day, self.end, tzinfo=zone)
            if opens <= local < closes:
                return at
            if local < opens:
                return opens.astimezone(UTC)
        return at  # no working day in a year: do not hold a page back for ever

    def describe(self) -> str:
        days = ", ".join(self.days)
        return f"{days} {self.start:%H:%M}-{self.end:%H:%M} {self.time_zone}"


class PolicyConfig(ConfigModel):
    description: str = ""
    business_hours: BusinessHours | None = Field(
        default=None,
        description="page only within these hours: outside, the first page waits for them",
    )
    steps: list[EscalationStep] = []
    manual_steps: list[ManualStep] = Field(
        default=[],
        description="paged in order, one per 'escalate now', after the timed steps",
    )
    repeat: int = Field(default=0, ge=0, le=20, description="Run all steps again N times")
    repeat_interval: Duration = Field(
        default=timedelta(minutes=15), description="Pause after the last step before a repeat"
    )
    ack_timeout: Duration | None = Field(
        default=None, description="An acknowledged, unresolved incident triggers again after this"
    )

    @model_validator(mode="after")
    def _ordered(self) -> "PolicyConfig":
        delays = [step.after for step in self.steps]
        if delays != sorted(delays):
            raise ValueError("steps must be in order of `after`")
        return self


class SchedulerConfig(ConfigModel):
    poll_interval: Duration = Field(
        default=timedelta(milliseconds=200),
        description="Longest sleep between looks for due timers (the loop wakes earlier, at "
        "the earliest due timer, or when a change adds one)",
    )
    claim_lease: Duration = Field(
        default=timedelta(seconds=15),
        description="How long timers claimed by a pass stay its own; a replica that dies "
        "mid-pass leaves them to another after this",
    )
    batch_size: int = Field(
        default=500, ge=1, le=10_000, description="Most timers one pass claims and runs"
    )
