"""The console's pages: what a responder reads at 3 a.m. Actions live in `forms`."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from gatewatch.errors import GatewatchError, NotFound
from gatewatch.matchers import MatcherSyntaxError, parse_matchers
from gatewatch.model import AlertStatus, IncidentStatus, StoredAlert
from gatewatch.postmortem.review import PAGE_KINDS, render_review, span
from gatewatch.silences import SilenceClient
from gatewatch.slo.burndown import budget_history
from gatewatch.slo.generate import PERIOD_DAYS
from gatewatch.slo.status import slo_status
from gatewatch.store.incidents import IncidentFilter
from gatewatch.web.auth import Principal
from gatewatch.web.context import engine_of
from gatewatch.web.ui.charts import budget_chart
from gatewatch.web.ui.escalation import escalation_steps
from gatewatch.web.ui.render import markdown, page
from gatewatch.web.ui.session import current_user

router = APIRouter(include_in_schema=False)
User = Annotated[Principal, Depends(current_user)]
GROUP_CHOICES = ["alertname", "severity", "service", "instance", "team"]
STATUS_FILTERS: dict[str, tuple[IncidentStatus, ...]] = {
    "open": (IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED),
    "resolved": (IncidentStatus.RESOLVED,),
    "all": (),
}


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=303)


@router.get("/ui/login")
def login_form(request: Request, next: str = "/ui/") -> HTMLResponse:
    return page(
        request, "login.html", None, "Sign in", next=next if next.startswith("/") else "/ui/"
    )


@router.get("/ui/")
def alerts_page(
    request: Request, user: User, filter: str = "", group: str = "alertname"
) -> HTMLResponse:
    engine = engine_of(request)
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
    firing = engine.alerts(AlertStatus.FIRING, matchers)
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


@router.get("/ui/incidents")
def incidents_page(request: Request, user: User, status: str = "open") -> HTMLResponse:
    statuses = STATUS_FILTERS.get(status, STATUS_FILTERS["open"])
    items, _ = engine_of(request).list_incidents(IncidentFilter(statuses), 200, 0)
    return page(request, "incidents.html", user, "Incidents", incidents=items, status=status)


@router.get("/ui/incidents/{incident_id}")
def incident_page(request: Request, incident_id: int, user: User) -> HTMLResponse:
    engine = engine_of(request)
    try:
        detail = engine.incident_detail(incident_id)
    except NotFound as exc:
        return page(request, "message.html", user, "Not found", 404, message=str(exc))
    plan, timers = engine.escalation(incident_id)
    pages = [n for n in engine.notifications(None, incident_id, 200) if n.kind in PAGE_KINDS]
    runbooks = sorted(
        {a.annotations["runbook_url"] for a in detail.alerts if a.annotations.get("runbook_url")}
    )
    return page(
        request,
        "incident.html",
        user,
        f"#{incident_id} {detail.incident.title}",
        incident=detail.incident,
        alerts=detail.alerts,
        timeline=list(reversed(detail.timeline)),
        steps=escalation_steps(engine.config, plan, timers),
        pages=pages,
        runbooks=runbooks,
    )


@contextmanager
def silence_client(request: Request) -> Iterator[SilenceClient]:
    with httpx.Client(timeout=5) as http:
        yield SilenceClient(engine_of(request).config.alertmanager.url, http)


@router.get("/ui/silences")
def silences_page(request: Request, user: User) -> HTMLResponse:
    try:
        with silence_client(request) as client:
            silences = client.list()
    except GatewatchError as exc:
        return page(request, "silences.html", user, "Silences", silences=[], error=str(exc))
    return page(request, "silences.html", user, "Silences", silences=silences, error=None)


@router.get("/ui/silences/new")
def new_silence_page(request: Request, user: User, fingerprint: str = "") -> HTMLResponse:
    alert = engine_of(request).alert(fingerprint) if fingerprint else None
    return page(
        request, "silence_new.html", user, "New silence", labels=alert.labels if alert else {}
    )


@router.get("/ui/oncall")
def oncall_page(request: Request, user: User) -> HTMLResponse:
    engine = engine_of(request)
    now = engine.clock.now()
    return page(
        request,
        "oncall.html",
        user,
        "On call",
        windows=engine.on_call(None, now),
        overrides=engine.overrides(None),
        schedules=[s.id for s in engine.config.schedules],
        people=engine.config.people,
    )


@router.get("/ui/slos")
def slos_page(request: Request, user: User) -> HTMLResponse:
    engine = engine_of(request)
    url = engine.config.prometheus.url
    specs = engine.slo_specs()
    charts, statuses, error = [], [], None
    with httpx.Client(timeout=5) as http:
        try:
            statuses = slo_status(url, specs, http, check_buckets=False)
            for spec in specs:
                for slo in spec.slos:
                    points = budget_history(url, spec, slo, http)
                    charts.append(
                        {"title": f"{spec.service} {slo.name}", "svg": budget_chart(points)}
                    )
        except GatewatchError as exc:
            error = str(exc)
    # A dependency being down is shown on the page, which itself worked: 200.
    return page(
        request,
        "slos.html",
        user,
        "SLOs",
        statuses=statuses,
        charts=charts,
        error=error,
        period=f"{PERIOD_DAYS} days",
    )


@router.get("/ui/notifications")
def notifications_page(request: Request, user: User, status: str | None = None) -> HTMLResponse:
    wanted = status if status in ("pending", "sending", "delivered", "dead") else None
    found = engine_of(request).notifications(wanted, None, 200)
    return page(request, "notifications.html", user, "Notifications", notifications=found)


REVIEW_FIELDS = [
    ("summary", "Summary"),
    ("impact", "Impact"),
    ("root_cause", "Root cause"),
    ("resolution", "Resolution"),
    ("went_well", "What went well"),
    ("went_wrong", "What went wrong"),
    ("lessons", "Lessons learned"),
]


@router.get("/ui/incidents/{incident_id}/review")
def review_page(request: Request, incident_id: int, user: User) -> HTMLResponse:
    try:
        review = engine_of(request).review(incident_id)
    except NotFound as exc:
        return page(request, "message.html", user, "Not found", 404, message=str(exc))
    return page(
        request,
        "review.html",
        user,
        f"Review #{incident_id}",
        review=review,
        fields=REVIEW_FIELDS,
        tta=span(review.time_to_acknowledge),
        ttr=span(review.time_to_resolve),
        document=Markup(markdown.render(render_review(review))),
    )
