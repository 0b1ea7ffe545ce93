"""People and schedules as written in gatewatch.yml."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, PlainSerializer, field_validator

from gatewatch.config.base import ConfigModel
from gatewatch.durations import format_duration, parse_duration

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class PersonConfig(ConfigModel):
    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    slack_user_id: str | None = Field(default=None, pattern=r"^[UW][A-Z0-9]+$")
    webhook_url: str | None = Field(default=None, pattern=r"^https?://")

    @property
    def display_name(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class Months:
    """A shift of whole calendar months (`1mo`, `3mo`): hand-offs fall on the same day of
    the month (the month's last day where it is shorter) at the same wall-clock time."""

    count: int

    def __str__(self) -> str:
        return f"{self.count}mo"


_MONTHS = re.compile(r"^\s*(\d+)mo\s*$")


def _parse_shift(value: object) -> object:
    if isinstance(value, str) and (match := _MONTHS.match(value)):
        return Months(int(match.group(1)))
    return parse_duration(value) if isinstance(value, str) else value


ShiftLength = Annotated[
    timedelta | Months,
    BeforeValidator(_parse_shift),
    PlainSerializer(lambda v: str(v) if isinstance(v, Months) else format_duration(v)),
]


class LayerConfig(ConfigModel):
    """A rotation: people take turns of `shift` (a duration, or calendar months as `1mo`),
    the first turn starting at `handoff`.

    `handoff` is wall-clock time in the schedule's time zone, so a daily 09:00 hand-off
    stays at 09:00 across daylight-saving changes.
    """

    name: str = ""
    rotation: list[str] = Field(min_length=1)
    shift: ShiftLength
    handoff: datetime

    @field_validator("shift")
    @classmethod
    def _positive(cls, shift: timedelta | Months) -> timedelta | Months:
        if isinstance(shift, Months):
            if not 1 <= shift.count <= 120:
                raise ValueError("a shift of months must be 1mo to 120mo")
        elif shift <= timedelta(0):
            raise ValueError("shift must be longer than 0s")
        return shift

    @field_validator("handoff")
    @classmethod
    def _wall_clock(cls, handoff: datetime) -> datetime:
        if handoff.tzinfo is not None:
            raise ValueError("write handoff as local time without offset; time_zone applies")
        return handoff


class ScheduleConfig(ConfigModel):
    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    time_zone: str = "UTC"
    layers: list[LayerConfig] = Field(min_length=1)
    announce: str | None = Field(
        default=None, description="a channel told of every hand-off: who is on call, until when"
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {name!r}; use an IANA name like Europe/Berlin"
            ) from None
        return name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)
