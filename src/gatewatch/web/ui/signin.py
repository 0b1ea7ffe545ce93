"""Signing in and out of the console."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gatewatch.web.deps import ConfigDep
from gatewatch.web.ui.forms import Csrf, back
from gatewatch.web.ui.render import page
from gatewatch.web.ui.session import check_credentials, check_csrf, sign_in

router = APIRouter(include_in_schema=False)


@router.get("/ui/login")
def login_form(request: Request, next: str = "/ui/") -> HTMLResponse:
    return page(
        request, "login.html", None, "Sign in", next=next if next.startswith("/") else "/ui/"
    )


@router.post("/ui/login", response_model=None)
def login(
    request: Request,
    config: ConfigDep,
    token: Annotated[str, Form()] = "",
    user: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/ui/",
) -> Response:
    principal = check_credentials(config, token, user, password)
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
    return back(next if next.startswith("/") and not next.startswith("//") else "/ui/")


@router.post("/ui/logout")
def logout(request: Request, csrf: Csrf) -> RedirectResponse:
    check_csrf(request, csrf)
    request.session.clear()
    return back("/ui/login")
