"""On-call windows and overrides."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gatewatch.model import Override
from gatewatch.oncall.rotation import OnCallWindow
from gatewatch.oncall.service import OnCall
from gatewatch.text import SafeText
from gatewatch.web.auth import API_ERRORS, Reader, Responder
from gatewatch.web.deps import OnCallDep, RuntimeDep
from gatewatch.web.schemas import Moment, PathId

router = APIRouter(prefix="/api/v1", tags=["paging"])


class PersonOut(BaseModel):
    id: str
    name: str


class OnCallOut(BaseModel):
    schedule: str
    at: datetime
    on_call: list[PersonOut]
    until: datetime
    next: list[PersonOut]
    overridden: bool


class OverrideIn(BaseModel):
    person: SafeText
    start: Moment
    end: Moment
    layer: SafeText | None = Field(
        default=None, description="a named layer: replace that layer's person only"
    )


class OverrideOut(BaseModel):
    id: int
    schedule: str
    person: str
    start: datetime
    end: datetime
    created_by: str
    layer: str | None

    @classmethod
    def of(cls, override: Override) -> "OverrideOut":
        return cls(
            id=override.id,
            schedule=override.schedule_id,
            person=override.person_id,
            start=override.starts_at,
            end=override.ends_at,
            created_by=override.created_by,
            layer=override.layer,
        )


def _people(oncall: OnCall, ids: list[str]) -> list[PersonOut]:
    return [PersonOut(id=person_id, name=oncall.display_name(person_id)) for person_id in ids]


def _window(oncall: OnCall, window: OnCallWindow) -> OnCallOut:
    return OnCallOut(
        schedule=window.schedule_id,
        at=window.at,
        on_call=_people(oncall, window.people),
        until=window.until,
        next=_people(oncall, window.next_people),
        overridden=window.overridden,
    )


@router.get("/oncall", response_model=list[OnCallOut], responses=API_ERRORS)
def on_call(
    oncall: OnCallDep,
    runtime: RuntimeDep,
    _caller: Reader,
    schedule: str | None = None,
    at: Annotated[Moment | None, Query(description="Default: now")] = None,
) -> list[OnCallOut]:
    windows = oncall.on_call(schedule, at or runtime.clock.now())
    return [_window(oncall, window) for window in windows]


@router.get(
    "/schedules/{schedule_id}/overrides", response_model=list[OverrideOut], responses=API_ERRORS
)
def list_overrides(oncall: OnCallDep, schedule_id: str, _caller: Reader) -> list[OverrideOut]:
    return [OverrideOut.of(o) for o in oncall.overrides(schedule_id)]


@router.post(
    "/schedules/{schedule_id}/overrides",
    response_model=OverrideOut,
    status_code=201,
    responses=API_ERRORS,
)
def add_override(
    oncall: OnCallDep, schedule_id: str, body: OverrideIn, caller: Responder
) -> OverrideOut:
    override = oncall.add_override(
        schedule_id, body.person, body.start, body.end, caller.name, body.layer
    )
    return OverrideOut.of(override)


class OverrideEndIn(BaseModel):
    end: Moment


@router.patch("/overrides/{override_id}", response_model=OverrideOut, responses=API_ERRORS)
def change_override_end(
    oncall: OnCallDep, override_id: PathId, body: OverrideEndIn, _caller: Responder
) -> OverrideOut:
    """Shorten or lengthen an override (it may not come to overlap another)."""
    return OverrideOut.of(oncall.change_end(override_id, body.end))


@router.delete("/overrides/{override_id}", status_code=204, responses=API_ERRORS)
def delete_override(oncall: OnCallDep, override_id: PathId, _caller: Responder) -> None:
    oncall.delete_override(override_id)
