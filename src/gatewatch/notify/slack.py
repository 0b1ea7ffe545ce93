"""Slack incoming webhooks with Block Kit: colour and icon by severity, Ack/Resolve buttons."""

from typing import Any

from gatewatch.config.channels import SlackChannel
from gatewatch.notify.delivery import DeliveryResult
from gatewatch.notify.http import HttpSender
from gatewatch.notify.message import Kind, Message

ACK_ACTION = "gatewatch_ack"
RESOLVE_ACTION = "gatewatch_resolve"
ESCALATE_ACTION = "gatewatch_escalate"
# Block Kit limits (Slack's reference for blocks and composition objects).
HEADER_MAX, SECTION_MAX, FIELD_MAX, FIELDS_MAX, BUTTON_TEXT_MAX = 150, 3000, 2000, 10, 75
COLOURS = {
    "critical": "#d40e0d",
    "P1": "#e8590c",
    "P2": "#f2c744",
    "warning": "#f2c744",
    "info": "#439fe0",
}
ICONS = {"critical": "🚨", "P1": "🔥", "P2": "⚠️", "warning": "⚠️", "info": "💬"}


URL_MAX = 3000  # a button's url
CLIPPED = "… [clipped]"


def _clip(text: str, limit: int) -> str:
    """Within Slack's limit, saying so when something was cut."""
    return text if len(text) <= limit else text[: limit - len(CLIPPED)] + CLIPPED


def escape(text: str) -> str:
    """Alert text as literal mrkdwn: `<!channel>` must not ping, `<url|text>` must not
    disguise a link (Slack's escaping: &, < and >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _button(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": _clip(text, BUTTON_TEXT_MAX)},
        **extra,
    }


def slack_payload(message: Message) -> dict[str, Any]:
    """The webhook body for a message; pure, so tests can check it against the limits."""
    title = escape(message.title)
    if message.kind is Kind.HANDOFF:
        line = f"🔁 {title}"
        return {
            "text": line,
            "blocks": [
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": _clip(f"{line}\n{escape(message.text)}", SECTION_MAX),
                    },
                }
            ],
        }
    if message.kind is Kind.RESOLVE:
        line = f"✅ Resolved: #{message.incident_id} {title}"
        if message.actor:
            line += f" (by {escape(message.actor)})"
        return {
            "text": line,
            "attachments": [
                {
                    "color": "#2eb886",
                    "blocks": [
                        {
                            "type": "section",
                            "text": {"type": "mrkdwn", "text": _clip(line, SECTION_MAX)},
                        }
                    ],
                }
            ],
        }
    if message.kind is Kind.ACKNOWLEDGE:
        line = f"👀 Acknowledged by {escape(message.actor or '')}: #{message.incident_id} {title}"
        return {
            "text": line,
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": _clip(line, SECTION_MAX)}}
            ],
        }

    icon = ICONS.get(message.severity, "🔔")
    prefix = "⏰ Reminder: " if message.kind is Kind.REMINDER else ""
    header = f"{icon} {prefix}[{message.severity.upper()}] {message.title}"  # plain_text
    text = escape(message.text)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(header, HEADER_MAX)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, SECTION_MAX)}},
    ]
    fields = [
        {"type": "mrkdwn", "text": _clip(f"*{escape(name)}*\n{escape(value)}", FIELD_MAX)}
        for name, value in sorted(message.labels.items())
    ][:FIELDS_MAX]
    if fields:
        blocks.append({"type": "section", "fields": fields})
    context = [f"Incident #{message.incident_id}", f"status *{message.status}*"]
    if message.recipient is not None:
        who = message.recipient
        mention = f"<@{who.slack_user_id}>" if who.slack_user_id else escape(who.name)
        context.insert(0, f"Paging {mention}")
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]}
    )
    value = str(message.incident_id)
    actions = [
        _button("Acknowledge", action_id=ACK_ACTION, value=value, style="primary"),
        _button("Resolve", action_id=RESOLVE_ACTION, value=value, style="danger"),
        _button("Escalate now", action_id=ESCALATE_ACTION, value=value),
        _button("Open incident", action_id="gatewatch_open", url=message.incident_url),
    ]
    if message.runbook_url and len(message.runbook_url) <= URL_MAX:
        actions.append(_button("Runbook", action_id="gatewatch_runbook", url=message.runbook_url))
    elif message.runbook_url:
        context.append("runbook link too long for Slack: open the incident")
        blocks[-1]["elements"][0]["text"] = " · ".join(context)
    blocks.append({"type": "actions", "elements": actions})
    return {
        "text": escape(header),
        "attachments": [{"color": COLOURS.get(message.severity, "#999999"), "blocks": blocks}],
    }


class SlackNotifier:
    def __init__(self, config: SlackChannel, http: HttpSender) -> None:
        self.id = config.id
        self._config = config
        self._http = http

    async def send(self, message: Message) -> DeliveryResult:
        return await self._http.post_json(self._config.webhook_url, slack_payload(message))
