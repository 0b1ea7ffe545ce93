"""Who is on call in the console, and taking over a schedule for some hours."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from gatewatch.web.deps import OnCallDep, RuntimeDep
from gatewatch.web.ui.forms import Csrf, Responder, User, act
from gatewatch.web.ui.render import page

router = APIRouter(include_in_schema=False)


@router.get("/ui/oncall")
def oncall_page(
    request: Request, user: User, oncall: OnCallDep, runtime: RuntimeDep
) -> HTMLResponse:
    return page(
        request,
        "oncall.html",
        user,
        "On call",
        windows=oncall.on_call(None, runtime.clock.now()),
        overrides=oncall.overrides(None),
        schedules=list(oncall.schedules),
        people=list(oncall.people.values()),
    )


@router.post("/ui/oncall/overrides")
async def add_override(
    request: Request,
    user: Responder,
    csrf: Csrf,
    oncall: OnCallDep,
    runtime: RuntimeDep,
    schedule: Annotated[str, Form()],
    person: Annotated[str, Form()],
    hours: Annotated[int, Form(ge=1, le=720)],
) -> Response:
    start = runtime.clock.now()
    return await act(
        request,
        csrf,
        lambda: oncall.add_override(
            schedule, person, start, start + timedelta(hours=hours), user.name
        ),
        f"{person} is on call for {schedule} for the next {hours} h.",
        "/ui/oncall",
    )
