"""The body of `POST /api/v2/alerts`, as Prometheus sends it to Alertmanager."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from gatewatch.ingest.payload import AnnotationSet, LabelSet, Timestamp, Url
from gatewatch.model import Alert, AlertBatch, AlertStatus, fingerprint

# Pushed alerts carry an endsAt that the sender keeps moving; they expire when it passes.
SOURCE = "prometheus"


class PostableAlert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: LabelSet
    annotations: AnnotationSet = {}
    starts_at: Timestamp = Field(default=None, alias="startsAt")
    ends_at: Timestamp = Field(default=None, alias="endsAt")
    generator_url: Url = Field(default="", alias="generatorURL")

    @model_validator(mode="after")
    def _ordered(self) -> "PostableAlert":
        if self.starts_at and self.ends_at and self.ends_at < self.starts_at:
            raise ValueError("endsAt is before startsAt")
        return self


class PostableAlerts(RootModel[list[PostableAlert]]):
    pass


def to_batch(payload: PostableAlerts, now: datetime) -> AlertBatch:
    """An alert whose endsAt has passed is resolved; otherwise it is firing."""
    alerts = [
        Alert(
            labels=item.labels,
            annotations=item.annotations,
            starts_at=item.starts_at or now,
            ends_at=item.ends_at,
            generator_url=item.generator_url,
            status=AlertStatus.RESOLVED
            if item.ends_at is not None and item.ends_at <= now
            else AlertStatus.FIRING,
            fingerprint=fingerprint(item.labels),
        )
        for item in payload.root
    ]
    return AlertBatch(source=SOURCE, alerts=alerts)
