"""Signing in and out of the console."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from gatewatch.signin.service import TooManyAttempts
from gatewatch.web.deps import SignInDep
from gatewatch.web.ui.forms import Csrf, back
from gatewatch.web.ui.render import page
from gatewatch.web.ui.session import check_csrf, csrf_token, remember, session_id

router = APIRouter(include_in_schema=False)


def _local(next_path: str) -> str:
    return next_path if next_path.startswith("/") and not next_path.startswith("//") else "/ui/"


def _form(request: Request, next_path: str, status: int = 200, flash: str = "") -> HTMLResponse:
    return page(
        request,
        "login.html",
        None,
        "Sign in",
        status,
        next=_local(next_path),
        login_csrf=csrf_token(request),
        flash=flash or None,
        flash_kind="error" if flash else "",
    )


@router.get("/ui/login")
def login_form(request: Request, next: str = "/ui/") -> HTMLResponse:
    return _form(request, next)


@router.post("/ui/login", response_model=None)
async def login(
    request: Request,
    signin: SignInDep,
    csrf: Annotated[str, Form(alias="csrf")] = "",
    token: Annotated[str, Form()] = "",
    user: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/ui/",
) -> Response:
    check_csrf(request, csrf)
    address = request.client.host if request.client else "unknown"
    try:
        signed_in = await run_in_threadpool(signin.attempt, token, user, password, address)
    except TooManyAttempts as exc:
        return _form(request, next, 429, f"{exc}.")
    if signed_in is None:
        return _form(request, next, 401, "Wrong user, password or token.")
    remember(request, signed_in[0])
    return back(_local(next))


@router.post("/ui/logout")
async def logout(request: Request, csrf: Csrf, signin: SignInDep) -> RedirectResponse:
    check_csrf(request, csrf)
    sid = session_id(request)
    if sid:
        await run_in_threadpool(signin.sign_out, sid)
    request.session.clear()
    return back("/ui/login")
