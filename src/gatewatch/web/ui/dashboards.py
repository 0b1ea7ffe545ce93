"""/dashboards/<uid>: alert annotations and runbooks link here, and gatewatch sends the
person on to that dashboard in the configured Grafana, so the rules and runbooks need not
know Grafana's address."""

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from gatewatch.web.deps import services_of
from gatewatch.web.ui.forms import User
from gatewatch.web.ui.render import page

router = APIRouter(include_in_schema=False)
UID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


@router.get("/dashboards/{uid}", response_model=None)
def dashboard(request: Request, uid: str, user: User) -> RedirectResponse | HTMLResponse:
    grafana = services_of(request).config.grafana
    if grafana is None or not UID.match(uid):
        message = (
            f"There is no dashboard {uid!r}."
            if grafana is not None
            else "No Grafana is configured: set grafana.url in gatewatch.yml to follow "
            "dashboard links."
        )
        return page(request, "message.html", user, "Dashboard", 404, message=message)
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"{grafana.url}/d/{uid}{query}", status_code=307)
