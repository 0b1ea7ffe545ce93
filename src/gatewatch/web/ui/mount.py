"""Puts the console into the API's application: session cookies, static files, the page and
form routes, and what a refused request looks like to a person."""

from collections.abc import Awaitable, Callable
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from gatewatch.config import GatewatchConfig
from gatewatch.web.ui import (
    alerts,
    dashboards,
    incidents,
    notifications,
    oncall,
    reviews,
    runbooks,
    signin,
    silences,
    slos,
)
from gatewatch.web.ui.render import page
from gatewatch.web.ui.session import (
    BadCsrf,
    NotAllowed,
    SignInRequired,
    current_user,
    session_secret,
)

# The console's pages run only their own script and stylesheet, and no site may frame them.
CONSOLE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
CONSOLE_PATHS = ("/ui", "/runbooks", "/dashboards")


def install_console(app: FastAPI, config: GatewatchConfig) -> None:
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(config),
        session_cookie="gatewatch_session",
        max_age=int(config.auth.session_lifetime.total_seconds()),
        same_site="lax",
        https_only=config.auth.cookie_secure,
    )

    @app.middleware("http")
    async def console_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        path = request.url.path
        if path == "/" or path.startswith(CONSOLE_PATHS):
            response.headers.update(CONSOLE_HEADERS)
        else:
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    static = resources.files("gatewatch.web.ui") / "static"
    app.mount("/ui/static", StaticFiles(directory=str(static)), name="static")
    pages = (
        signin,
        alerts,
        incidents,
        silences,
        oncall,
        slos,
        notifications,
        reviews,
        runbooks,
        dashboards,
    )
    for module in pages:
        app.include_router(module.router)

    @app.exception_handler(SignInRequired)
    async def sign_in_first(_: Request, exc: SignInRequired) -> Response:
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(NotAllowed)
    async def not_allowed(request: Request, exc: NotAllowed) -> Response:
        user = current_user(request)
        return page(request, "message.html", user, "Not allowed", 403, message=str(exc))

    @app.exception_handler(BadCsrf)
    async def bad_csrf(request: Request, exc: BadCsrf) -> Response:
        return page(request, "message.html", None, "Form expired", 403, message=str(exc))
