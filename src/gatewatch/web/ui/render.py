"""Templates and what every page shows: the signed-in person, the CSRF token, the navigation
and the header's status indicator (firing alerts by severity)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markdown_it import MarkdownIt

from gatewatch.auth.roles import ROLE_PERMISSIONS, Permission, Principal
from gatewatch.timestamps import format_utc
from gatewatch.urls import web_link
from gatewatch.web.deps import services_of
from gatewatch.web.ui.session import CSRF_FIELD

NAV = [
    ("/ui/", "Alerts"),
    ("/ui/incidents", "Incidents"),
    ("/ui/silences", "Silences"),
    ("/ui/oncall", "On call"),
    ("/ui/slos", "SLOs"),
    ("/ui/notifications", "Notifications"),
    ("/runbooks/", "Runbooks"),
]

# Runbooks and reviews: CommonMark with tables, raw HTML off (no script from a document).
markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
templates = Jinja2Templates(directory=str(resources.files("gatewatch.web.ui") / "templates"))


def ago(moment: datetime | None) -> str:
    if moment is None:
        return ""
    seconds = int((datetime.now(UTC) - moment).total_seconds())
    if seconds < 0:
        return f"in {-seconds // 60} min"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


templates.env.filters["ago"] = ago
templates.env.filters["clock"] = format_utc
templates.env.filters["web_link"] = web_link


@dataclass(frozen=True)
class StatusIndicator:
    total: int
    by_severity: list[tuple[str, int]]


def status_indicator(request: Request) -> StatusIndicator:
    services = services_of(request)
    counts = services.incidents.firing_by_severity()
    order = [level.name for level in services.config.severities]
    ranked = sorted(counts.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
    return StatusIndicator(sum(counts.values()), ranked)


def page(
    request: Request,
    template: str,
    user: Principal | None,
    title: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    people = {p.id: p.display_name for p in services_of(request).config.people}
    flash = request.session.pop("flash", None) if "session" in request.scope else None
    base = {
        "user": user,
        "title": title,
        "nav": NAV,
        "here": request.url.path,
        "csrf": request.session.get(CSRF_FIELD, "") if user else "",
        "status": status_indicator(request) if user else None,
        "can_respond": user is not None and Permission.RESPOND in ROLE_PERMISSIONS[user.role],
        "flash": flash[0] if flash else None,
        "flash_kind": flash[1] if flash else "",
        "person": lambda ident: people.get(ident, ident),
    }
    return templates.TemplateResponse(request, template, base | context, status_code=status_code)


def flash(request: Request, message: str, kind: str = "") -> None:
    """A one-line message shown on the next page (after a form's redirect)."""
    request.session["flash"] = [message, kind]
