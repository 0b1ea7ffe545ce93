"""Post-incident reviews and action items, and the response-time report."""

from datetime import date, datetime

from sqlalchemy import Connection

from gatewatch.errors import NotFound
from gatewatch.incidents.lifecycle import add_note
from gatewatch.postmortem.response_times import ResponseTimes, response_times
from gatewatch.postmortem.review import PAGE_KINDS, Review
from gatewatch.runtime import Runtime
from gatewatch.store import incidents as incident_store
from gatewatch.store import outbox
from gatewatch.store import reviews as review_store
from gatewatch.store.database import read_transaction, run_transaction


def _exists(connection: Connection, incident_id: int) -> None:
    if incident_store.get_incident(connection, incident_id) is None:
        raise NotFound(f"incident {incident_id} does not exist")


class Reviews:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def review(self, incident_id: int) -> Review:
        """The incident's post-incident review: its recorded facts and what people wrote."""
        with read_transaction(self._runtime.database) as connection:
            incident = incident_store.get_incident(connection, incident_id)
            if incident is None:
                raise NotFound(f"incident {incident_id} does not exist")
            stored = review_store.get_review(connection, incident_id)
            pages = outbox.list_notifications(connection, None, incident_id, 1000)
            return Review(
                incident=incident,
                alerts=incident_store.incident_alert_list(connection, incident_id),
                timeline=incident_store.timeline(connection, incident_id),
                pages=sorted(
                    (n for n in pages if n.kind in PAGE_KINDS), key=lambda n: n.created_at
                ),
                text=stored.text if stored else review_store.ReviewText(),
                items=review_store.list_action_items(connection, incident_id),
                updated_by=stored.updated_by if stored else None,
                updated_at=stored.updated_at if stored else None,
            )

    def save_review(self, incident_id: int, text: review_store.ReviewText, actor: str) -> None:
        now = self._runtime.clock.now()

        def work(connection: Connection) -> None:
            _exists(connection, incident_id)
            review_store.save_review(connection, incident_id, text, actor, now)
            add_note(connection, incident_id, actor, "Post-incident review updated", now)

        run_transaction(self._runtime.database, work)

    def add_action_item(
        self, incident_id: int, text: str, owner: str, due: date, actor: str
    ) -> int:
        now = self._runtime.clock.now()

        def work(connection: Connection) -> int:
            _exists(connection, incident_id)
            return review_store.add_action_item(
                connection, incident_id, text, owner, due, actor, now
            )

        return run_transaction(self._runtime.database, work)

    def set_action_item_status(self, item_id: int, status: str) -> None:
        if not run_transaction(
            self._runtime.database,
            lambda connection: review_store.set_action_item_status(connection, item_id, status),
        ):
            raise NotFound(f"action item {item_id} does not exist")

    def response_report(self, since: datetime) -> list[ResponseTimes]:
        with read_transaction(self._runtime.database) as connection:
            found, _ = incident_store.list_incidents(
                connection, incident_store.IncidentFilter(triggered_since=since), 100_000, 0
            )
        return response_times(found)
