"""Post-incident reviews and their action items."""

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from gatewatch.store.tables import action_items, reviews

OPEN_ITEM, DONE_ITEM = "open", "done"


@dataclass(frozen=True)
class ReviewText:
    """What people write; everything else in a review comes from the incident itself."""

    summary: str = ""
    impact: str = ""
    root_cause: str = ""
    resolution: str = ""
    went_well: str = ""
    went_wrong: str = ""
    lessons: str = ""


@dataclass(frozen=True)
class StoredReview:
    text: ReviewText
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class ActionItem:
    id: int
    incident_id: int
    text: str
    owner: str
    due: date
    status: str
    created_by: str


TEXT_FIELDS = [f.name for f in fields(ReviewText)]


def get_review(connection: Connection, incident_id: int) -> StoredReview | None:
    row = connection.execute(
        select(reviews).where(reviews.c.incident_id == incident_id)
    ).one_or_none()
    if row is None:
        return None
    text = ReviewText(**{name: getattr(row, name) for name in TEXT_FIELDS})
    return StoredReview(text, row.updated_by, row.updated_at)


def save_review(
    connection: Connection, incident_id: int, text: ReviewText, actor: str, now: datetime
) -> None:
    values: dict[str, Any] = {name: getattr(text, name) for name in TEXT_FIELDS}
    values |= {"updated_by": actor, "updated_at": now}
    changed = connection.execute(
        update(reviews).where(reviews.c.incident_id == incident_id).values(**values)
    ).rowcount
    if not changed:
        connection.execute(insert(reviews).values(incident_id=incident_id, **values))


def list_action_items(connection: Connection, incident_id: int | None = None) -> list[ActionItem]:
    query = select(action_items).order_by(action_items.c.due, action_items.c.id)
    if incident_id is not None:
        query = query.where(action_items.c.incident_id == incident_id)
    return [
        ActionItem(r.id, r.incident_id, r.text, r.owner, r.due, r.status, r.created_by)
        for r in connection.execute(query)
    ]


def add_action_item(
    connection: Connection,
    incident_id: int,
    text: str,
    owner: str,
    due: date,
    actor: str,
    now: datetime,
) -> int:
    result = connection.execute(
        insert(action_items).values(
            incident_id=incident_id,
            text=text,
            owner=owner,
            due=due,
            status=OPEN_ITEM,
            created_by=actor,
            created_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def set_action_item_status(connection: Connection, item_id: int, status: str) -> bool:
    result = connection.execute(
        update(action_items).where(action_items.c.id == item_id).values(status=status)
    )
    return bool(result.rowcount)
