"""On-call, overrides, notifications, and Slack's interactive buttons."""

import json
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, Field
from starlette.concurrency import run_in_threadpool

from gatewatch.errors import Conflict, NotFound
from gatewatch.notify.slack import ACK_ACTION, RESOLVE_ACTION
from gatewatch.notify.slack_signature import InvalidSlackSignature, verify_slack_request
from gatewatch.oncall.rotation import OnCallWindow, Override
from gatewatch.service import IncidentEngine
from gatewatch.store.outbox import Notification
from gatewatch.web.auth import API_ERRORS, Reader, Responder, Unauthorized
from gatewatch.web.context import engine_of

router = APIRouter(prefix="/api/v1", tags=["paging"])
SLACK_BODY_LIMIT = 1024 * 1024


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
    person: str
    start: AwareDatetime
    end: AwareDatetime


class OverrideOut(BaseModel):
    id: int
    schedule: str
    person: str
    start: datetime
    end: datetime
    created_by: str

    @classmethod
    def of(cls, override: Override) -> "OverrideOut":
        return cls(
            id=override.id,
            schedule=override.schedule_id,
            person=override.person_id,
            start=override.starts_at,
            end=override.ends_at,
            created_by=override.created_by,
        )


class NotificationOut(BaseModel):
    id: int
    incident_id: int | None
    channel: str
    kind: str
    person: str | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    title: str = Field(description="The message's title as sent")

    @classmethod
    def of(cls, notification: Notification) -> "NotificationOut":
        data = {k: v for k, v in vars(notification).items() if k != "message"}
        return cls(**data, title=str(notification.message.get("title", "")))


def _people(engine: IncidentEngine, ids: list[str]) -> list[PersonOut]:
    result = []
    for person_id in ids:
        person = engine.config.person(person_id)
        result.append(PersonOut(id=person_id, name=person.display_name if person else person_id))
    return result


def _window(engine: IncidentEngine, window: OnCallWindow) -> OnCallOut:
    return OnCallOut(
        schedule=window.schedule_id,
        at=window.at,
        on_call=_people(engine, window.people),
        until=window.until,
        next=_people(engine, window.next_people),
        overridden=window.overridden,
    )


@router.get("/oncall", response_model=list[OnCallOut], responses=API_ERRORS)
def on_call(
    request: Request,
    _caller: Reader,
    schedule: str | None = None,
    at: Annotated[AwareDatetime | None, Query(description="Default: now")] = None,
) -> list[OnCallOut]:
    engine = engine_of(request)
    windows = engine.on_call(schedule, at or engine.clock.now())
    return [_window(engine, window) for window in windows]


@router.get(
    "/schedules/{schedule_id}/overrides", response_model=list[OverrideOut], responses=API_ERRORS
)
def list_overrides(request: Request, schedule_id: str, _caller: Reader) -> list[OverrideOut]:
    return [OverrideOut.of(o) for o in engine_of(request).overrides(schedule_id)]


@router.post(
    "/schedules/{schedule_id}/overrides",
    response_model=OverrideOut,
    status_code=201,
    responses=API_ERRORS,
)
def add_override(
    request: Request, schedule_id: str, body: OverrideIn, caller: Responder
) -> OverrideOut:
    override = engine_of(request).add_override(
        schedule_id, body.person, body.start, body.end, caller.name
    )
    return OverrideOut.of(override)


@router.delete("/overrides/{override_id}", status_code=204, responses=API_ERRORS)
def delete_override(request: Request, override_id: int, _caller: Responder) -> None:
    engine_of(request).delete_override(override_id)


@router.get("/notifications", response_model=list[NotificationOut], responses=API_ERRORS)
def notifications(
    request: Request,
    _caller: Reader,
    status: Annotated[str | None, Query(pattern="^(pending|sending|delivered|dead)$")] = None,
    incident: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[NotificationOut]:
    found = engine_of(request).notifications(status, incident, limit)
    return [NotificationOut.of(n) for n in found]


@router.post("/notifications/{notification_id}/resend", status_code=202, responses=API_ERRORS)
def resend(request: Request, notification_id: int, _caller: Responder) -> dict[str, str]:
    engine_of(request).resend(notification_id)
    return {"status": "queued"}


def _slack_actor(engine: IncidentEngine, user: dict[str, Any]) -> str:
    user_id = str(user.get("id", ""))
    person = next((p for p in engine.config.people if p.slack_user_id == user_id), None)
    return person.id if person else f"slack:{user.get('username') or user_id}"


@router.post("/webhooks/slack/actions", tags=["ingest"], responses=API_ERRORS)
async def slack_actions(request: Request) -> dict[str, str]:
    """Slack's interactivity request for the Acknowledge / Resolve buttons, signature checked."""
    engine = engine_of(request)
    body = await request.body()
    if len(body) > SLACK_BODY_LIMIT:
        raise Conflict("body too large")
    secrets = [
        c.signing_secret for c in engine.config.channels if c.type == "slack" and c.signing_secret
    ]
    try:
        verify_slack_request(
            secrets,
            request.headers.get("x-slack-request-timestamp"),
            request.headers.get("x-slack-signature"),
            body,
            engine.clock.now().timestamp(),
        )
    except InvalidSlackSignature as exc:
        raise Unauthorized(f"slack request refused: {exc}") from None
    try:
        payload = json.loads(parse_qs(body.decode())["payload"][0])
        action = payload["actions"][0]
        incident_id = int(action["value"])
        action_id = action["action_id"]
    except (KeyError, IndexError, ValueError, TypeError, UnicodeDecodeError):
        raise Conflict("not a block_actions payload with a gatewatch button") from None
    actor = _slack_actor(engine, payload.get("user") or {})
    try:
        if action_id == ACK_ACTION:
            await run_in_threadpool(engine.acknowledge, incident_id, actor, None)
            text = f"Incident #{incident_id} acknowledged by {actor}"
        elif action_id == RESOLVE_ACTION:
            await run_in_threadpool(engine.resolve, incident_id, actor, None)
            text = f"Incident #{incident_id} resolved by {actor}"
        else:
            return {"text": "nothing to do"}
    except (Conflict, NotFound) as exc:
        text = str(exc)
    return {"text": text}
