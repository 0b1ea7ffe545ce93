"""What the API returns and accepts, as pydantic models (they make /openapi.json)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from gatewatch.incidents.service import IncidentDetail
from gatewatch.model import AlertStatus, Incident, IncidentStatus, StoredAlert, TimelineEvent
from gatewatch.text import SafeText

# Row ids are 32-bit integers in both stores: a larger id in a path is a 422, not a 500.
MAX_ROW_ID = 2**31 - 1
PathId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
PathIdValue = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]  # the same, in a body


EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


def _in_range(moment: datetime) -> datetime:
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range: give a time between 1970 and 9000") from None
    if not EARLIEST <= utc < LATEST:
        raise ValueError("out of range: give a time between 1970 and 9000")
    return utc


# A moment in a request, with its offset; far enough from datetime's limits that on-call
# arithmetic (next hand-off, a week's shift) cannot overflow.
Moment = Annotated[AwareDatetime, AfterValidator(_in_range)]


class ErrorDetail(BaseModel):
    path: str = Field(description="JSON path of the offending field, e.g. alerts[0].labels")
    message: str


class ErrorBody(BaseModel):
    error: str
    details: list[ErrorDetail] = []


class IngestResponse(BaseModel):
    status: str = "success"
    accepted: int
    incidents_opened: list[int]
    incidents_resolved: list[int]


class AlertOut(BaseModel):
    fingerprint: str
    status: AlertStatus
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str
    source: str
    first_seen: datetime
    last_seen: datetime
    receive_count: int

    @classmethod
    def of(cls, alert: StoredAlert) -> "AlertOut":
        return cls.model_validate(alert, from_attributes=True)


class AlertList(BaseModel):
    items: list[AlertOut]
    total: int = Field(description="alerts matching the filter, on every page")
    limit: int
    offset: int


class IncidentOut(BaseModel):
    id: int
    status: IncidentStatus
    severity: str
    title: str
    service: str | None
    route: str
    policy: str | None
    group_labels: dict[str, str]
    triggered_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    updated_at: datetime

    @classmethod
    def of(cls, incident: Incident) -> "IncidentOut":
        return cls.model_validate(incident, from_attributes=True)


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    total: int
    limit: int
    offset: int


class TimelineEventOut(BaseModel):
    at: datetime
    actor: str
    kind: str
    message: str
    data: dict[str, object]

    @classmethod
    def of(cls, event: TimelineEvent) -> "TimelineEventOut":
        return cls.model_validate(event, from_attributes=True)


class IncidentDetailOut(IncidentOut):
    alerts: list[AlertOut]
    timeline: list[TimelineEventOut]

    @classmethod
    def of_detail(cls, detail: IncidentDetail) -> "IncidentDetailOut":
        return cls(
            **IncidentOut.of(detail.incident).model_dump(),
            alerts=[AlertOut.of(alert) for alert in detail.alerts],
            timeline=[TimelineEventOut.of(event) for event in detail.timeline],
        )


class ActionRequest(BaseModel):
    note: SafeText | None = Field(default=None, max_length=10_000)


class NoteRequest(BaseModel):
    text: SafeText = Field(min_length=1, max_length=10_000)
