"""Escalation decides who is paged and when, inside the transaction of the incident change
that causes it: the plan is frozen at open, steps, ack time-outs and reminders are timer
rows, pages are outbox rows. Nothing here sleeps or sends."""

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import Connection

from gatewatch.config.oncall import ScheduleConfig
from gatewatch.config.policies import PolicyConfig
from gatewatch.config.schema import SeverityLevel
from gatewatch.errors import Conflict, NotFound
from gatewatch.escalation.plan import (
    IncidentPlan,
    freeze_plan,
    load_plan,
    save_plan,
    update_plan,
)
from gatewatch.escalation.steps import (
    ACK_TIMEOUT,
    NOTIFY,
    REMINDER,
    STEP,
    StepPager,
    missed,
)
from gatewatch.incidents.lifecycle import retrigger
from gatewatch.incidents.timeline import SYSTEM_ACTOR, record
from gatewatch.model import Incident, IncidentStatus
from gatewatch.notify.compose import NotificationComposer
from gatewatch.notify.message import Kind
from gatewatch.runtime import Runtime
from gatewatch.store import outbox
from gatewatch.store import timers as timer_store
from gatewatch.store.database import read_transaction, run_transaction
from gatewatch.store.incidents import get_incident
from gatewatch.timestamps import format_utc

# PagerDuty pages whoever its own service says; a reminder must not page again.
NO_REMINDERS = ("pagerduty",)
# Automated actions are started and reverted by `gatewatch.actions`, not followed up here.
NOT_FOLLOWED_UP = ("action",)
TIMER_BATCH = 50
# Longer than this between two timer passes is downtime, not a busy loop.
RESUME_AFTER = timedelta(seconds=5)

TimerHandler = Callable[[Connection, timer_store.Timer, Incident, IncidentPlan, datetime], str]


def _load(connection: Connection, incident_id: int) -> Incident:
    incident = get_incident(connection, incident_id)
    assert incident is not None, f"incident {incident_id} vanished"
    return incident


class Escalation:
    def __init__(
        self,
        runtime: Runtime,
        policies: Mapping[str, PolicyConfig],
        severities: Iterable[SeverityLevel],
        schedules: Iterable[ScheduleConfig],
        composer: NotificationComposer,
    ) -> None:
        self._runtime = runtime
        self._policies = policies
        self._levels = {level.name: level for level in severities}
        self._composer = composer
        self._pager = StepPager(composer, {s.id: s for s in schedules})
        self._last_pass: datetime | None = None
        self._resumed_at: datetime | None = None
        self._handlers: dict[str, TimerHandler] = {
            STEP: self._run_step,
            ACK_TIMEOUT: self._run_ack_timeout,
            REMINDER: self._run_reminder,
            NOTIFY: self._run_notify,
        }

    # -- incident changes (called inside the change's transaction) ------------------------

    def incident_opened(self, connection: Connection, incident: Incident, now: datetime) -> None:
        policy = self._policies.get(incident.policy or "")
        plan = freeze_plan(
            policy, self._levels.get(incident.severity), set(self._composer.channels)
        )
        hours = policy.business_hours if policy is not None else None
        opens = hours.next_open(now) if hours is not None else now
        save_plan(connection, incident.id, incident.policy, plan, opens)
        if hours is not None and opens > now:
            record(
                connection,
                incident.id,
                now,
                "deferred",
                f"Outside business hours ({hours.describe()}): "
                f"the first page goes out at {format_utc(opens)}",
                opens=opens.isoformat(),
            )
        if plan.reminder_after:
            timer_store.add_timer(
                connection, incident.id, REMINDER, now + timedelta(seconds=plan.reminder_after), now
            )
        if plan.steps:
            self._pager.schedule_cycle(connection, incident, plan, opens, cycle=0, now=now)
        elif opens > now:
            timer_store.add_timer(connection, incident.id, NOTIFY, opens, now)
        else:
            self._notify_channels(connection, incident, plan.channels, now)

    def _notify_channels(
        self, connection: Connection, incident: Incident, channels: list[str], now: datetime
    ) -> None:
        """A policy without steps: the severity's channels hear of the incident, no one paged."""
        message = self._composer.message(connection, incident, Kind.TRIGGER)
        self._composer.broadcast(
            connection, incident, channels, message, now, key=f"{incident.id}:open"
        )

    def incident_acknowledged(
        self, connection: Connection, incident: Incident, actor: str, now: datetime
    ) -> None:
        self._cancel_queued_pages(connection, incident, f"acknowledged by {actor}", now)
        cancelled = timer_store.cancel_pending(
            connection, incident.id, (STEP,), f"cancelled: acknowledged by {actor}", now
        )
        if cancelled:
            record(
                connection,
                incident.id,
                now,
                "escalation_stopped",
                f"Escalation stopped by {actor}'s acknowledgement "
                f"({cancelled} pending step{'s' if cancelled > 1 else ''} cancelled)",
            )
        frozen = load_plan(connection, incident.id)
        if frozen is not None and frozen.plan.ack_timeout:
            due = now + timedelta(seconds=frozen.plan.ack_timeout)
            timer_store.add_timer(connection, incident.id, ACK_TIMEOUT, due, now)
        self._follow_up(connection, incident, Kind.ACKNOWLEDGE, actor, now)

    def incident_resolved(
        self, connection: Connection, incident: Incident, actor: str, now: datetime
    ) -> None:
        self._cancel_queued_pages(connection, incident, f"resolved by {actor}", now)
        timer_store.cancel_pending(
            connection,
            incident.id,
            (STEP, ACK_TIMEOUT, REMINDER, NOTIFY),
            f"cancelled: resolved by {actor}",
            now,
        )
        self._follow_up(connection, incident, Kind.RESOLVE, actor, now)

    def _cancel_queued_pages(
        self, connection: Connection, incident: Incident, why: str, now: datetime
    ) -> None:
        """Pages still queued (throttled, or waiting for a retry) would reach people after
        the fact, or a vendor after the resolve: they do not go out."""
        cancelled = outbox.cancel_pages(connection, incident.id, f"cancelled: {why}")
        if cancelled:
            plural = "s" if cancelled > 1 else ""
            record(
                connection,
                incident.id,
                now,
                "pages_cancelled",
                f"{cancelled} queued page{plural} cancelled: {why}",
                count=cancelled,
            )

    def incident_severity_raised(
        self, connection: Connection, incident: Incident, previous: str, now: datetime
    ) -> None:
        """The channels the new severity adds join the frozen plan, and the people being paged
        now (the step due most recently) are paged again through them; a fall changes
        nothing until resolve."""
        frozen = load_plan(connection, incident.id)
        level = self._levels.get(incident.severity)
        if frozen is None or level is None:
            return
        plan = frozen.plan
        added = [
            c for c in level.channels if c in self._composer.channels and c not in plan.channels
        ]
        if not added:
            return
        plan = plan.model_copy(update={"channels": plan.channels + added})
        update_plan(connection, incident.id, plan)
        paged: list[str] = []
        if incident.status is IncidentStatus.TRIGGERED:
            for step in plan.due_steps(frozen.started_at, now):
                paged += self._pager.page_through(connection, incident, plan, step, added, now)
        if not plan.steps and incident.status is IncidentStatus.TRIGGERED:
            message = self._composer.message(connection, incident, Kind.TRIGGER)
            key = f"{incident.id}:raise:{incident.severity}"
            self._composer.broadcast(connection, incident, added, message, now, key=key)
            paged.append("the severity's channels")
        who = "; ".join(paged) or "nobody (not triggered)"
        record(
            connection,
            incident.id,
            now,
            "channels_added",
            f"Severity raised from {previous} to {incident.severity}: "
            f"{', '.join(added)} added; paged {who}",
            channels=added,
        )

    def _follow_up(
        self, connection: Connection, incident: Incident, kind: Kind, actor: str, now: datetime
    ) -> None:
        """Acknowledgements and resolutions go wherever the trigger went."""
        channels = [
            channel
            for channel in sorted(outbox.channels_notified(connection, incident.id))
            if channel in self._composer.channels
            and self._composer.channel_type(channel) not in NOT_FOLLOWED_UP
        ]
        if not channels:
            return
        message = self._composer.message(connection, incident, kind, actor=actor)
        key = f"{incident.id}:{kind.value}:{now.isoformat()}"
        self._composer.broadcast(connection, incident, channels, message, now, key=key)

    # -- timers ---------------------------------------------------------------------------

    def run_due_timers(self) -> int:
        """Run the timers due now in one transaction; the background loop calls this."""
        now = self._runtime.clock.now()
        # A pass after a gap (start-up, a pause, the database unreachable) resumes: timers
        # that fell due before it were missed, not merely late.
        if self._last_pass is None or now - self._last_pass > RESUME_AFTER:
            self._resumed_at = now
        ran = run_transaction(
            self._runtime.database, lambda connection: self._run_due(connection, now)
        )
        self._last_pass = now  # only a pass that reached the database counts
        for timer in ran:
            self._runtime.metrics.timer_lateness.observe((now - timer.due_at).total_seconds())
        return len(ran)

    def _run_due(self, connection: Connection, now: datetime) -> list[timer_store.Timer]:
        claimed = timer_store.claim_due(connection, now, TIMER_BATCH)
        for timer in claimed:
            incident = _load(connection, timer.incident_id)
            frozen = load_plan(connection, incident.id)
            assert frozen is not None, f"incident {incident.id} has timers but no plan"
            handler = self._handlers.get(timer.kind)
            outcome = (
                handler(connection, timer, incident, frozen, now)
                if handler is not None
                else f"skipped: unknown timer kind {timer.kind}"
            )
            status = timer_store.DONE if outcome.startswith("done") else timer_store.CANCELLED
            timer_store.finish(connection, timer.id, status, outcome, now)
        return claimed

    def _run_step(
        self,
        connection: Connection,
        timer: timer_store.Timer,
        incident: Incident,
        frozen: IncidentPlan,
        now: datetime,
    ) -> str:
        step = timer.step
        if incident.status is not IncidentStatus.TRIGGERED:
            reason = f"skipped: incident {incident.status.value}"
            number = step + 1 if step is not None else "?"
            record(connection, incident.id, now, "step_skipped", f"Step {number} {reason}")
            return reason
        assert step is not None
        plan, started_at = frozen.plan, frozen.started_at
        # Compared as computed from the plan, so the step that is due now is never its own
        # "later step".
        own_due = plan.step_due(started_at, step, timer.cycle)
        if missed(own_due, plan.latest_due(started_at, now), self._resumed_at):
            return self._pager.skip(
                connection, incident, plan, started_at, step, timer.cycle, now, self._resumed_at
            )
        self._pager.page(connection, incident, plan, started_at, step, timer.cycle, now)
        return "done"

    def _run_ack_timeout(
        self,
        connection: Connection,
        timer: timer_store.Timer,
        incident: Incident,
        frozen: IncidentPlan,
        now: datetime,
    ) -> str:
        if incident.status is not IncidentStatus.ACKNOWLEDGED:
            return f"skipped: incident {incident.status.value}"
        minutes = round((frozen.plan.ack_timeout or 0) / 60, 1)
        retriggered = retrigger(
            connection,
            incident.id,
            SYSTEM_ACTOR,
            f"Acknowledgement timed out after {minutes:g} min; triggered again",
            now,
        )
        timer_store.restart_plan(connection, incident.id, now)
        if frozen.plan.steps:
            self._pager.schedule_cycle(connection, retriggered, frozen.plan, now, 0, now)
        return "done: retriggered"

    def _run_notify(
        self,
        connection: Connection,
        timer: timer_store.Timer,
        incident: Incident,
        frozen: IncidentPlan,
        now: datetime,
    ) -> str:
        if incident.status is IncidentStatus.RESOLVED:
            return "skipped: incident resolved"
        self._notify_channels(connection, incident, frozen.plan.channels, now)
        return "done"

    def _run_reminder(
        self,
        connection: Connection,
        timer: timer_store.Timer,
        incident: Incident,
        frozen: IncidentPlan,
        now: datetime,
    ) -> str:
        if incident.status is IncidentStatus.RESOLVED:
            return "skipped: incident resolved"
        plan = frozen.plan
        channels = [c for c in plan.channels if self._composer.channel_type(c) not in NO_REMINDERS]
        message = self._composer.message(connection, incident, Kind.REMINDER)
        key = f"{incident.id}:reminder:{timer.id}"
        self._composer.broadcast(connection, incident, channels, message, now, key=key)
        record(
            connection,
            incident.id,
            now,
            "reminder",
            f"Reminder sent: unresolved after "
            f"{(now - incident.triggered_at).total_seconds() / 60:.0f} min "
            "(escalate by hand if needed)",
        )
        due = now + timedelta(seconds=plan.reminder_after or 0)
        timer_store.add_timer(connection, incident.id, REMINDER, due, now)
        return "done"

    def escalate_now(self, incident_id: int, actor: str) -> int:
        """Page the next step of the incident's plan at once (a responder asks for help, or
        P1/P2's "manual escalation"); returns the step paged (1-based)."""
        now = self._runtime.clock.now()

        def work(connection: Connection) -> int:
            incident = get_incident(connection, incident_id, for_update=True)
            if incident is None:
                raise NotFound(f"incident {incident_id} does not exist")
            if incident.status is not IncidentStatus.TRIGGERED:
                raise Conflict(
                    f"incident {incident_id} is {incident.status.value}: escalation is stopped"
                )
            frozen = load_plan(connection, incident_id)
            timer = timer_store.next_pending(connection, incident_id, STEP)
            if frozen is None or not frozen.plan.steps or timer is None or timer.step is None:
                raise Conflict(
                    f"incident {incident_id} has no further step to escalate to",
                    hint="its policy has no (more) steps; page someone with an override",
                )
            self._pager.page(
                connection, incident, frozen.plan, frozen.started_at, timer.step, timer.cycle, now
            )
            timer_store.finish(
                connection, timer.id, timer_store.DONE, f"done: escalated by {actor}", now
            )
            record(
                connection,
                incident_id,
                now,
                "escalated",
                f"Escalated by {actor}: step {timer.step + 1} paged now",
                step=timer.step,
            )
            return timer.step + 1

        step = run_transaction(self._runtime.database, work)
        self._runtime.dispatcher_wakeup()
        return step

    # -- reading --------------------------------------------------------------------------

    def progress(
        self, incident_id: int
    ) -> tuple[IncidentPlan | None, list[timer_store.TimerState]]:
        """The plan the incident froze at open and its timers: who was paged, who is next."""
        with read_transaction(self._runtime.database) as connection:
            return load_plan(connection, incident_id), timer_store.incident_timers(
                connection, incident_id
            )
