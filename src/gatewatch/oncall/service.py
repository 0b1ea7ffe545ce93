"""Who is on call, and the overrides people add and remove at run time."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection

from gatewatch.config.oncall import PersonConfig, ScheduleConfig
from gatewatch.errors import Conflict, NotFound
from gatewatch.model import Override
from gatewatch.oncall.rotation import OnCallWindow, on_call_window
from gatewatch.runtime import Runtime
from gatewatch.store import oncall as oncall_store
from gatewatch.store.database import read_transaction, run_transaction
from gatewatch.timestamps import format_utc


def _refuse_overlap(
    connection: Connection,
    schedule_id: str,
    starts_at: datetime,
    ends_at: datetime,
    except_id: int | None,
    layer: str | None,
) -> None:
    """Two overrides of one schedule (or layer) at once would leave who is on call to chance."""
    clash = oncall_store.overlapping(connection, schedule_id, starts_at, ends_at, except_id, layer)
    if clash:
        first = clash[0]
        raise Conflict(
            f"overlaps override {first.id} ({first.person_id}, {format_utc(first.starts_at)} "
            f"to {format_utc(first.ends_at)}); shorten or remove that one first"
        )


class OnCall:
    def __init__(
        self,
        runtime: Runtime,
        people: Iterable[PersonConfig],
        schedules: Iterable[ScheduleConfig],
    ) -> None:
        self._runtime = runtime
        self.people = {person.id: person for person in people}
        self.schedules = {schedule.id: schedule for schedule in schedules}

    def display_name(self, person_id: str) -> str:
        person = self.people.get(person_id)
        return person.display_name if person else person_id

    def on_call(self, schedule_id: str | None, at: datetime) -> list[OnCallWindow]:
        schedules = list(self.schedules.values())
        if schedule_id is not None:
            if schedule_id not in self.schedules:
                known = ", ".join(self.schedules) or "none configured"
                raise NotFound(f"schedule {schedule_id!r} does not exist (known: {known})")
            schedules = [self.schedules[schedule_id]]
        with read_transaction(self._runtime.database) as connection:
            overrides = oncall_store.list_overrides(connection, ending_after=at)
        return [on_call_window(schedule, overrides, at) for schedule in schedules]

    def add_override(
        self,
        schedule_id: str,
        person_id: str,
        starts_at: datetime,
        ends_at: datetime,
        actor: str,
        layer: str | None = None,
    ) -> Override:
        """`person_id` on call for the schedule (or, with `layer`, in place of that layer's
        person only) from `starts_at` to `ends_at`."""
        if schedule_id not in self.schedules:
            raise NotFound(f"schedule {schedule_id!r} does not exist")
        layers = [item.name for item in self.schedules[schedule_id].layers if item.name]
        if layer is not None and layer not in layers:
            raise NotFound(
                f"schedule {schedule_id!r} has no layer {layer!r} "
                f"(named layers: {', '.join(layers) or 'none'})"
            )
        if person_id not in self.people:
            raise NotFound(f"person {person_id!r} does not exist")
        if ends_at <= starts_at:
            raise Conflict("an override must end after it starts")
        now = self._runtime.clock.now()

        def add(connection: Connection) -> Override:
            _refuse_overlap(connection, schedule_id, starts_at, ends_at, None, layer)
            return oncall_store.add_override(
                connection, schedule_id, person_id, starts_at, ends_at, actor, now, layer
            )

        return run_transaction(self._runtime.database, add)

    def change_end(self, override_id: int, ends_at: datetime) -> Override:
        """Shorten (or lengthen) an override; it may not start to overlap another."""

        def change(connection: Connection) -> Override:
            override = oncall_store.get_override(connection, override_id)
            if override is None:
                raise NotFound(f"override {override_id} does not exist")
            if ends_at <= override.starts_at:
                raise Conflict(
                    f"override {override_id} starts at {format_utc(override.starts_at)}: "
                    "end it after that, or remove it"
                )
            _refuse_overlap(
                connection,
                override.schedule_id,
                override.starts_at,
                ends_at,
                override_id,
                override.layer,
            )
            oncall_store.set_end(connection, override_id, ends_at)
            changed = oncall_store.get_override(connection, override_id)
            assert changed is not None
            return changed

        return run_transaction(self._runtime.database, change)

    def overrides(self, schedule_id: str | None) -> list[Override]:
        with read_transaction(self._runtime.database) as connection:
            return oncall_store.list_overrides(
                connection, schedule_id, ending_after=self._runtime.clock.now()
            )

    def delete_override(self, override_id: int) -> None:
        if not run_transaction(
            self._runtime.database,
            lambda connection: oncall_store.delete_override(connection, override_id),
        ):
            raise NotFound(f"override {override_id} does not exist")
