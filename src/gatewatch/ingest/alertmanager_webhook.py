"""Alertmanager's webhook payload, version 4."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gatewatch.ingest.payload import (
    AnnotationSet,
    LabelName,
    LabelSet,
    LabelValue,
    Timestamp,
    Url,
)
from gatewatch.model import Alert, AlertBatch, AlertStatus, fingerprint


class WebhookAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    labels: LabelSet
    annotations: AnnotationSet = {}
    starts_at: Timestamp = Field(alias="startsAt")
    ends_at: Timestamp = Field(default=None, alias="endsAt")
    generator_url: Url = Field(default="", alias="generatorURL")
    fingerprint: str | None = None


class WebhookPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: Literal["4"]
    group_key: str = Field(alias="groupKey", min_length=1)
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts", ge=0)
    status: Literal["firing", "resolved"]
    receiver: str
    group_labels: dict[LabelName, LabelValue] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL")
    alerts: list[WebhookAlert]


def to_batch(payload: WebhookPayload, now: datetime) -> AlertBatch:
    """Normalize; the per-alert status Alertmanager computed is authoritative."""
    alerts = [
        Alert(
            labels=item.labels,
            annotations=item.annotations,
            starts_at=item.starts_at or now,
            ends_at=item.ends_at,
            generator_url=item.generator_url,
            status=AlertStatus(item.status),
            fingerprint=fingerprint(item.labels),
        )
        for item in payload.alerts
    ]
    return AlertBatch(
        source="alertmanager",
        alerts=alerts,
        group_key=payload.group_key,
        group_labels=payload.group_labels,
    )
