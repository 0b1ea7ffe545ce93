"""What a notification says and where it goes, decided when it is queued: the message from the
incident and its alerts, the channel's templates, and the outbox row with its dedup key."""

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from gatewatch.config.channels import ChannelConfig
from gatewatch.config.oncall import PersonConfig
from gatewatch.model import Incident
from gatewatch.notify.message import Kind, Message, Recipient, apply_templates
from gatewatch.store import outbox
from gatewatch.store.incidents import incident_alert_list
from gatewatch.urls import web_link


class NotificationComposer:
    def __init__(
        self,
        channels: Iterable[ChannelConfig],
        people: Iterable[PersonConfig],
        external_url: str,
        on_template_error: Callable[[str], None] = lambda channel: None,
    ) -> None:
        self.channels: Mapping[str, ChannelConfig] = {c.id: c for c in channels}
        self._people = {p.id: p for p in people}
        self._base_url = external_url.rstrip("/")
        self._on_template_error = on_template_error

    def channel_type(self, channel_id: str) -> str | None:
        channel = self.channels.get(channel_id)
        return channel.type if channel is not None else None

    def message(
        self,
        connection: Connection,
        incident: Incident,
        kind: Kind,
        actor: str | None = None,
        step: int | None = None,
    ) -> Message:
        """The channel-neutral message: labels the incident's alerts share, the first
        alert's description and runbook."""
        alerts = incident_alert_list(connection, incident.id)
        common: dict[str, str] = dict(alerts[0].labels) if alerts else {}
        for alert in alerts[1:]:
            common = {k: v for k, v in common.items() if alert.labels.get(k) == v}
        first = alerts[0].annotations if alerts else {}
        return Message(
            kind=kind,
            incident_id=incident.id,
            title=incident.title,
            text=first.get("description") or first.get("summary") or incident.title,
            severity=incident.severity,
            status=incident.status.value,
            service=incident.service,
            incident_url=f"{self._base_url}/ui/incidents/{incident.id}",
            runbook_url=web_link(first.get("runbook_url")),
            labels=common,
            triggered_at=incident.triggered_at.isoformat(),
            actor=actor,
            step=step,
        )

    def recipient(self, person_id: str) -> Recipient:
        person = self._people.get(person_id)
        if person is None:
            return Recipient(person_id, person_id, None, None, None)
        return Recipient(
            person.id, person.display_name, person.email, person.slack_user_id, person.webhook_url
        )

    def row(self, incident: Incident, channel: str, message: Message, key: str) -> dict[str, Any]:
        """An outbox row; `key` makes the same notification decided twice one row."""
        config = self.channels.get(channel)
        if config is not None:
            message, error = apply_templates(message, config.templates)
            if error is not None:
                self._on_template_error(channel)
        recipient = message.recipient
        return {
            "incident_id": incident.id,
            "channel": channel,
            "kind": message.kind.value,
            "person": recipient.id if recipient else None,
            "message": message.to_json(),
            "dedup_key": key[:255],
        }

    def broadcast(
        self,
        connection: Connection,
        incident: Incident,
        channels: list[str],
        message: Message,
        now: datetime,
        key: str,
    ) -> None:
        """The same message to each channel, addressed to no one."""
        rows = [
            self.row(incident, channel, message, key=f"{key}:{channel}") for channel in channels
        ]
        outbox.enqueue(connection, rows, now)
