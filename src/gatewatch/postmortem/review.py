"""A post-incident review: the facts the incident recorded (timeline, alerts, who was paged,
time to acknowledge and resolve) plus what people wrote, as Markdown from the shipped
template."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources

from jinja2.sandbox import SandboxedEnvironment

from gatewatch.model import Incident, StoredAlert, TimelineEvent
from gatewatch.store.outbox import Notification
from gatewatch.store.reviews import ActionItem, ReviewText
from gatewatch.timestamps import format_utc

PAGE_KINDS = ("trigger", "reminder")  # what reached people, not acks and resolutions


@dataclass(frozen=True)
class Review:
    incident: Incident
    alerts: list[StoredAlert]
    timeline: list[TimelineEvent]
    pages: list[Notification]
    text: ReviewText
    items: list[ActionItem]
    updated_by: str | None
    updated_at: datetime | None

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        at = self.incident.acknowledged_at
        return at - self.incident.triggered_at if at else None

    @property
    def time_to_resolve(self) -> timedelta | None:
        at = self.incident.resolved_at
        return at - self.incident.triggered_at if at else None


def span(delta: timedelta | None) -> str:
    if delta is None:
        return "-"
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {seconds} s"


_env = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)
_env.filters["clock"] = format_utc
_env.filters["span"] = span


def render_review(review: Review) -> str:
    template = (resources.files("gatewatch.postmortem") / "template.md").read_text("utf-8")
    return _env.from_string(template).render(
        incident=review.incident,
        alerts=review.alerts,
        timeline=review.timeline,
        pages=review.pages,
        text=review.text,
        items=review.items,
        updated_by=review.updated_by,
        updated_at=review.updated_at,
        time_to_acknowledge=review.time_to_acknowledge,
        time_to_resolve=review.time_to_resolve,
    )
