"""What the console's buttons do: every form carries the session's CSRF token, every action
checks the role on the server, then redirects (post/redirect/get) with a one-line message."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from gatewatch.config import Permission
from gatewatch.durations import parse_duration
from gatewatch.errors import GatewatchError
from gatewatch.store.reviews import TEXT_FIELDS, ReviewText
from gatewatch.web.auth import Principal
from gatewatch.web.context import engine_of
from gatewatch.web.ui.pages import silence_client
from gatewatch.web.ui.render import flash, page
from gatewatch.web.ui.session import (
    check_credentials,
    check_csrf,
    current_user,
    require_permission,
    sign_in,
)

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(alias="csrf")]
MAX_SILENCE = timedelta(days=7)


def responder(user: Annotated[Principal, Depends(current_user)]) -> Principal:
    require_permission(user, Permission.RESPOND)
    return user


Responder = Annotated[Principal, Depends(responder)]


def _back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


@router.post("/ui/login", response_model=None)
def login(
    request: Request,
    token: Annotated[str, Form()] = "",
    user: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/ui/",
) -> Response:
    principal = check_credentials(engine_of(request).config, token, user, password)
    if principal is None:
        return page(
            request,
            "login.html",
            None,
            "Sign in",
            401,
            next=next,
            flash="Wrong user, password or token.",
            flash_kind="error",
        )
    sign_in(request, principal)
    return _back(next if next.startswith("/") and not next.startswith("//") else "/ui/")


@router.post("/ui/logout")
def logout(request: Request, csrf: Csrf) -> RedirectResponse:
    check_csrf(request, csrf)
    request.session.clear()
    return _back("/ui/login")


async def _act(
    request: Request, csrf: str, work: Callable[[], object], done: str, back: str
) -> Response:
    check_csrf(request, csrf)
    try:
        await run_in_threadpool(work)
    except GatewatchError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, done)
    return _back(back)


@router.post("/ui/incidents/{incident_id}/ack")
async def acknowledge(request: Request, incident_id: int, user: Responder, csrf: Csrf) -> Response:
    engine = engine_of(request)
    return await _act(
        request,
        csrf,
        lambda: engine.acknowledge(incident_id, user.name, None),
        f"Incident #{incident_id} acknowledged: escalation stopped.",
        f"/ui/incidents/{incident_id}",
    )


@router.post("/ui/incidents/{incident_id}/resolve")
async def resolve(request: Request, incident_id: int, user: Responder, csrf: Csrf) -> Response:
    engine = engine_of(request)
    return await _act(
        request,
        csrf,
        lambda: engine.resolve(incident_id, user.name, None),
        f"Incident #{incident_id} resolved.",
        f"/ui/incidents/{incident_id}",
    )


@router.post("/ui/incidents/{incident_id}/note")
async def note(
    request: Request,
    incident_id: int,
    user: Responder,
    csrf: Csrf,
    text: Annotated[str, Form(min_length=1, max_length=10_000)],
) -> Response:
    engine = engine_of(request)
    return await _act(
        request,
        csrf,
        lambda: engine.add_note(incident_id, user.name, text),
        "Note added.",
        f"/ui/incidents/{incident_id}",
    )


def _labels(text: str) -> dict[str, str]:
    labels = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise GatewatchError(f"matchers line {number}: expected label=value, got {line!r}")
        labels[name.strip()] = value.strip().strip('"')
    if not labels:
        raise GatewatchError("a silence needs at least one label=value line")
    return labels


@router.post("/ui/silences", response_model=None)
def create_silence(
    request: Request,
    user: Responder,
    csrf: Csrf,
    matchers: Annotated[str, Form()],
    duration: Annotated[str, Form()],
    comment: Annotated[str, Form(min_length=1, max_length=500)],
) -> Response:
    check_csrf(request, csrf)
    try:
        labels = _labels(matchers)
        length = parse_duration(duration)
        if not timedelta(0) < length <= MAX_SILENCE:
            raise GatewatchError("duration must be between 1 minute and 7 days")
        with silence_client(request) as client:
            silence_id = client.create(labels, length, comment, user.name)
    except (GatewatchError, ValueError) as exc:
        return page(
            request,
            "silence_new.html",
            user,
            "New silence",
            422,
            labels={},
            flash=str(exc),
            flash_kind="error",
        )
    flash(request, f"Silence {silence_id} created in Alertmanager for {duration}.")
    return _back("/ui/silences")


@router.post("/ui/silences/{silence_id}/expire")
def expire_silence(request: Request, silence_id: str, user: Responder, csrf: Csrf) -> Response:
    check_csrf(request, csrf)
    try:
        with silence_client(request) as client:
            client.expire(silence_id)
    except GatewatchError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, f"Silence {silence_id} expired.")
    return _back("/ui/silences")


@router.post("/ui/oncall/overrides")
async def add_override(
    request: Request,
    user: Responder,
    csrf: Csrf,
    schedule: Annotated[str, Form()],
    person: Annotated[str, Form()],
    hours: Annotated[int, Form(ge=1, le=720)],
) -> Response:
    engine = engine_of(request)
    start = engine.clock.now()
    return await _act(
        request,
        csrf,
        lambda: engine.add_override(
            schedule, person, start, start + timedelta(hours=hours), user.name
        ),
        f"{person} is on call for {schedule} for the next {hours} h.",
        "/ui/oncall",
    )


@router.post("/ui/notifications/{notification_id}/resend")
async def resend(request: Request, notification_id: int, user: Responder, csrf: Csrf) -> Response:
    engine = engine_of(request)
    return await _act(
        request,
        csrf,
        lambda: engine.resend(notification_id),
        f"Notification {notification_id} queued again.",
        "/ui/notifications?status=dead",
    )


@router.post("/ui/incidents/{incident_id}/review")
async def save_review(request: Request, incident_id: int, user: Responder) -> Response:
    form = await request.form()
    fields = {name: str(form.get(name, ""))[:20_000] for name in TEXT_FIELDS}
    engine = engine_of(request)
    return await _act(
        request,
        str(form.get("csrf", "")),
        lambda: engine.save_review(incident_id, ReviewText(**fields), user.name),
        "Review saved.",
        f"/ui/incidents/{incident_id}/review",
    )


@router.post("/ui/incidents/{incident_id}/action-items")
async def add_action_item(
    request: Request,
    incident_id: int,
    user: Responder,
    csrf: Csrf,
    text: Annotated[str, Form(min_length=1, max_length=2000)],
    owner: Annotated[str, Form(min_length=1, max_length=255)],
    due: Annotated[date, Form()],
) -> Response:
    engine = engine_of(request)
    return await _act(
        request,
        csrf,
        lambda: engine.add_action_item(incident_id, text, owner, due, user.name),
        f"Action item added for {owner}, due {due}.",
        f"/ui/incidents/{incident_id}/review",
    )


@router.post("/ui/action-items/{item_id}/status")
async def set_action_item_status(
    request: Request,
    item_id: int,
    user: Responder,
    csrf: Csrf,
    incident: Annotated[int, Form()],
    status: Annotated[Literal["open", "done"], Form()],
) -> Response:
    engine = engine_of(request)
    return await _act(
        request,
        csrf,
        lambda: engine.set_action_item_status(item_id, status),
        f"Action item {item_id} is {status}.",
        f"/ui/incidents/{incident}/review",
    )
