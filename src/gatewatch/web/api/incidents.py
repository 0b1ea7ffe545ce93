"""Incident and alert endpoints."""

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from gatewatch.matchers import Matcher, MatcherSyntaxError, parse_matchers
from gatewatch.model import AlertStatus, IncidentStatus
from gatewatch.store.incidents import IncidentFilter
from gatewatch.text import SafeText
from gatewatch.web.auth import API_ERRORS, Reader, Responder
from gatewatch.web.deps import EscalationDep, IncidentsDep
from gatewatch.web.errors import InvalidQuery
from gatewatch.web.schemas import (
    MAX_ROW_ID,
    ActionRequest,
    AlertList,
    AlertOut,
    IncidentDetailOut,
    IncidentOut,
    IncidentPage,
    NoteRequest,
    PathId,
    PathIdValue,
    TimelineEventOut,
)

router = APIRouter(prefix="/api/v1", tags=["incidents"])
OPEN = "open"


def _statuses(values: list[str]) -> tuple[IncidentStatus, ...]:
    statuses: list[IncidentStatus] = []
    for value in values:
        if value == OPEN:
            statuses += [IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED]
            continue
        try:
            statuses.append(IncidentStatus(value))
        except ValueError:
            allowed = ", ".join([OPEN, *(status.value for status in IncidentStatus)])
            raise InvalidQuery("query.status", f"unknown status {value!r}; use {allowed}") from None
    return tuple(statuses)


@router.get("/incidents", response_model=IncidentPage, responses=API_ERRORS)
def list_incidents(
    incidents: IncidentsDep,
    _caller: Reader,
    status: Annotated[list[str], Query(description="open, triggered, acknowledged, resolved")] = [],  # noqa: B006
    severity: Annotated[list[str], Query()] = [],  # noqa: B006
    service: Annotated[list[str], Query()] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
) -> IncidentPage:
    filters = IncidentFilter(_statuses(status), tuple(severity), tuple(service))
    items, total = incidents.list_incidents(filters, limit, offset)
    return IncidentPage(
        items=[IncidentOut.of(item) for item in items], total=total, limit=limit, offset=offset
    )


@router.get("/incidents/{incident_id}", response_model=IncidentDetailOut, responses=API_ERRORS)
def get_incident(
    incidents: IncidentsDep, incident_id: PathId, _caller: Reader
) -> IncidentDetailOut:
    return IncidentDetailOut.of_detail(incidents.detail(incident_id))


@router.post("/incidents/{incident_id}/ack", response_model=IncidentOut, responses=API_ERRORS)
def acknowledge_incident(
    incidents: IncidentsDep,
    incident_id: PathId,
    caller: Responder,
    action: Annotated[ActionRequest | None, Body()] = None,
) -> IncidentOut:
    note = action.note if action else None
    return IncidentOut.of(incidents.acknowledge(incident_id, caller.name, note))


@router.post("/incidents/{incident_id}/resolve", response_model=IncidentOut, responses=API_ERRORS)
def resolve_incident(
    incidents: IncidentsDep,
    incident_id: PathId,
    caller: Responder,
    action: Annotated[ActionRequest | None, Body()] = None,
) -> IncidentOut:
    note = action.note if action else None
    return IncidentOut.of(incidents.resolve(incident_id, caller.name, note))


class BulkActionIn(BaseModel):
    action: Literal["ack", "resolve"]
    ids: list[PathIdValue] = Field(default=[], max_length=1000)
    filter: SafeText = Field(
        default="",
        max_length=2000,
        description='or every open incident with a matching firing alert: service="im-gateway"',
    )
    note: SafeText | None = Field(default=None, max_length=10_000)


class BulkActionOut(BaseModel):
    done: list[int]
    refused: dict[int, str] = Field(description="incident id: why it was left as it was")


@router.post("/incidents/bulk", response_model=BulkActionOut, responses=API_ERRORS)
def act_on_many(incidents: IncidentsDep, body: BulkActionIn, caller: Responder) -> BulkActionOut:
    """Acknowledge or resolve many incidents at once, by ids or by a matcher on their alerts;
    each gets its own timeline entry."""
    ids = list(body.ids)
    if body.filter.strip():
        try:
            matchers = parse_matchers(body.filter)
        except MatcherSyntaxError as exc:
            raise InvalidQuery("body.filter", str(exc)) from None
        ids += incidents.matching_open(matchers)
    if not ids:
        raise InvalidQuery("body", "give ids, or a filter that matches open incidents")
    result = incidents.act_on_many(body.action, ids, caller.name, body.note)
    return BulkActionOut(done=result.done, refused=result.refused)


class EscalatedOut(BaseModel):
    incident_id: int
    step: int = Field(description="the step of the policy paged now (1-based)")


@router.post("/incidents/{incident_id}/escalate", response_model=EscalatedOut, responses=API_ERRORS)
def escalate(escalation: EscalationDep, incident_id: PathId, caller: Responder) -> EscalatedOut:
    """Page the policy's next step at once, without waiting for its delay."""
    step = escalation.escalate_now(incident_id, caller.name)
    return EscalatedOut(incident_id=incident_id, step=step)


@router.post(
    "/incidents/{incident_id}/notes",
    response_model=TimelineEventOut,
    status_code=201,
    responses=API_ERRORS,
)
def add_note(
    incidents: IncidentsDep, incident_id: PathId, caller: Responder, note: NoteRequest
) -> TimelineEventOut:
    return TimelineEventOut.of(incidents.add_note(incident_id, caller.name, note.text))


def _matchers(filters: list[str]) -> list[Matcher]:
    matchers: list[Matcher] = []
    for index, text in enumerate(filters):
        try:
            matchers += parse_matchers(text)
        except MatcherSyntaxError as exc:
            raise InvalidQuery(f"query.filter[{index}]", str(exc)) from None
    return matchers


@router.get("/alerts", response_model=AlertList, responses=API_ERRORS, tags=["alerts"])
def list_alerts(
    incidents: IncidentsDep,
    _caller: Reader,
    filter: Annotated[
        list[str], Query(description='Matchers, e.g. severity="critical" or {team=~"im.*"}')
    ] = [],  # noqa: B006
    status: Annotated[str, Query(pattern="^(firing|resolved|all)$")] = "firing",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
) -> AlertList:
    """Newest first, a page at a time (`total` counts them all)."""
    wanted = None if status == "all" else AlertStatus(status)
    found = incidents.alerts(wanted, _matchers(filter))
    page = found[offset : offset + limit]
    return AlertList(
        items=[AlertOut.of(alert) for alert in page], total=len(found), limit=limit, offset=offset
    )
