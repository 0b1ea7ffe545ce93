"""Paging one step of a plan, and laying out a cycle of steps as timers."""

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from gatewatch.config.oncall import ScheduleConfig
from gatewatch.config.policies import Target
from gatewatch.escalation.plan import EscalationPlan
from gatewatch.escalation.targets import Audience, resolve_targets
from gatewatch.incidents.timeline import record
from gatewatch.model import Incident
from gatewatch.notify.compose import NotificationComposer
from gatewatch.notify.message import Kind
from gatewatch.store import outbox
from gatewatch.store import timers as timer_store

STEP, ACK_TIMEOUT, REMINDER = "step", "ack_timeout", "reminder"
MANUAL = "manual"  # a manual step paged by "escalate now": recorded done, never due
NOTIFY = "notify"  # a policy without steps, held for business hours: tell the channels then


def missed(due: datetime, latest: datetime | None, missed_before: datetime | None) -> bool:
    """A step is missed when it fell due while nothing ran timers and a later step is due
    too; a step that is merely late (a busy loop) is still paged."""
    return missed_before is not None and latest is not None and due < missed_before and due < latest


class StepPager:
    def __init__(
        self, composer: NotificationComposer, schedules: Mapping[str, ScheduleConfig]
    ) -> None:
        self._composer = composer
        self._schedules = schedules

    def notify_channels(
        self, connection: Connection, incident: Incident, channels: list[str], now: datetime
    ) -> None:
        """A policy without steps: the severity's channels hear of the incident, no one paged."""
        message = self._composer.message(connection, incident, Kind.TRIGGER)
        self._composer.broadcast(
            connection, incident, channels, message, now, key=f"{incident.id}:open"
        )

    def schedule_cycle(
        self,
        connection: Connection,
        incident: Incident,
        plan: EscalationPlan,
        started_at: datetime,
        cycle: int,
        now: datetime,
        missed_before: datetime | None = None,
    ) -> None:
        """Every step of a cycle becomes a timer at once, so "who is next, when" is in the store.

        A step due now runs in this transaction: the first page leaves with the ingest. Steps
        that fell due before `missed_before` (while gatewatch was not running) are skipped
        when a later step is due too.
        """
        later = []
        latest = plan.latest_due(started_at, now)
        for step in range(len(plan.steps)):
            due = plan.step_due(started_at, step, cycle)
            if due > now:
                later.append(timer_store.TimerSpec(STEP, due, step, cycle))
            elif missed(due, latest, missed_before):
                self.skip(connection, incident, plan, started_at, step, cycle, now, missed_before)
            else:
                self.page(connection, incident, plan, started_at, step, cycle, now)
        timer_store.add_timers(connection, incident.id, later, now)

    def skip(
        self,
        connection: Connection,
        incident: Incident,
        plan: EscalationPlan,
        started_at: datetime,
        step: int,
        cycle: int,
        now: datetime,
        missed_before: datetime | None,
    ) -> str:
        """A step whose time passed while gatewatch was not running (stopped, paused, cut off
        from its database) and a later step is due too: recorded, not paged, so a restart pages
        the current step once instead of every missed one in a burst. The schedule goes on."""
        repeat = f" (repeat {cycle})" if cycle else ""
        reason = "skipped: overdue, a later step was already due"
        record(
            connection,
            incident.id,
            now,
            "step_skipped",
            f"Step {step + 1}{repeat} {reason}",
            step=step,
            cycle=cycle,
        )
        if step + 1 == len(plan.steps) and cycle < plan.repeat:
            self.schedule_cycle(
                connection, incident, plan, started_at, cycle + 1, now, missed_before
            )
        return reason

    def page(
        self,
        connection: Connection,
        incident: Incident,
        plan: EscalationPlan,
        started_at: datetime,
        step: int,
        cycle: int,
        now: datetime,
    ) -> None:
        """Page the step's people through the plan's channels and its direct channels."""
        # The round (started_at) keeps a re-triggered escalation from colliding with the first.
        round_key = f"{incident.id}:{started_at.timestamp()}:{cycle}:{step}"
        targets = plan.steps[step].targets
        audience = self._send(
            connection, incident, targets, step, plan.channels, round_key, now, direct=True
        )
        total = len(plan.steps)
        via = ", ".join(plan.channels) or "no channel"
        repeat = f" (repeat {cycle})" if cycle else ""
        record(
            connection,
            incident.id,
            now,
            "paged",
            f"Step {step + 1} of {total}{repeat}: paged {'; '.join(audience.described)} via {via}",
            step=step,
            cycle=cycle,
            people=audience.people,
            channels=plan.channels + audience.channels,
        )
        if step + 1 == total and cycle < plan.repeat:
            self.schedule_cycle(connection, incident, plan, started_at, cycle + 1, now)

    def page_through(
        self,
        connection: Connection,
        incident: Incident,
        plan: EscalationPlan,
        step: int,
        channels: list[str],
        now: datetime,
    ) -> list[str]:
        """Page a step's people again through `channels` only (a severity that adds
        channels); returns who was paged, for the timeline."""
        round_key = f"{incident.id}:{incident.severity}:{step}"
        targets = plan.steps[step].targets
        audience = self._send(
            connection, incident, targets, step, channels, round_key, now, direct=False
        )
        return audience.described

    def page_manual(
        self,
        connection: Connection,
        incident: Incident,
        plan: EscalationPlan,
        index: int,
        now: datetime,
    ) -> None:
        """Page the plan's manual step `index`: a responder escalated past the timed steps."""
        number = len(plan.steps) + index  # numbered after the timed steps, as people read it
        audience = self._send(
            connection,
            incident,
            plan.manual_steps[index].targets,
            number,
            plan.channels,
            f"{incident.id}:manual:{index}",
            now,
            direct=True,
        )
        via = ", ".join(plan.channels) or "no channel"
        record(
            connection,
            incident.id,
            now,
            "paged",
            f"Manual step {index + 1} of {len(plan.manual_steps)}: "
            f"paged {'; '.join(audience.described)} via {via}",
            step=number,
            people=audience.people,
            channels=plan.channels + audience.channels,
        )

    def _send(
        self,
        connection: Connection,
        incident: Incident,
        targets: list[Target],
        step: int,
        channels: list[str],
        round_key: str,
        now: datetime,
        direct: bool,
    ) -> Audience:
        """Queue the step's pages: its people through `channels`, and (with `direct`) the
        channels it names as targets."""
        audience = resolve_targets(connection, targets, self._schedules, now)
        base = self._composer.message(connection, incident, Kind.TRIGGER, step=step)
        rows = [
            self._composer.row(
                incident,
                channel,
                replace(base, recipient=self._composer.recipient(person_id)),
                key=f"{round_key}:{person_id}:{channel}",
            )
            for person_id in audience.people
            for channel in channels
        ]
        rows += [
            self._composer.row(incident, channel, base, key=f"{round_key}:-:{channel}")
            for channel in (audience.channels if direct else [])
        ]
        outbox.enqueue(connection, rows, now)
        return audience
