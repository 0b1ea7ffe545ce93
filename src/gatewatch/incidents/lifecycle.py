"""Human actions on an incident: acknowledge, resolve, add a note."""

from datetime import datetime

from sqlalchemy import Connection

from gatewatch.errors import Conflict, NotFound
from gatewatch.model import Incident, IncidentStatus, TimelineEvent
from gatewatch.store.incidents import add_events, get_incident, update_incident


def _open_incident(connection: Connection, incident_id: int) -> Incident:
    incident = get_incident(connection, incident_id, for_update=True)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    if incident.status is IncidentStatus.RESOLVED:
        raise Conflict(f"incident {incident_id} is already resolved (by {incident.resolved_by})")
    return incident


def _note_event(
    incident_id: int, actor: str, note: str | None, now: datetime
) -> list[TimelineEvent]:
    if not note:
        return []
    return [TimelineEvent(incident_id, now, actor, "note", note, {})]


def acknowledge(
    connection: Connection, incident_id: int, actor: str, note: str | None, now: datetime
) -> Incident:
    """Triggered → acknowledged; acknowledging twice is a conflict naming who did it first."""
    incident = _open_incident(connection, incident_id)
    if incident.status is IncidentStatus.ACKNOWLEDGED:
        raise Conflict(
            f"incident {incident_id} is already acknowledged by {incident.acknowledged_by}"
        )
    update_incident(
        connection,
        incident_id,
        {
            "status": IncidentStatus.ACKNOWLEDGED.value,
            "acknowledged_at": now,
            "acknowledged_by": actor,
            "updated_at": now,
        },
    )
    add_events(
        connection,
        [
            TimelineEvent(incident_id, now, actor, "acknowledged", f"Acknowledged by {actor}", {}),
            *_note_event(incident_id, actor, note, now),
        ],
    )
    return _reloaded(connection, incident_id)


def resolve(
    connection: Connection, incident_id: int, actor: str, note: str | None, now: datetime
) -> Incident:
    """Resolve by hand, whatever the alerts say; a new firing alert opens a new incident."""
    _open_incident(connection, incident_id)
    update_incident(
        connection,
        incident_id,
        {
            "status": IncidentStatus.RESOLVED.value,
            "resolved_at": now,
            "resolved_by": actor,
            "updated_at": now,
        },
    )
    add_events(
        connection,
        [
            TimelineEvent(incident_id, now, actor, "resolved", f"Resolved by {actor}", {}),
            *_note_event(incident_id, actor, note, now),
        ],
    )
    return _reloaded(connection, incident_id)


def retrigger(
    connection: Connection, incident_id: int, actor: str, reason: str, now: datetime
) -> Incident:
    """Acknowledged → triggered again (an acknowledgement that timed out)."""
    incident = _open_incident(connection, incident_id)
    if incident.status is not IncidentStatus.ACKNOWLEDGED:
        raise Conflict(f"incident {incident_id} is {incident.status.value}, not acknowledged")
    update_incident(
        connection,
        incident_id,
        {
            "status": IncidentStatus.TRIGGERED.value,
            "acknowledged_at": None,
            "acknowledged_by": None,
            "updated_at": now,
        },
    )
    add_events(connection, [TimelineEvent(incident_id, now, actor, "retriggered", reason, {})])
    return _reloaded(connection, incident_id)


def add_note(
    connection: Connection, incident_id: int, actor: str, text: str, now: datetime
) -> TimelineEvent:
    """Notes are allowed on resolved incidents too: reviews happen afterwards."""
    if get_incident(connection, incident_id) is None:
        raise NotFound(f"incident {incident_id} does not exist")
    event = TimelineEvent(incident_id, now, actor, "note", text, {})
    add_events(connection, [event])
    update_incident(connection, incident_id, {"updated_at": now})
    return event


def _reloaded(connection: Connection, incident_id: int) -> Incident:
    incident = get_incident(connection, incident_id)
    assert incident is not None
    return incident
