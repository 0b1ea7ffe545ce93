"""Incidents in the console: the list, one incident with its escalation and pages, and the
acknowledge / resolve / note buttons."""

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from gatewatch.errors import NotFound
from gatewatch.model import IncidentStatus
from gatewatch.postmortem.review import PAGE_KINDS
from gatewatch.store.incidents import IncidentFilter
from gatewatch.text import SafeText
from gatewatch.web.deps import EscalationDep, IncidentsDep, NotificationsDep, OnCallDep
from gatewatch.web.schemas import MAX_ROW_ID, PathId
from gatewatch.web.ui.escalation import escalation_steps
from gatewatch.web.ui.forms import Csrf, Responder, User, act, back
from gatewatch.web.ui.render import flash, page
from gatewatch.web.ui.session import check_csrf

router = APIRouter(include_in_schema=False)
STATUS_FILTERS: dict[str, tuple[IncidentStatus, ...]] = {
    "open": (IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED),
    "resolved": (IncidentStatus.RESOLVED,),
    "all": (),
}


@router.get("/ui/incidents")
def incidents_page(
    request: Request, user: User, incidents: IncidentsDep, status: str = "open"
) -> HTMLResponse:
    statuses = STATUS_FILTERS.get(status, STATUS_FILTERS["open"])
    items, _ = incidents.list_incidents(IncidentFilter(statuses), 200, 0)
    return page(request, "incidents.html", user, "Incidents", incidents=items, status=status)


@router.post("/ui/incidents/bulk")
async def act_on_many(
    request: Request,
    user: Responder,
    csrf: Csrf,
    incidents: IncidentsDep,
    action: Annotated[Literal["ack", "resolve"], Form()],
    ids: Annotated[list[Annotated[int, Field(ge=1, le=MAX_ROW_ID)]], Form()] = [],  # noqa: B006
) -> Response:
    check_csrf(request, csrf)
    if not ids:
        flash(request, "Select the incidents first.", "error")
        return back("/ui/incidents")
    result = await run_in_threadpool(incidents.act_on_many, action, ids, user.name, None)
    verb = "acknowledged" if action == "ack" else "resolved"
    message = f"{len(result.done)} incidents {verb}."
    if result.refused:
        message += f" {len(result.refused)} left as they were (already {verb} or gone)."
    flash(request, message, "error" if result.refused and not result.done else "")
    return back("/ui/incidents")


@router.get("/incidents/{incident_id}")
def incident_link(incident_id: PathId) -> RedirectResponse:
    """Pages sent before the console moved under /ui/ linked here; keep them working."""
    return RedirectResponse(f"/ui/incidents/{incident_id}", status_code=308)


@router.get("/ui/incidents/{incident_id}")
def incident_page(
    request: Request,
    incident_id: PathId,
    user: User,
    incidents: IncidentsDep,
    escalation: EscalationDep,
    outbox: NotificationsDep,
    oncall: OnCallDep,
) -> HTMLResponse:
    try:
        detail = incidents.detail(incident_id)
    except NotFound as exc:
        return page(request, "message.html", user, "Not found", 404, message=str(exc))
    plan, timers = escalation.progress(incident_id)
    pages = [n for n in outbox.list(None, incident_id, 200) if n.kind in PAGE_KINDS]
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
        steps=escalation_steps(oncall.display_name, plan, timers),
        pages=pages,
        runbooks=runbooks,
    )


@router.post("/ui/incidents/{incident_id}/ack")
async def acknowledge(
    request: Request, incident_id: PathId, user: Responder, csrf: Csrf, incidents: IncidentsDep
) -> Response:
    return await act(
        request,
        csrf,
        lambda: incidents.acknowledge(incident_id, user.name, None),
        f"Incident #{incident_id} acknowledged: escalation stopped.",
        f"/ui/incidents/{incident_id}",
    )


@router.post("/ui/incidents/{incident_id}/resolve")
async def resolve(
    request: Request, incident_id: PathId, user: Responder, csrf: Csrf, incidents: IncidentsDep
) -> Response:
    return await act(
        request,
        csrf,
        lambda: incidents.resolve(incident_id, user.name, None),
        f"Incident #{incident_id} resolved.",
        f"/ui/incidents/{incident_id}",
    )


@router.post("/ui/incidents/{incident_id}/escalate")
async def escalate(
    request: Request,
    incident_id: PathId,
    user: Responder,
    csrf: Csrf,
    escalation: EscalationDep,
) -> Response:
    return await act(
        request,
        csrf,
        lambda: escalation.escalate_now(incident_id, user.name),
        f"Incident #{incident_id} escalated: the next step is paged now.",
        f"/ui/incidents/{incident_id}",
    )


@router.post("/ui/incidents/{incident_id}/note")
async def note(
    request: Request,
    incident_id: PathId,
    user: Responder,
    csrf: Csrf,
    incidents: IncidentsDep,
    text: Annotated[SafeText, Form(min_length=1, max_length=10_000)],
) -> Response:
    return await act(
        request,
        csrf,
        lambda: incidents.add_note(incident_id, user.name, text),
        "Note added.",
        f"/ui/incidents/{incident_id}",
    )
