"""Post-incident reviews, action items and response-time reports over HTTP."""

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from gatewatch.durations import parse_duration
from gatewatch.postmortem.response_times import ResponseTimes
from gatewatch.postmortem.review import render_review
from gatewatch.store.reviews import ReviewText
from gatewatch.text import SafeText
from gatewatch.web.auth import API_ERRORS, Reader, Responder
from gatewatch.web.deps import ReviewsDep, RuntimeDep
from gatewatch.web.errors import InvalidQuery
from gatewatch.web.schemas import PathId

router = APIRouter(prefix="/api/v1", tags=["reviews"])
ReviewField = Annotated[SafeText, Field(max_length=20_000)]
MAX_REPORT_SPAN = timedelta(days=3650)


class ReviewIn(BaseModel):
    summary: ReviewField = ""
    impact: ReviewField = ""
    root_cause: ReviewField = ""
    resolution: ReviewField = ""
    went_well: ReviewField = ""
    went_wrong: ReviewField = ""
    lessons: ReviewField = ""


class ActionItemIn(BaseModel):
    text: SafeText = Field(min_length=1, max_length=2000)
    owner: SafeText = Field(min_length=1, max_length=255)
    due: date


class ActionItemStatus(BaseModel):
    status: Literal["open", "done"]


@router.get(
    "/incidents/{incident_id}/postmortem",
    response_class=PlainTextResponse,
    responses={**API_ERRORS, 200: {"content": {"text/markdown": {"schema": {"type": "string"}}}}},
)
def postmortem(reviews: ReviewsDep, incident_id: PathId, _caller: Reader) -> PlainTextResponse:
    """The review as Markdown, from the shipped template, pre-filled from the incident."""
    text = render_review(reviews.review(incident_id))
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")


@router.put("/incidents/{incident_id}/review", status_code=204, responses=API_ERRORS)
def save_review(
    reviews: ReviewsDep, incident_id: PathId, body: ReviewIn, caller: Responder
) -> None:
    reviews.save_review(incident_id, ReviewText(**body.model_dump()), caller.name)


@router.post("/incidents/{incident_id}/action-items", status_code=201, responses=API_ERRORS)
def add_action_item(
    reviews: ReviewsDep, incident_id: PathId, body: ActionItemIn, caller: Responder
) -> dict[str, int]:
    item = reviews.add_action_item(incident_id, body.text, body.owner, body.due, caller.name)
    return {"id": item}


@router.put("/action-items/{item_id}/status", status_code=204, responses=API_ERRORS)
def set_status(
    reviews: ReviewsDep, item_id: PathId, body: ActionItemStatus, _caller: Responder
) -> None:
    reviews.set_action_item_status(item_id, body.status)


@router.get("/reports/response-times", response_model=list[ResponseTimes], responses=API_ERRORS)
def response_times_report(
    reviews: ReviewsDep,
    runtime: RuntimeDep,
    _caller: Reader,
    since: Annotated[str, Query(description="a duration back from now, e.g. 30d")] = "30d",
) -> list[ResponseTimes]:
    """MTTA and MTTR per severity and service, over incidents triggered since then."""
    try:
        back = parse_duration(since)
    except (ValueError, OverflowError) as exc:
        raise InvalidQuery("query.since", str(exc)) from None
    if not timedelta(0) < back <= MAX_REPORT_SPAN:
        raise InvalidQuery("query.since", "must be a positive duration up to 3650d, e.g. 30d")
    return reviews.response_report(runtime.clock.now() - back)
