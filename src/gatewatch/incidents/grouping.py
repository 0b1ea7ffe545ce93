"""Turn a batch of received alerts into alert rows, incidents and timeline events.

Runs inside the ingest transaction, so an accepted batch is all or nothing.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from gatewatch.incidents.severity import SeverityScale
from gatewatch.model import Alert, AlertBatch, AlertStatus, IncidentStatus, TimelineEvent
from gatewatch.routing import Grouping, Router
from gatewatch.store.alerts import insert_alerts, load_statuses, update_alerts
from gatewatch.store.incidents import (
    OpenIncidentRef,
    add_events,
    attach_alerts,
    create_incidents,
    incidents_without_firing_alerts,
    open_incidents_by_key,
    open_links,
    update_incident,
)

# The source of the batches in which pushed alerts expire (endsAt passed without a refresh).
EXPIRY = "expiry"


@dataclass
class IngestResult:
    accepted: int = 0
    firing: int = 0
    resolved: int = 0
    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    raised: list[tuple[int, str]] = field(default_factory=list)  # (incident, previous severity)


def _alert_values(alert: Alert, source: str, now: datetime) -> dict[str, Any]:
    return {
        "status": alert.status.value,
        "annotations": alert.annotations,
        "starts_at": alert.starts_at,
        "ends_at": alert.ends_at,
        "generator_url": alert.generator_url,
        "source": source,
        "last_seen": now,
    }


def _incident_values(
    alert: Alert, grouping: Grouping, severity: str, now: datetime
) -> dict[str, Any]:
    return {
        "group_key": grouping.key,
        "group_labels": grouping.labels,
        "route": grouping.route.name,
        "policy": grouping.route.policy,
        "severity": severity,
        "title": alert.annotations.get("summary") or alert.name or "alert",
        "service": alert.labels.get("service") or alert.labels.get("job"),
        "status": IncidentStatus.TRIGGERED.value,
        "triggered_at": now,
        "updated_at": now,
    }


def _describe(alerts: list[Alert], state: str) -> str:
    if len(alerts) == 1:
        return f"Alert {alerts[0].name} {state}"
    names = Counter(alert.name for alert in alerts)
    listed = ", ".join(f"{name} x{count}" if count > 1 else name for name, count in names.items())
    return f"{len(alerts)} alerts {state}: {listed}"


def ingest_batch(
    connection: Connection,
    batch: AlertBatch,
    router: Router,
    severities: SeverityScale,
    now: datetime,
) -> IngestResult:
    """Store the alerts, open or join incidents for firing ones, close incidents left empty.

    Repeats of an alert that is already firing update it without new events. A still-firing
    alert whose incident was resolved by hand does not reopen one; it must resolve and fire
    again (as PagerDuty treats a manually resolved incident).
    """
    latest = {alert.fingerprint: alert for alert in batch.alerts}
    stored = load_statuses(connection, latest)
    result = IngestResult(accepted=len(batch.alerts))
    new_rows, changed_rows = [], []
    newly_firing: set[str] = set()
    newly_resolved: set[str] = set()
    for fp, alert in latest.items():
        previous = stored.get(fp)
        values = _alert_values(alert, batch.source, now)
        if previous is None:
            new_rows.append(
                {
                    **values,
                    "labels": alert.labels,
                    "fingerprint": fp,
                    "alertname": alert.name,
                    "first_seen": now,
                    "receive_count": 1,
                }
            )
        else:
            changed_rows.append({**values, "key": fp})
        was_firing = previous is AlertStatus.FIRING
        if alert.status is AlertStatus.FIRING and not was_firing:
            newly_firing.add(fp)
        elif alert.status is AlertStatus.RESOLVED and was_firing:
            newly_resolved.add(fp)
    # In key order, so two concurrent transactions (PostgreSQL) lock shared rows in the same
    # order and cannot deadlock.
    insert_alerts(connection, sorted(new_rows, key=lambda row: row["fingerprint"]))
    update_alerts(connection, sorted(changed_rows, key=lambda row: row["key"]))

    links = open_links(connection, latest)
    firing = [alert for alert in latest.values() if alert.status is AlertStatus.FIRING]
    result.firing = len(firing)
    result.resolved = len(latest) - len(firing)
    groupings = {alert.fingerprint: router.groupings(alert, batch) for alert in firing}
    open_by_key = open_incidents_by_key(
        connection, (g.key for gs in groupings.values() for g in gs)
    )
    severity_of: dict[int, str] = {inc.id: inc.severity for inc in open_by_key.values()}
    events: list[TimelineEvent] = []
    attach_rows: list[dict[str, Any]] = []

    def event(incident_id: int, kind: str, message: str, **data: object) -> None:
        events.append(TimelineEvent(incident_id, now, batch.source, kind, message, dict(data)))

    # Incidents to open: the first newly firing alert of each group key no open incident
    # has, all inserted with one statement.
    openers: dict[str, tuple[Alert, Grouping, str]] = {}
    for alert in firing:
        if alert.fingerprint not in newly_firing:
            continue
        for grouping in groupings[alert.fingerprint]:
            if grouping.key not in open_by_key and grouping.key not in openers:
                openers[grouping.key] = (alert, grouping, severities.level_of(alert.labels))
    created = create_incidents(
        connection,
        [
            _incident_values(alert, grouping, level, now)
            for alert, grouping, level in openers.values()
        ],
    )
    for (key, (alert, grouping, severity)), opened in zip(openers.items(), created, strict=True):
        open_by_key[key] = opened
        severity_of[opened.id] = severity
        result.opened.append(opened.id)
        event(
            opened.id,
            "triggered",
            f"Incident triggered by {alert.name or alert.fingerprint}",
            route=grouping.route.name,
            policy=grouping.route.policy,
            severity=severity,
        )

    attached: dict[int, list[Alert]] = defaultdict(list)
    for alert in firing:
        for grouping in groupings[alert.fingerprint]:
            incident: OpenIncidentRef | None = open_by_key.get(grouping.key)
            if incident is None:
                continue
            if (incident.id, alert.fingerprint) in links:
                continue
            links.add((incident.id, alert.fingerprint))
            attach_rows.append(
                {"incident_id": incident.id, "fingerprint": alert.fingerprint, "attached_at": now}
            )
            attached[incident.id].append(alert)

    # One event per incident and batch, not per alert: a 200-instance outage stays readable.
    for incident_id, joined in sorted(attached.items()):
        event(
            incident_id,
            "alerts_firing",
            _describe(joined, "firing"),
            fingerprints=[alert.fingerprint for alert in joined],
        )
        severity = severities.most_urgent(severities.level_of(a.labels) for a in joined)
        if severities.more_urgent(severity, severity_of[incident_id]):
            event(
                incident_id,
                "severity_raised",
                f"Severity raised from {severity_of[incident_id]} to {severity}",
                previous=severity_of[incident_id],
                severity=severity,
            )
            update_incident(connection, incident_id, {"severity": severity})
            result.raised.append((incident_id, severity_of[incident_id]))

    resolved_in: dict[int, list[Alert]] = defaultdict(list)
    for incident_id, fp in sorted(links):
        if fp in newly_resolved:
            resolved_in[incident_id].append(latest[fp])
    expiring = batch.source == EXPIRY
    for incident_id, cleared in resolved_in.items():
        event(
            incident_id,
            "alerts_resolved",
            _describe(cleared, "expired (endsAt passed)" if expiring else "resolved"),
            fingerprints=[alert.fingerprint for alert in cleared],
        )
    attach_alerts(connection, attach_rows)
    for incident_id in incidents_without_firing_alerts(connection, resolved_in):
        update_incident(
            connection,
            incident_id,
            {
                "status": IncidentStatus.RESOLVED.value,
                "resolved_at": now,
                "resolved_by": batch.source,
                "updated_at": now,
            },
        )
        event(
            incident_id,
            "resolved",
            "Resolved: every alert expired, its endsAt passed without a refresh"
            if expiring
            else "Resolved: all alerts resolved at the source",
        )
        result.closed.append(incident_id)
    add_events(connection, events)
    return result
