"""The notification outbox: recent, pending and dead notifications, and re-sending."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gatewatch.store.outbox import Notification
from gatewatch.web.auth import API_ERRORS, Reader, Responder
from gatewatch.web.deps import NotificationsDep
from gatewatch.web.schemas import MAX_ROW_ID, PathId

router = APIRouter(prefix="/api/v1", tags=["paging"])


class NotificationOut(BaseModel):
    id: int
    incident_id: int | None
    channel: str
    kind: str
    person: str | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    title: str = Field(description="The message's title as sent")

    @classmethod
    def of(cls, notification: Notification) -> "NotificationOut":
        data = {k: v for k, v in vars(notification).items() if k != "message"}
        return cls(**data, title=str(notification.message.get("title", "")))


@router.get("/notifications", response_model=list[NotificationOut], responses=API_ERRORS)
def notifications(
    outbox: NotificationsDep,
    _caller: Reader,
    status: Annotated[
        str | None, Query(pattern="^(pending|sending|delivered|dead|cancelled)$")
    ] = None,
    incident: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[NotificationOut]:
    return [NotificationOut.of(n) for n in outbox.list(status, incident, limit)]


@router.post("/notifications/{notification_id}/resend", status_code=202, responses=API_ERRORS)
def resend(outbox: NotificationsDep, notification_id: PathId, _caller: Responder) -> dict[str, str]:
    outbox.resend(notification_id)
    return {"status": "queued"}
