"""Timeline entries gatewatch writes itself (as opposed to a person's actions and notes)."""

from datetime import datetime

from sqlalchemy import Connection

from gatewatch.model import TimelineEvent
from gatewatch.store.incidents import add_events

SYSTEM_ACTOR = "gatewatch"


def record(
    connection: Connection,
    incident_id: int,
    now: datetime,
    kind: str,
    message: str,
    **data: object,
) -> None:
    add_events(
        connection, [TimelineEvent(incident_id, now, SYSTEM_ACTOR, kind, message, dict(data))]
    )
