"""Escalation's timers run: the steps, acknowledgement time-outs, reminders and held
notifications whose time has come, each claimed once (across replicas) and finished in the
transaction that acts on it."""

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection

from gatewatch.escalation.plan import IncidentPlan, load_plan
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
from gatewatch.store import timers as timer_store
from gatewatch.store.database import run_transaction
from gatewatch.store.incidents import get_incident

# PagerDuty pages whoever its own service says; a reminder must not page again.
NO_REMINDERS = ("pagerduty",)
TIMER_BATCH = 50
# Longer than this between two timer passes is downtime, not a busy loop.
RESUME_AFTER = timedelta(seconds=5)

TimerHandler = Callable[[Connection, timer_store.Timer, Incident, IncidentPlan, datetime], str]


def _load(connection: Connection, incident_id: int) -> Incident:
    incident = get_incident(connection, incident_id)
    assert incident is not None, f"incident {incident_id} vanished"
    return incident


class EscalationTimers:
    def __init__(self, runtime: Runtime, composer: NotificationComposer, pager: StepPager) -> None:
        self._runtime = runtime
        self._composer = composer
        self._pager = pager
        self._last_pass: datetime | None = None
        self._resumed_at: datetime | None = None
        self._handlers: dict[str, TimerHandler] = {
            STEP: self._run_step,
            ACK_TIMEOUT: self._run_ack_timeout,
            REMINDER: self._run_reminder,
            NOTIFY: self._run_notify,
        }

    def run_due(self) -> int:
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
        self._pager.notify_channels(connection, incident, frozen.plan.channels, now)
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
