"""Escalation decides who is paged and when, inside the transaction of the incident change
that causes it: the plan is frozen at open, steps, ack time-outs and reminders are timer
rows, pages are outbox rows. Nothing here sleeps or sends."""

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import Connection

from gatewatch.config.oncall import ScheduleConfig
from gatewatch.config.policies import PolicyConfig, SchedulerConfig
from gatewatch.config.schema import SeverityLevel
from gatewatch.errors import Conflict, NotFound
from gatewatch.escalation.plan import (
    EscalationPlan,
    IncidentPlan,
    freeze_plan,
    load_plan,
    save_plan,
    update_plan,
)
from gatewatch.escalation.steps import (
    ACK_TIMEOUT,
    MANUAL,
    NOTIFY,
    REMINDER,
    STEP,
    StepPager,
)
from gatewatch.escalation.timers import EscalationTimers
from gatewatch.incidents.timeline import record
from gatewatch.model import Incident, IncidentStatus
from gatewatch.notify.compose import NotificationComposer
from gatewatch.notify.message import Kind
from gatewatch.runtime import Runtime
from gatewatch.store import outbox
from gatewatch.store import timers as timer_store
from gatewatch.store.database import read_transaction, run_transaction
from gatewatch.store.incidents import get_incident
from gatewatch.timestamps import format_utc

# Automated actions are started and reverted by `gatewatch.actions`, not followed up here.
NOT_FOLLOWED_UP = ("action",)


class Escalation:
    def __init__(
        self,
        runtime: Runtime,
        policies: Mapping[str, PolicyConfig],
        severities: Iterable[SeverityLevel],
        schedules: Iterable[ScheduleConfig],
        composer: NotificationComposer,
        scheduler: SchedulerConfig,
    ) -> None:
        self._runtime = runtime
        self._policies = policies
        self._levels = {level.name: level for level in severities}
        self._composer = composer
        self._pager = StepPager(composer, {s.id: s for s in schedules})
        self._timers = EscalationTimers(runtime, composer, self._pager, scheduler)
        self._frozen: dict[tuple[str | None, str], EscalationPlan] = {}

    # -- incident changes (called inside the change's transaction) ------------------------

    def _plan_for(self, policy: PolicyConfig | None, incident: Incident) -> EscalationPlan:
        """The plan an incident of this policy and severity freezes. The config does not change
        while the process runs, so each pair is frozen once: a storm opens hundreds alike."""
        key = (incident.policy, incident.severity)
        plan = self._frozen.get(key)
        if plan is None:
            level = self._levels.get(incident.severity)
            plan = self._frozen[key] = freeze_plan(policy, level, set(self._composer.channels))
        return plan

    def incident_opened(self, connection: Connection, incident: Incident, now: datetime) -> None:
        policy = self._policies.get(incident.policy or "")
        plan = self._plan_for(policy, incident)
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
            self._pager.notify_channels(connection, incident, plan.channels, now)

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
        """Claim the timers due now and run them; the background loop calls this."""
        return self._timers.run_due()

    def next_timer_due(self) -> datetime | None:
        return self._timers.next_due()

    @property
    def timers(self) -> EscalationTimers:
        return self._timers

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
            if frozen is not None and timer is not None and timer.step is not None:
                return self._escalate_to_step(connection, incident, frozen, timer, actor, now)
            if frozen is not None:
                manual = timer_store.count_of_kind(connection, incident_id, MANUAL)
                if manual < len(frozen.plan.manual_steps):
                    return self._escalate_to_manual(
                        connection, incident, frozen, manual, actor, now
                    )
            raise Conflict(
                f"incident {incident_id} has no further step to escalate to",
                hint="its policy has no more steps or manual_steps; page someone with an override",
            )

        step = run_transaction(self._runtime.database, work)
        self._runtime.dispatcher_wakeup()
        return step

    def _escalate_to_step(
        self,
        connection: Connection,
        incident: Incident,
        frozen: IncidentPlan,
        timer: timer_store.Timer,
        actor: str,
        now: datetime,
    ) -> int:
        """Page the next timed step now; its own timer then does not page again."""
        assert timer.step is not None
        self._pager.page(
            connection, incident, frozen.plan, frozen.started_at, timer.step, timer.cycle, now
        )
        timer_store.finish(
            connection, timer.id, timer_store.DONE, f"done: escalated by {actor}", now
        )
        record(
            connection,
            incident.id,
            now,
            "escalated",
            f"Escalated by {actor}: step {timer.step + 1} paged now",
            step=timer.step,
        )
        return timer.step + 1

    def _escalate_to_manual(
        self,
        connection: Connection,
        incident: Incident,
        frozen: IncidentPlan,
        index: int,
        actor: str,
        now: datetime,
    ) -> int:
        """Page the next manual step: the timed steps are used up (or there are none)."""
        self._pager.page_manual(connection, incident, frozen.plan, index, now)
        number = len(frozen.plan.steps) + index
        timer_store.record_done(
            connection, incident.id, MANUAL, number, f"done: escalated by {actor}", now
        )
        record(
            connection,
            incident.id,
            now,
            "escalated",
            f"Escalated by {actor}: manual step {index + 1} paged now",
            step=number,
        )
        return number + 1

    # -- reading --------------------------------------------------------------------------

    def progress(
        self, incident_id: int
    ) -> tuple[IncidentPlan | None, list[timer_store.TimerState]]:
        """The plan the incident froze at open and its timers: who was paged, who is next."""
        with read_transaction(self._runtime.database) as connection:
            return load_plan(connection, incident_id), timer_store.incident_timers(
                connection, incident_id
            )
