"""Escalation policies as written in gatewatch.yml."""

from datetime import timedelta

from pydantic import Field, field_validator, model_validator

from gatewatch.config_base import ConfigModel
from gatewatch.durations import Duration

TARGET_KINDS = ("person", "schedule", "channel")


class EscalationStep(ConfigModel):
    """Who is paged, `after` this long from the incident's trigger."""

    after: Duration = timedelta(0)
    targets: list[str] = Field(min_length=1)

    @field_validator("targets")
    @classmethod
    def _kind_and_id(cls, targets: list[str]) -> list[str]:
        for target in targets:
            kind, _, ident = target.partition(":")
            if kind not in TARGET_KINDS or not ident:
                raise ValueError(
                    f"target {target!r}: expected person:ID, schedule:ID or channel:ID"
                )
        return targets


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
