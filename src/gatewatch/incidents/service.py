"""The incident domain's operations, each one transaction: ingest, acknowledge, resolve,
notes, and the queries over incidents and alerts.

What other domains do when an incident changes (escalation, automated actions) they do as
followers, called inside the same transaction, so a change and its pages commit together.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection, Engine

from gatewatch.errors import Conflict, NotFound
from gatewatch.incidents.grouping import EXPIRY, IngestResult, ingest_batch
from gatewatch.incidents.lifecycle import acknowledge, add_note, resolve
from gatewatch.incidents.severity import SeverityScale
from gatewatch.ingest import prometheus_push
from gatewatch.matchers import Matcher, match_all
from gatewatch.model import (
    Alert,
    AlertBatch,
    AlertStatus,
    Incident,
    IncidentStatus,
    StoredAlert,
    TimelineEvent,
)
from gatewatch.routing import Router
from gatewatch.runtime import Runtime
from gatewatch.store import alerts as alert_store
from gatewatch.store import incidents as incident_store
from gatewatch.store.database import read_transaction, run_transaction
from gatewatch.store.deferred import deferred_writes
from gatewatch.store.group_commit import GroupCommit


class IncidentFollower(Protocol):
    """A domain that acts when an incident opens, is acknowledged or is resolved."""

    def incident_opened(
        self, connection: Connection, incident: Incident, now: datetime
    ) -> None: ...

    def incident_acknowledged(
        self, connection: Connection, incident: Incident, actor: str, now: datetime
    ) -> None: ...

    def incident_resolved(
        self, connection: Connection, incident: Incident, actor: str, now: datetime
    ) -> None: ...

    def incident_severity_raised(
        self, connection: Connection, incident: Incident, previous: str, now: datetime
    ) -> None: ...


class Intake(Protocol):
    """A stage that sees every batch first, inside its transaction, and keeps some of its
    alerts out of incidents (heartbeats are signals, not incidents)."""

    def take(self, connection: Connection, batch: AlertBatch, now: datetime) -> AlertBatch: ...


FollowerHook = Callable[[Connection, Incident, str, datetime], None]


ACKNOWLEDGE, RESOLVE = "ack", "resolve"
OPEN_STATUSES = (IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED)


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)  # incident id: why


@dataclass(frozen=True)
class IncidentDetail:
    incident: Incident
    alerts: list[StoredAlert]
    timeline: list[TimelineEvent]


def count_incidents(database: Engine) -> dict[str, int]:
    """Incidents by status, read at scrape time so the gauge cannot drift from the store."""
    with read_transaction(database) as connection:
        return incident_store.count_by_status(connection)


class Incidents:
    def __init__(
        self,
        runtime: Runtime,
        router: Router,
        severities: SeverityScale,
        followers: Sequence[IncidentFollower],
        intakes: Sequence[Intake] = (),
    ) -> None:
        self._runtime = runtime
        self._intakes = intakes
        self._router = router
        self._severities = severities
        self._followers = followers
        self._commits = GroupCommit(runtime.database)

    def ingest(self, batch: AlertBatch) -> IngestResult:
        """Commit the batch and the pages it causes; only then may the sender get its 2xx.
        Batches arriving together share one transaction (group commit), each in its own
        savepoint."""
        now = self._runtime.clock.now()
        closed: list[Incident] = []

        def work(connection: Connection) -> IngestResult:
            closed.clear()
            # Inside the unit's savepoint: a unit that fails drops its kept rows with it.
            with deferred_writes(connection):
                return self._ingest_in(connection, batch, now, closed)

        result = self._commits.run(work)
        self._after_ingest(batch.source, result, closed)
        return result

    def expire_alerts(self, limit: int = 1000) -> int:
        """Resolve pushed alerts whose endsAt passed without a refresh, as Alertmanager does
        (Prometheus re-sends firing alerts with a moving endsAt; if it dies, they expire)."""
        now = self._runtime.clock.now()
        with read_transaction(self._runtime.database) as connection:
            if not alert_store.any_expired(connection, now, prometheus_push.SOURCE):
                return 0
        closed: list[Incident] = []

        def work(connection: Connection) -> IngestResult:
            closed.clear()
            expired = alert_store.expired_alerts(connection, now, prometheus_push.SOURCE, limit)
            batch = AlertBatch(
                source=EXPIRY,
                alerts=[
                    Alert(
                        labels=alert.labels,
                        annotations=alert.annotations,
                        starts_at=alert.starts_at,
                        ends_at=alert.ends_at,
                        generator_url=alert.generator_url,
                        status=AlertStatus.RESOLVED,
                        fingerprint=alert.fingerprint,
                    )
                    for alert in expired
                ],
            )
            return self._ingest_in(connection, batch, now, closed)

        result = run_transaction(self._runtime.database, work)
        self._after_ingest(EXPIRY, result, closed)
        return result.accepted

    def _ingest_in(
        self, connection: Connection, batch: AlertBatch, now: datetime, closed: list[Incident]
    ) -> IngestResult:
        received = len(batch.alerts)
        for intake in self._intakes:
            batch = intake.take(connection, batch, now)
        result = ingest_batch(connection, batch, self._router, self._severities, now)
        result.accepted = received
        changed = [*result.opened, *(i for i, _ in result.raised), *result.closed]
        # One query for all the incidents the batch changed, and one for their alert lists
        # (what their messages are composed from; the followers change no alert links).
        stored = incident_store.get_incidents(connection, changed)
        with incident_store.alert_lists_preloaded(connection, changed):
            for incident_id in result.opened:
                for follower in self._followers:
                    follower.incident_opened(connection, stored[incident_id], now)
            for incident_id, previous in result.raised:
                if incident_id in result.closed:
                    continue
                for follower in self._followers:
                    follower.incident_severity_raised(
                        connection, stored[incident_id], previous, now
                    )
            for incident_id in result.closed:
                for follower in self._followers:
                    follower.incident_resolved(connection, stored[incident_id], batch.source, now)
                closed.append(stored[incident_id])
        return result

    def _after_ingest(self, source: str, result: IngestResult, closed: list[Incident]) -> None:
        metrics = self._runtime.metrics
        for incident in closed:
            metrics.observe_response(incident)
        if result.opened or result.closed:
            self._runtime.dispatcher_wakeup()
        if result.opened or result.raised:
            self._runtime.timers_wakeup()
        metrics.alerts_received.labels(source, AlertStatus.FIRING.value).inc(result.firing)
        metrics.alerts_received.labels(source, AlertStatus.RESOLVED.value).inc(result.resolved)
        metrics.incidents_opened.inc(len(result.opened))
        metrics.incidents_auto_resolved.inc(len(result.closed))

    def acknowledge(self, incident_id: int, actor: str, note: str | None) -> Incident:
        """Acknowledge; pending escalation steps are cancelled in the same transaction."""
        return self._human_action(
            acknowledge, lambda f: f.incident_acknowledged, incident_id, actor, note
        )

    def resolve(self, incident_id: int, actor: str, note: str | None) -> Incident:
        """Resolve by hand; timers stop and the channels hear of it, in one transaction."""
        return self._human_action(resolve, lambda f: f.incident_resolved, incident_id, actor, note)

    def _human_action(
        self,
        change: Callable[[Connection, int, str, str | None, datetime], Incident],
        hook: Callable[[IncidentFollower], FollowerHook],
        incident_id: int,
        actor: str,
        note: str | None,
    ) -> Incident:
        now = self._runtime.clock.now()

        def work(connection: Connection) -> Incident:
            incident = change(connection, incident_id, actor, note, now)
            for follower in self._followers:
                hook(follower)(connection, incident, actor, now)
            return incident

        incident = run_transaction(self._runtime.database, work)
        self._runtime.dispatcher_wakeup()
        self._runtime.timers_wakeup()
        self._runtime.metrics.observe_response(incident)
        return incident

    def act_on_many(
        self, action: str, incident_ids: Sequence[int], actor: str, note: str | None
    ) -> BulkResult:
        """Acknowledge or resolve many incidents (an alert storm's dozens) in one go; each in
        its own transaction with its own timeline entry, so one refusal costs only itself."""
        change = self.acknowledge if action == ACKNOWLEDGE else self.resolve
        result = BulkResult()
        for incident_id in dict.fromkeys(incident_ids):
            try:
                change(incident_id, actor, note)
            except (Conflict, NotFound) as exc:
                result.refused[incident_id] = str(exc)
            else:
                result.done.append(incident_id)
        return result

    def matching_open(self, matchers: list[Matcher]) -> list[int]:
        """Open incidents holding a firing alert that matches every matcher."""
        with read_transaction(self._runtime.database) as connection:
            found, _ = incident_store.list_incidents(
                connection, incident_store.IncidentFilter(OPEN_STATUSES), 10_000, 0
            )
            return sorted(
                incident.id
                for incident in found
                if any(
                    alert.status is AlertStatus.FIRING and match_all(matchers, alert.labels)
                    for alert in incident_store.incident_alert_list(connection, incident.id)
                )
            )

    def add_note(self, incident_id: int, actor: str, text: str) -> TimelineEvent:
        now = self._runtime.clock.now()
        return run_transaction(
            self._runtime.database,
            lambda connection: add_note(connection, incident_id, actor, text, now),
        )

    def list_incidents(
        self, filters: incident_store.IncidentFilter, limit: int, offset: int
    ) -> tuple[list[Incident], int]:
        with read_transaction(self._runtime.database) as connection:
            return incident_store.list_incidents(connection, filters, limit, offset)

    def detail(self, incident_id: int) -> IncidentDetail:
        with read_transaction(self._runtime.database) as connection:
            incident = incident_store.get_incident(connection, incident_id)
            if incident is None:
                raise NotFound(f"incident {incident_id} does not exist")
            return IncidentDetail(
                incident=incident,
                alerts=incident_store.incident_alert_list(connection, incident_id),
                timeline=incident_store.timeline(connection, incident_id),
            )

    def alerts(self, status: AlertStatus | None, matchers: list[Matcher]) -> list[StoredAlert]:
        with read_transaction(self._runtime.database) as connection:
            stored = alert_store.list_alerts(connection, status)
        return [alert for alert in stored if match_all(matchers, alert.labels)]

    def firing_by_severity(self) -> dict[str, int]:
        with read_transaction(self._runtime.database) as connection:
            return alert_store.firing_by_severity(connection)

    def alert(self, fingerprint: str) -> StoredAlert | None:
        with read_transaction(self._runtime.database) as connection:
            return alert_store.get_alert(connection, fingerprint)
