"""The channel-neutral content of a notification, rendered once when it is queued.

Rendering at enqueue time freezes what the page said at the moment it was decided; each
channel only formats it. User templates run in Jinja2's sandbox; a broken one falls back to
the default text and is counted, never dropping the notification.
"""

import copy
import logging
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from gatewatch.config.channels import Templates

log = logging.getLogger(__name__)
# Immutable: a template cannot change what it is shown (`{{ labels.clear() }}` is refused).
_sandbox = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


class Kind(StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    REMINDER = "reminder"
    HANDOFF = "handoff"  # who is on call now: no incident behind it


@dataclass(frozen=True)
class Recipient:
    id: str
    name: str
    email: str | None
    slack_user_id: str | None
    webhook_url: str | None


@dataclass(frozen=True)
class Message:
    kind: Kind
    incident_id: int
    title: str
    text: str
    severity: str
    status: str
    service: str | None
    incident_url: str
    runbook_url: str | None
    labels: dict[str, str]
    triggered_at: str
    recipient: Recipient | None = None
    actor: str | None = None
    step: int | None = None
    # The outbox row's id, set when it is sent: the same on every retry of one notification,
    # different for the next, so a receiver can drop repeats and keep new notifications.
    delivery_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        # Shallow on purpose: asdict's deep copy was a hot spot when paging thousands.
        data = dict(vars(self))
        data["recipient"] = vars(self.recipient).copy() if self.recipient else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Message":
        recipient = data.get("recipient")
        return cls(
            **{
                **data,
                "kind": Kind(data["kind"]),
                "recipient": Recipient(**recipient) if recipient else None,
            }
        )


def apply_templates(message: Message, templates: Templates) -> tuple[Message, str | None]:
    """The message with the channel's templates applied, and the template error if any."""
    if templates.title is None and templates.text is None:
        return message, None
    rendered: dict[str, str] = {}
    for field in ("title", "text"):
        source = getattr(templates, field)
        if source is None:
            continue
        # A copy per render: whatever a template does, the message's own dicts stay as they are.
        context = copy.deepcopy(message.to_json())
        try:
            rendered[field] = _sandbox.from_string(source).render(context)
        except Exception as exc:  # any failure of a user's template: the default text is sent
            log.warning("template for %s failed, default text used: %s", field, exc)
            return message, f"{field}: {type(exc).__name__}: {exc}"
    title = rendered.get("title", message.title)
    return replace(message, title=title, text=rendered.get("text", message.text)), None
