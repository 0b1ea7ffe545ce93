"""The outbox in the console: recent, pending and dead notifications, and re-sending."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gatewatch.web.deps import NotificationsDep
from gatewatch.web.schemas import PathId
from gatewatch.web.ui.forms import Csrf, Responder, User, act
from gatewatch.web.ui.render import page

router = APIRouter(include_in_schema=False)
STATUSES = ("pending", "sending", "delivered", "dead", "cancelled")


@router.get("/ui/notifications")
def notifications_page(
    request: Request, user: User, outbox: NotificationsDep, status: str | None = None
) -> HTMLResponse:
    wanted = status if status in STATUSES else None
    found = outbox.list(wanted, None, 200)
    return page(request, "notifications.html", user, "Notifications", notifications=found)


@router.post("/ui/notifications/{notification_id}/resend")
async def resend(
    request: Request, notification_id: PathId, user: Responder, csrf: Csrf, outbox: NotificationsDep
) -> Response:
    return await act(
        request,
        csrf,
        lambda: outbox.resend(notification_id),
        f"Notification {notification_id} queued again.",
        "/ui/notifications?status=dead",
    )
