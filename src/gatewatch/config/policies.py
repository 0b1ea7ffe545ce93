"""Escalation policies as written in gatewatch.yml."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal, get_args

from pydantic import BeforeValidator, Field, PlainSerializer, model_validator

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


class PolicyConfig(ConfigModel):
    description: str = ""
    steps: list[EscalationStep] = []
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
        default=timedelta(milliseconds=200), description="How often due timers are looked for"
    )
