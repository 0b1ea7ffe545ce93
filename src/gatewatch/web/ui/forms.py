"""What every console form shares: the session's CSRF token, the role checked on the
server, and post/redirect/get with a one-line message."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from gatewatch.auth.roles import Permission, Principal
from gatewatch.errors import GatewatchError
from gatewatch.web.ui.render import flash
from gatewatch.web.ui.session import check_csrf, current_user, require_permission

Csrf = Annotated[str, Form(alias="csrf")]
User = Annotated[Principal, Depends(current_user)]


def responder(user: User) -> Principal:
    require_permission(user, Permission.RESPOND)
    return user


Responder = Annotated[Principal, Depends(responder)]


def back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


async def act(
    request: Request, csrf: str, work: Callable[[], object], done: str, to: str
) -> Response:
    """Check the form, do the work off the event loop, and redirect with what happened."""
    check_csrf(request, csrf)
    try:
        await run_in_threadpool(work)
    except GatewatchError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, done)
    return back(to)
