"""The `rules:` section: the shipped packs tuned without forking them (seed 000, "Alert
Tuning"). Only the shape is checked here; which alert has which parameter, and in which
unit, is the packs' to say (`rules/tuning.py`)."""

import re

from pydantic import Field, field_validator

from gatewatch.config.base import ConfigModel
from gatewatch.durations import Duration

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class AlertOverride(ConfigModel):
    threshold: float | str | None = Field(
        default=None,
        description="In the alert's unit: a duration (500ms), a ratio (5% or 0.05), a count",
    )
    for_: Duration | None = Field(default=None, alias="for", description="Pending period")
    window: Duration | None = Field(
        default=None, description="The range of the alert's own rate()/changes() selectors"
    )
    labels: dict[str, str] = Field(default={}, description="Labels added or replaced")

    @field_validator("labels")
    @classmethod
    def _label_names(cls, labels: dict[str, str]) -> dict[str, str]:
        for name in labels:
            if not _LABEL_NAME.match(name):
                raise ValueError(f"{name!r} is not a Prometheus label name")
        return labels


class RulesTuning(ConfigModel):
    overrides: dict[str, AlertOverride] = Field(
        default={}, description="By alert name: threshold, for, window, labels"
    )
    disabled: list[str] = Field(default=[], description="Alerts left out of the built rules")
