"""SLOs in the console: status per SLO and the error-budget burn-down from Prometheus."""

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from gatewatch.errors import GatewatchError
from gatewatch.slo.burndown import budget_history
from gatewatch.slo.spec import PERIOD_DAYS
from gatewatch.slo.status import slo_status
from gatewatch.web.deps import ConfigDep, services_of
from gatewatch.web.ui.charts import budget_chart
from gatewatch.web.ui.forms import User
from gatewatch.web.ui.render import page

router = APIRouter(include_in_schema=False)


@router.get("/ui/slos")
def slos_page(request: Request, user: User, config: ConfigDep) -> HTMLResponse:
    url = config.prometheus.url
    specs = services_of(request).slo_specs
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
