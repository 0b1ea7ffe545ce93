"""Alerts labelled `action=<id>` start that configured action with their incident; the
incident's resolution reverts it. The requests go through the outbox like any notification
(retried, dead-lettered, visible)."""

from datetime import datetime

from sqlalchemy import Connection

from gatewatch.incidents.timeline import record
from gatewatch.model import Incident
from gatewatch.notify.compose import NotificationComposer
from gatewatch.notify.message import Kind
from gatewatch.store import outbox
from gatewatch.store.incidents import incident_alert_list

ACTION_LABEL = "action"


class AutomatedActions:
    def __init__(self, composer: NotificationComposer) -> None:
        self._composer = composer
        self._configured = {c.id for c in composer.channels.values() if c.type == "action"}

    def incident_opened(self, connection: Connection, incident: Incident, now: datetime) -> None:
        if not self._configured:
            return
        wanted = {
            alert.labels[ACTION_LABEL]
            for alert in incident_alert_list(connection, incident.id)
            if ACTION_LABEL in alert.labels
        }
        actions = sorted(wanted & self._configured)
        if not actions:
            return
        message = self._composer.message(connection, incident, Kind.TRIGGER)
        outbox.enqueue(
            connection,
            [
                self._composer.row(incident, action, message, key=f"{incident.id}:action:{action}")
                for action in actions
            ],
            now,
        )
        for action in actions:
            record(
                connection,
                incident.id,
                now,
                "action_requested",
                f"Automated action {action} requested (reverted when resolved)",
                action=action,
            )

    def incident_acknowledged(
        self, connection: Connection, incident: Incident, actor: str, now: datetime
    ) -> None:
        """An acknowledgement changes nothing an action did."""

    def incident_severity_raised(
        self, connection: Connection, incident: Incident, previous: str, now: datetime
    ) -> None:
        """Actions follow the alert's `action` label, not the severity."""

    def incident_resolved(
        self, connection: Connection, incident: Incident, actor: str, now: datetime
    ) -> None:
        if not self._configured:
            return
        started = sorted(outbox.channels_notified(connection, incident.id) & self._configured)
        if not started:
            return
        message = self._composer.message(connection, incident, Kind.RESOLVE, actor=actor)
        outbox.enqueue(
            connection,
            [
                self._composer.row(
                    incident,
                    action,
                    message,
                    key=f"{incident.id}:{Kind.RESOLVE.value}:{now.isoformat()}:{action}",
                )
                for action in started
            ],
            now,
        )
        for action in started:
            record(
                connection,
                incident.id,
                now,
                "action_reverted",
                f"Automated action {action} reverted: incident resolved by {actor}",
                action=action,
            )
