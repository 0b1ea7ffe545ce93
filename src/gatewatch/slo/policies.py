"""Budget policies: consumed-budget thresholds become alerts in gatewatch's own ingest, so
they route, page and leave a record like any alert."""

from datetime import datetime

from gatewatch.model import Alert, AlertStatus, fingerprint
from gatewatch.slo.spec import SloSpec
from gatewatch.slo.status import SloStatus

ALERTNAME = "SLOErrorBudgetConsumed"


def policy_alerts(
    specs: list[SloSpec], statuses: list[SloStatus], external_url: str, now: datetime
) -> list[Alert]:
    """One alert per SLO and policy with data: firing at or past its threshold, else resolved."""
    by_key = {(s.service, s.slo): s for s in statuses}
    alerts = []
    for spec in specs:
        for slo in spec.slos:
            status = by_key.get((spec.service, slo.name))
            if status is None or status.error_budget_remaining is None:
                continue
            consumed = 1 - status.error_budget_remaining
            for policy in slo.policies:
                threshold = float(policy.consumed) / 100
                labels = {
                    "alertname": ALERTNAME,
                    "service": spec.service,
                    "slo": slo.name,
                    **spec.labels,
                    "severity": policy.severity,
                    "budget_consumed": f"{policy.consumed.normalize():f}%",
                }
                if policy.action:
                    labels["action"] = policy.action
                firing = consumed >= threshold
                alerts.append(
                    Alert(
                        labels=labels,
                        annotations={
                            "summary": f"{spec.service} {slo.name}: "
                            f"{policy.consumed.normalize():f}% of the error budget used",
                            "description": f"{consumed * 100:.1f}% of the {slo.objective}% "
                            f"objective's 30-day error budget is consumed.",
                            "runbook_url": f"{external_url.rstrip('/')}/runbooks/slo-burn",
                        },
                        starts_at=now,
                        ends_at=None if firing else now,
                        generator_url="",
                        status=AlertStatus.FIRING if firing else AlertStatus.RESOLVED,
                        fingerprint=fingerprint(labels),
                    )
                )
    return alerts
