"""MTTA and MTTR over a period, per severity and service, from the incidents themselves (the
histograms on /metrics hold the same since the process started)."""

import statistics
from collections import defaultdict
from dataclasses import dataclass

from gatewatch.model import Incident


@dataclass(frozen=True)
class ResponseTimes:
    severity: str
    service: str
    incidents: int
    acknowledged: int
    resolved: int
    mtta_seconds: float | None
    mttr_seconds: float | None
    p90_tta_seconds: float | None
    p90_ttr_seconds: float | None


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]


def response_times(incidents: list[Incident]) -> list[ResponseTimes]:
    groups: dict[tuple[str, str], list[Incident]] = defaultdict(list)
    for incident in incidents:
        groups[(incident.severity, incident.service or "unknown")].append(incident)
    rows = []
    for (severity, service), members in sorted(groups.items()):
        tta = [
            (i.acknowledged_at - i.triggered_at).total_seconds()
            for i in members
            if i.acknowledged_at
        ]
        ttr = [(i.resolved_at - i.triggered_at).total_seconds() for i in members if i.resolved_at]
        rows.append(
            ResponseTimes(
                severity=severity,
                service=service,
                incidents=len(members),
                acknowledged=len(tta),
                resolved=len(ttr),
                mtta_seconds=statistics.fmean(tta) if tta else None,
                mttr_seconds=statistics.fmean(ttr) if ttr else None,
                p90_tta_seconds=_p90(tta),
                p90_ttr_seconds=_p90(ttr),
            )
        )
    return rows
