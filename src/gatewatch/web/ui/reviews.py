"""Post-incident reviews in the console: the pre-filled review, its text and action items."""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from gatewatch.errors import NotFound
from gatewatch.postmortem.review import render_review, span
from gatewatch.store.reviews import TEXT_FIELDS, ReviewText
from gatewatch.text import SafeText
from gatewatch.web.deps import ReviewsDep
from gatewatch.web.schemas import MAX_ROW_ID, PathId
from gatewatch.web.ui.forms import Csrf, Responder, User, act
from gatewatch.web.ui.render import markdown, page

router = APIRouter(include_in_schema=False)
REVIEW_FIELDS = [
    ("summary", "Summary"),
    ("impact", "Impact"),
    ("root_cause", "Root cause"),
    ("resolution", "Resolution"),
    ("went_well", "What went well"),
    ("went_wrong", "What went wrong"),
    ("lessons", "Lessons learned"),
]


@router.get("/ui/incidents/{incident_id}/review")
def review_page(
    request: Request, incident_id: PathId, user: User, reviews: ReviewsDep
) -> HTMLResponse:
    try:
        review = reviews.review(incident_id)
    except NotFound as exc:
        return page(request, "message.html", user, "Not found", 404, message=str(exc))
    return page(
        request,
        "review.html",
        user,
        f"Review #{incident_id}",
        review=review,
        fields=REVIEW_FIELDS,
        tta=span(review.time_to_acknowledge),
        ttr=span(review.time_to_resolve),
        document=Markup(markdown.render(render_review(review))),
    )


@router.post("/ui/incidents/{incident_id}/review")
async def save_review(
    request: Request, incident_id: PathId, user: Responder, reviews: ReviewsDep
) -> Response:
    form = await request.form()
    # NUL is dropped here (PostgreSQL would refuse it); a review is prose, not data.
    fields = {name: str(form.get(name, "")).replace("\x00", "")[:20_000] for name in TEXT_FIELDS}
    return await act(
        request,
        str(form.get("csrf", "")),
        lambda: reviews.save_review(incident_id, ReviewText(**fields), user.name),
        "Review saved.",
        f"/ui/incidents/{incident_id}/review",
    )


@router.post("/ui/incidents/{incident_id}/action-items")
async def add_action_item(
    request: Request,
    incident_id: PathId,
    user: Responder,
    csrf: Csrf,
    reviews: ReviewsDep,
    text: Annotated[SafeText, Form(min_length=1, max_length=2000)],
    owner: Annotated[SafeText, Form(min_length=1, max_length=255)],
    due: Annotated[date, Form()],
) -> Response:
    return await act(
        request,
        csrf,
        lambda: reviews.add_action_item(incident_id, text, owner, due, user.name),
        f"Action item added for {owner}, due {due}.",
        f"/ui/incidents/{incident_id}/review",
    )


@router.post("/ui/action-items/{item_id}/status")
async def set_action_item_status(
    request: Request,
    item_id: PathId,
    user: Responder,
    csrf: Csrf,
    reviews: ReviewsDep,
    incident: Annotated[int, Form(ge=1, le=MAX_ROW_ID)],
    status: Annotated[Literal["open", "done"], Form()],
) -> Response:
    return await act(
        request,
        csrf,
        lambda: reviews.set_action_item_status(item_id, status),
        f"Action item {item_id} is {status}.",
        f"/ui/incidents/{incident}/review",
    )
