"""The outbox as people see it: what was sent, what waits, what is dead, and re-sending."""

from sqlalchemy import Engine

from gatewatch.errors import Conflict
from gatewatch.runtime import Runtime
from gatewatch.store import outbox
from gatewatch.store import timers as timer_store
from gatewatch.store.database import read_transaction, run_transaction


def count_notifications(database: Engine) -> dict[str, int]:
    """Notifications by state, and the timers still pending (read at scrape time)."""
    with read_transaction(database) as connection:
        counts = outbox.count_by_status(connection)
        counts["timers_pending"] = timer_store.pending_count(connection)
        return counts


class Notifications:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def list(
        self, status: str | None, incident_id: int | None, limit: int
    ) -> list[outbox.Notification]:
        with read_transaction(self._runtime.database) as connection:
            return outbox.list_notifications(connection, status, incident_id, limit)

    def resend(self, notification_id: int) -> None:
        now = self._runtime.clock.now()
        if not run_transaction(
            self._runtime.database,
            lambda connection: outbox.resend(connection, notification_id, now),
        ):
            raise Conflict(f"notification {notification_id} is not dead (or does not exist)")
        self._runtime.dispatcher_wakeup()
