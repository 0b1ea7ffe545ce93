"""Escalation decisions, run inside the transaction of the incident change that causes them.

When an incident opens, its policy is frozen into a plan; steps, ack time-outs and reminders
become timer rows; pages become outbox rows. Nothing here sleeps or sends.
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from gatewatch.config import GatewatchConfig
from gatewatch.incidents.lifecycle import retrigger
from gatewatch.model import Incident, IncidentStatus, TimelineEvent
from gatewatch.notify.message import Kind, Message, Recipient, apply_templates
from gatewatch.oncall.rotation import people_on_call
from gatewatch.store import outbox
from gatewatch.store import timers as timer_store
from gatewatch.store.incidents import add_events, get_incident, incident_alert_list
from gatewatch.store.oncall import list_overrides

STEP, ACK_TIMEOUT, REMINDER = "step", "ack_timeout", "reminder"
ACTOR = "gatewatch"
# PagerDuty pages whoever its own service says; a reminder must not page again.
NO_REMINDERS = ("pagerduty",)


def _seconds(delta: timedelta | None) -> float | None:
    return None if delta is None else delta.total_seconds()


class Pager:
    """Turns incident changes and due timers into timeline events, timers and notifications."""

    def __init__(
        self,
        config: GatewatchConfig,
        on_template_error: Callable[[str], None] = lambda channel: None,
    ) -> None:
        self.config = config
        self._on_template_error = on_template_error

    # -- plans ---------------------------------------------------------------------------

    def _freeze_plan(self, incident: Incident) -> dict[str, Any]:
        policy = self.config.policies.get(incident.policy or "")
        level = self.config.severity(incident.severity)
        configured = {channel.id for channel in self.config.channels}
        return {
            "steps": [
                {"after": step.after.total_seconds(), "targets": list(step.targets)}
                for step in (policy.steps if policy else [])
            ],
            "repeat": policy.repeat if policy else 0,
            "repeat_interval": policy.repeat_interval.total_seconds() if policy else 0,
            "ack_timeout": _seconds(policy.ack_timeout) if policy else None,
            "channels": [c for c in (level.channels if level else []) if c in configured],
            "reminder_after": _seconds(level.reminder_after) if level else None,
        }

    def _step_due(
        self, plan: dict[str, Any], started_at: datetime, step: int, cycle: int
    ) -> datetime:
        steps = plan["steps"]
        cycle_length = steps[-1]["after"] + plan["repeat_interval"]
        return started_at + timedelta(seconds=cycle * cycle_length + steps[step]["after"])

    # -- incident changes ----------------------------------------------------------------

    def incident_opened(self, connection: Connection, incident_id: int, now: datetime) -> None:
        incident = self._incident(connection, incident_id)
        plan = self._freeze_plan(incident)
        timer_store.save_plan(connection, incident_id, incident.policy, plan, now)
        if plan["reminder_after"]:
            timer_store.add_timer(
                connection,
                incident_id,
                REMINDER,
                now + timedelta(seconds=plan["reminder_after"]),
                now,
            )
        self._request_actions(connection, incident, now)
        if plan["steps"]:
            self._schedule_cycle(connection, incident, plan, now, cycle=0, now=now)
        else:
            self._broadcast(
                connection, incident, plan["channels"], Kind.TRIGGER, now, key=f"{incident_id}:open"
            )

    def incident_acknowledged(
        self, connection: Connection, incident_id: int, actor: str, now: datetime
    ) -> None:
        cancelled = timer_store.cancel_pending(
            connection, incident_id, (STEP,), f"cancelled: acknowledged by {actor}", now
        )
        if cancelled:
            self._event(
                connection,
                incident_id,
                now,
                "escalation_stopped",
                f"Escalation stopped by {actor}'s acknowledgement "
                f"({cancelled} pending step{'s' if cancelled > 1 else ''} cancelled)",
            )
        plan = timer_store.load_plan(connection, incident_id)
        if plan is not None and plan.plan["ack_timeout"]:
            timer_store.add_timer(
                connection,
                incident_id,
                ACK_TIMEOUT,
                now + timedelta(seconds=plan.plan["ack_timeout"]),
                now,
            )
        incident = self._incident(connection, incident_id)
        self._follow_up(connection, incident, Kind.ACKNOWLEDGE, actor, now)

    def incident_resolved(
        self, connection: Connection, incident_id: int, actor: str, now: datetime
    ) -> None:
        timer_store.cancel_pending(
            connection,
            incident_id,
            (STEP, ACK_TIMEOUT, REMINDER),
            f"cancelled: resolved by {actor}",
            now,
        )
        incident = self._incident(connection, incident_id)
        self._follow_up(connection, incident, Kind.RESOLVE, actor, now)

    def _request_actions(self, connection: Connection, incident: Incident, now: datetime) -> None:
        """Alerts labelled `action=<id>` start that configured action with the incident; its
        resolution reverts it (it goes wherever the trigger went)."""
        wanted = sorted(
            {
                alert.labels["action"]
                for alert in incident_alert_list(connection, incident.id)
                if "action" in alert.labels
            }
        )
        actions = [a for a in wanted if self._type(a) == "action"]
        if not actions:
            return
        message = self._message(connection, incident, Kind.TRIGGER)
        outbox.enqueue(
            connection,
            [
                self._row(incident, action, message, key=f"{incident.id}:action:{action}")
                for action in actions
            ],
            now,
        )
        for action in actions:
            self._event(
                connection,
                incident.id,
                now,
                "action_requested",
                f"Automated action {action} requested (reverted when resolved)",
                action=action,
            )

    # -- timers --------------------------------------------------------------------------

    def run_due(
        self, connection: Connection, now: datetime, limit: int = 50
    ) -> list[timer_store.Timer]:
        """Run every due timer claimed by this transaction; returns what it ran."""
        claimed = timer_store.claim_due(connection, now, limit)
        for timer in claimed:
            incident = self._incident(connection, timer.incident_id)
            outcome = self._run_timer(connection, timer, incident, now)
            status = timer_store.DONE if outcome.startswith("done") else timer_store.CANCELLED
            timer_store.finish(connection, timer.id, status, outcome, now)
        return claimed

    def _run_timer(
        self, connection: Connection, timer: timer_store.Timer, incident: Incident, now: datetime
    ) -> str:
        plan = timer_store.load_plan(connection, incident.id)
        assert plan is not None, f"incident {incident.id} has timers but no plan"
        if timer.kind == STEP:
            if incident.status is not IncidentStatus.TRIGGERED:
                reason = f"skipped: incident {incident.status.value}"
                self._event(
                    connection,
                    incident.id,
                    now,
                    "step_skipped",
                    f"Step {timer.step + 1 if timer.step is not None else '?'} {reason}",
                )
                return reason
            assert timer.step is not None
            self._run_step(
                connection, incident, plan.plan, plan.started_at, timer.step, timer.cycle, now
            )
            return "done"
        if timer.kind == ACK_TIMEOUT:
            if incident.status is not IncidentStatus.ACKNOWLEDGED:
                return f"skipped: incident {incident.status.value}"
            minutes = round(plan.plan["ack_timeout"] / 60, 1)
            retrigger(
                connection,
                incident.id,
                ACTOR,
                f"Acknowledgement timed out after {minutes:g} min; triggered again",
                now,
            )
            timer_store.restart_plan(connection, incident.id, now)
            incident = self._incident(connection, incident.id)
            if plan.plan["steps"]:
                self._schedule_cycle(connection, incident, plan.plan, now, 0, now)
            return "done: retriggered"
        if timer.kind == REMINDER:
            if incident.status is IncidentStatus.RESOLVED:
                return "skipped: incident resolved"
            channels = [c for c in plan.plan["channels"] if self._type(c) not in NO_REMINDERS]
            self._broadcast(
                connection,
                incident,
                channels,
                Kind.REMINDER,
                now,
                key=f"{incident.id}:reminder:{timer.id}",
            )
            self._event(
                connection,
                incident.id,
                now,
                "reminder",
                f"Reminder sent: unresolved after "
                f"{(now - incident.triggered_at).total_seconds() / 60:.0f} min "
                "(escalate by hand if needed)",
            )
            timer_store.add_timer(
                connection,
                incident.id,
                REMINDER,
                now + timedelta(seconds=plan.plan["reminder_after"]),
                now,
            )
            return "done"
        return f"skipped: unknown timer kind {timer.kind}"

    # -- steps ---------------------------------------------------------------------------

    def _schedule_cycle(
        self,
        connection: Connection,
        incident: Incident,
        plan: dict[str, Any],
        started_at: datetime,
        cycle: int,
        now: datetime,
    ) -> None:
        """Every step of a cycle becomes a timer at once, so "who is next, when" is in the store.

        A step due now runs in this transaction: the first page leaves with the ingest.
        """
        later = []
        for step in range(len(plan["steps"])):
            due = self._step_due(plan, started_at, step, cycle)
            if due <= now:
                self._run_step(connection, incident, plan, started_at, step, cycle, now)
            else:
                later.append(timer_store.TimerSpec(STEP, due, step, cycle))
        timer_store.add_timers(connection, incident.id, later, now)

    def _run_step(
        self,
        connection: Connection,
        incident: Incident,
        plan: dict[str, Any],
        started_at: datetime,
        step: int,
        cycle: int,
        now: datetime,
    ) -> None:
        targets = plan["steps"][step]["targets"]
        people: list[str] = []
        direct: list[str] = []
        described: list[str] = []
        for target in targets:
            kind, _, ident = target.partition(":")
            if kind == "person":
                people.append(ident)
                described.append(ident)
            elif kind == "schedule":
                schedule = self.config.schedule(ident)
                on_call: list[str] = []
                if schedule is not None:
                    overrides = list_overrides(connection, ident, ending_after=now)
                    on_call, _ = people_on_call(schedule, overrides, now)
                people += on_call
                described.append(f"{', '.join(on_call) or 'nobody'} (on call for {ident})")
            else:
                direct.append(ident)
                described.append(f"channel {ident}")
        people = list(dict.fromkeys(people))
        base = self._message(connection, incident, Kind.TRIGGER, step=step)
        # The round (started_at) keeps a re-triggered escalation from colliding with the first.
        round_key = f"{incident.id}:{started_at.timestamp()}:{cycle}:{step}"
        rows = [
            self._row(
                incident,
                channel,
                replace(base, recipient=self._recipient(person_id)),
                key=f"{round_key}:{person_id}:{channel}",
            )
            for person_id in people
            for channel in plan["channels"]
        ]
        rows += [
            self._row(incident, channel, base, key=f"{round_key}:-:{channel}") for channel in direct
        ]
        outbox.enqueue(connection, rows, now)
        total = len(plan["steps"])
        via = ", ".join(plan["channels"]) or "no channel"
        repeat = f" (repeat {cycle})" if cycle else ""
        self._event(
            connection,
            incident.id,
            now,
            "paged",
            f"Step {step + 1} of {total}{repeat}: paged {'; '.join(described)} via {via}",
            step=step,
            cycle=cycle,
            people=people,
            channels=plan["channels"] + direct,
        )
        if step + 1 == total and cycle < plan["repeat"]:
            self._schedule_cycle(connection, incident, plan, started_at, cycle + 1, now)

    # -- messages ------------------------------------------------------------------------

    def _broadcast(
        self,
        connection: Connection,
        incident: Incident,
        channels: list[str],
        kind: Kind,
        now: datetime,
        key: str,
    ) -> None:
        message = self._message(connection, incident, kind)
        rows = [
            self._row(incident, channel, message, key=f"{key}:{channel}") for channel in channels
        ]
        outbox.enqueue(connection, rows, now)

    def _follow_up(
        self, connection: Connection, incident: Incident, kind: Kind, actor: str, now: datetime
    ) -> None:
        """Acknowledgements and resolutions go wherever the trigger went."""
        channels = [
            channel
            for channel in sorted(outbox.channels_notified(connection, incident.id))
            if self.config.channel(channel) is not None
        ]
        if not channels:
            return
        message = self._message(connection, incident, kind, actor=actor)
        rows = [
            self._row(
                incident,
                channel,
                message,
                key=f"{incident.id}:{kind.value}:{now.isoformat()}:{channel}",
            )
            for channel in channels
        ]
        outbox.enqueue(connection, rows, now)

    def _row(self, incident: Incident, channel: str, message: Message, key: str) -> dict[str, Any]:
        config = self.config.channel(channel)
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

    def _message(
        self,
        connection: Connection,
        incident: Incident,
        kind: Kind,
        actor: str | None = None,
        step: int | None = None,
    ) -> Message:
        alerts = incident_alert_list(connection, incident.id)
        common: dict[str, str] = dict(alerts[0].labels) if alerts else {}
        for alert in alerts[1:]:
            common = {k: v for k, v in common.items() if alert.labels.get(k) == v}
        first = alerts[0].annotations if alerts else {}
        base = self.config.external_url.rstrip("/")
        return Message(
            kind=kind,
            incident_id=incident.id,
            title=incident.title,
            text=first.get("description") or first.get("summary") or incident.title,
            severity=incident.severity,
            status=incident.status.value,
            service=incident.service,
            incident_url=f"{base}/incidents/{incident.id}",
            runbook_url=first.get("runbook_url"),
            labels=common,
            triggered_at=incident.triggered_at.isoformat(),
            actor=actor,
            step=step,
        )

    def _recipient(self, person_id: str) -> Recipient:
        person = self.config.person(person_id)
        if person is None:
            return Recipient(person_id, person_id, None, None, None)
        return Recipient(
            person.id, person.display_name, person.email, person.slack_user_id, person.webhook_url
        )

    def _type(self, channel_id: str) -> str | None:
        channel = self.config.channel(channel_id)
        return channel.type if channel is not None else None

    def _incident(self, connection: Connection, incident_id: int) -> Incident:
        incident = get_incident(connection, incident_id)
        assert incident is not None, f"incident {incident_id} vanished"
        return incident

    def _event(
        self,
        connection: Connection,
        incident_id: int,
        now: datetime,
        kind: str,
        message: str,
        **data: object,
    ) -> None:
        add_events(connection, [TimelineEvent(incident_id, now, ACTOR, kind, message, dict(data))])
