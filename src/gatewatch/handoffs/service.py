"""When a schedule's on-call people change (a rotation's hand-off, an override starting or
ending), its `announce` channel gets one message: who is on call now, until when, who is
next. The message's dedup key is the change itself (schedule, people, until), so every
replica may look and the outbox keeps one."""

from collections.abc import Iterable, Mapping

from gatewatch.config.oncall import PersonConfig, ScheduleConfig
from gatewatch.model import Override
from gatewatch.notify.message import Kind, Message
from gatewatch.oncall.rotation import OnCallWindow, on_call_window
from gatewatch.runtime import Runtime
from gatewatch.store import outbox
from gatewatch.store.database import read_transaction, run_transaction
from gatewatch.store.oncall import list_overrides
from gatewatch.timestamps import format_utc


class HandoffAnnouncer:
    def __init__(
        self,
        runtime: Runtime,
        schedules: Iterable[ScheduleConfig],
        people: Iterable[PersonConfig],
        external_url: str,
    ) -> None:
        self._runtime = runtime
        self._schedules = [s for s in schedules if s.announce is not None]
        self._names: Mapping[str, str] = {p.id: p.display_name for p in people}
        self._console = f"{external_url.rstrip('/')}/ui/oncall"

    def announce(self) -> int:
        """Queue an announcement for each schedule whose on-call people changed; returns how
        many were new (a change already announced, by any replica, is not queued again)."""
        if not self._schedules:
            return 0
        now = self._runtime.clock.now()
        # Reads first: most passes find nothing new and take no write lock.
        with read_transaction(self._runtime.database) as connection:
            overrides: list[Override] = list_overrides(connection, ending_after=now)
            rows = [self._row(on_call_window(s, overrides, now), s) for s in self._schedules]
            known = outbox.known_keys(connection, (str(row["dedup_key"]) for row in rows))
        fresh = [row for row in rows if row["dedup_key"] not in known]
        if fresh:
            # Another replica may queue the same change meanwhile: the dedup key keeps one.
            run_transaction(
                self._runtime.database, lambda connection: outbox.enqueue(connection, fresh, now)
            )
        return len(fresh)

    def _row(self, window: OnCallWindow, schedule: ScheduleConfig) -> dict[str, object]:
        names = ", ".join(self._names.get(p, p) for p in window.people) or "nobody"
        following = ", ".join(self._names.get(p, p) for p in window.next_people) or "nobody"
        label = schedule.name or schedule.id
        override = " (override)" if window.overridden else ""
        message = Message(
            kind=Kind.HANDOFF,
            incident_id=0,
            title=f"On call for {label}: {names}{override}",
            text=f"Until {format_utc(window.until)}, then {following}.",
            severity="info",
            status="on call",
            service=None,
            incident_url=self._console,
            runbook_url=None,
            labels={"schedule": schedule.id},
            triggered_at=window.at.isoformat(),
        )
        change = f"{schedule.id}:{','.join(window.people)}:{window.until.isoformat()}"
        return {
            "incident_id": None,
            "channel": schedule.announce,
            "kind": Kind.HANDOFF.value,
            "person": None,
            "message": message.to_json(),
            "dedup_key": f"handoff:{change}"[:255],
        }
