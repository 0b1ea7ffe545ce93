"""The console's front page: firing alerts, filtered by matchers and grouped by a label."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from gatewatch.matchers import MatcherSyntaxError, parse_matchers
from gatewatch.model import AlertStatus, StoredAlert
from gatewatch.web.deps import IncidentsDep
from gatewatch.web.ui.forms import User
from gatewatch.web.ui.render import page

router = APIRouter(include_in_schema=False)
GROUP_CHOICES = ["alertname", "severity", "service", "instance", "team"]


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=303)


@router.get("/ui/")
def alerts_page(
    request: Request,
    user: User,
    incidents: IncidentsDep,
    filter: str = "",
    group: str = "alertname",
) -> HTMLResponse:
    try:
        matchers = parse_matchers(filter) if filter.strip() else []
    except MatcherSyntaxError as exc:
        return page(
            request,
            "alerts.html",
            user,
            "Alerts",
            422,
            filter=filter,
            group=group,
            group_choices=GROUP_CHOICES,
            groups=[],
            flash=f"filter: {exc}",
            flash_kind="error",
        )
    firing = incidents.alerts(AlertStatus.FIRING, matchers)
    grouped: dict[str, list[StoredAlert]] = {}
    for alert in sorted(firing, key=lambda a: a.starts_at, reverse=True):
        grouped.setdefault(alert.labels.get(group, "(none)"), []).append(alert)
    choices = GROUP_CHOICES if group in GROUP_CHOICES else [group, *GROUP_CHOICES]
    return page(
        request,
        "alerts.html",
        user,
        "Alerts",
        filter=filter,
        group=group,
        group_choices=choices,
        groups=sorted(grouped.items()),
    )
