"""Escalation's timers run: the steps, acknowledgement time-outs, reminders and held
notifications whose time has come, each claimed once (across replicas) and finished in the
transaction that acts on it."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from gatewatch.config.policies import SchedulerConfig
from gatewatch.escalation.plan import IncidentPlan, load_plan, load_plans
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
from gatewatch.store.database import read_transaction, run_transaction
from gatewatch.store.deferred import deferred_writes
from gatewatch.store.incidents import alert_lists_preloaded, get_incident, lock_incidents

# PagerDuty pages whoever its own service says; a reminder must not page again.
NO_REMINDERS = ("pagerduty",)
# Longer than this between two timer passes is downtime, not a busy loop.
RESUME_AFTER = timedelta(seconds=5)
# Handlers that change their incident or its plan: later timers of the batch reload them.
CHANGES_INCIDENT = (ACK_TIMEOUT,)

TimerHandler = Callable[[Connection, timer_store.Timer, Incident, IncidentPlan, datetime], str]


@dataclass(frozen=True)
class Claim:
    """Timers one pass marked as its own (`token`), to run before the lease is over."""

    token: str
    timers: list[timer_store.Timer]


def _load(connection: Connection, incident_id: int) -> Incident:
    incident = get_incident(connection, incident_id)
    assert incident is not None, f"incident {incident_id} vanished"
    return incident


class EscalationTimers:
    def __init__(
        self,
        runtime: Runtime,
        composer: NotificationComposer,
        pager: StepPager,
        scheduler: SchedulerConfig,
    ) -> None:
        self._runtime = runtime
        self._composer = composer
        self._pager = pager
        self._scheduler = scheduler
        self._last_pass: datetime | None = None
        self._resumed_at: datetime | None = None
        self._handlers: dict[str, TimerHandler] = {
            STEP: self._run_step,
            ACK_TIMEOUT: self._run_ack_timeout,
            REMINDER: self._run_reminder,
            NOTIFY: self._run_notify,
        }

    def run_due(self) -> int:
        """Claim the timers due now, then run them in one transaction; the loop calls this."""
        now = self._runtime.clock.now()
        # A pass after a gap (start-up, a pause, the database unreachable) resumes: timers
        # that fell due before it were missed, not merely late.
        if self._last_pass is None or now - self._last_pass > RESUME_AFTER:
            self._resumed_at = now
        claim = self.claim(now)
        ran = self.run(claim, now) if claim.timers else []
        self._last_pass = now  # only a pass that reached the database counts
        for timer in ran:
            self._runtime.metrics.timer_lateness.observe((now - timer.due_at).total_seconds())
        return len(ran)

    def next_due(self) -> datetime | None:
        """When the earliest claimable timer falls due, so the loop sleeps until then."""
        now = self._runtime.clock.now()
        with read_transaction(self._runtime.database) as connection:
            return timer_store.next_due(connection, now)

    def claim(self, now: datetime) -> Claim:
        """Mark up to a batch of due timers as this pass's, for the claim lease: a short
        transaction that commits before any step runs. Reads first, so an idle pass never
        takes the writer."""
        database = self._runtime.database
        with read_transaction(database) as connection:
            due = timer_store.next_due(connection, now)
        if due is None or due > now:
            return Claim(str(uuid.uuid4()), [])
        claim = str(uuid.uuid4())
        lease_until = now + self._scheduler.claim_lease
        limit = self._scheduler.batch_size
        timers = run_transaction(
            database,
            lambda connection: timer_store.claim_due(connection, now, claim, lease_until, limit),
        )
        return Claim(claim, timers)

    def run(self, claim: Claim, now: datetime) -> list[timer_store.Timer]:
        """Run claimed timers in one transaction: their incidents locked and loaded in one
        query, their plans in another, their pages and events written in bulk. A timer whose
        step an acknowledgement cancelled since the claim is left alone."""
        return run_transaction(
            self._runtime.database, lambda connection: self._run(connection, claim, now)
        )

    def _run(self, connection: Connection, claim: Claim, now: datetime) -> list[timer_store.Timer]:
        incidents = lock_incidents(connection, (timer.incident_id for timer in claim.timers))
        live = timer_store.still_claimed(connection, [t.id for t in claim.timers], claim.token)
        ran = [timer for timer in claim.timers if timer.id in live]
        plans = load_plans(connection, list(incidents))
        finished: list[timer_store.Finished] = []
        with deferred_writes(connection), alert_lists_preloaded(connection, incidents):
            for timer in ran:
                incident, frozen = incidents[timer.incident_id], plans.get(timer.incident_id)
                assert frozen is not None, f"incident {incident.id} has timers but no plan"
                handler = self._handlers.get(timer.kind)
                outcome = (
                    handler(connection, timer, incident, frozen, now)
                    if handler is not None
                    else f"skipped: unknown timer kind {timer.kind}"
                )
                done = outcome.startswith("done")
                status = timer_store.DONE if done else timer_store.CANCELLED
                finished.append(timer_store.Finished(timer.id, status, outcome))
                if done and timer.kind in CHANGES_INCIDENT:
                    incidents[incident.id] = _load(connection, incident.id)
                    reloaded = load_plan(connection, incident.id)
                    assert reloaded is not None
                    plans[incident.id] = reloaded
        timer_store.finish_many(connection, finished, now)
        return ran

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
