"""What Slack's incoming webhooks and PagerDuty's Events API v2 would refuse, from their
documented limits; the stand-ins answer 400 exactly where the vendor would."""

from datetime import datetime
from typing import Any

BLOCK_TYPES = {"section", "header", "context", "actions", "divider", "image"}


def slack_contract_errors(body: Any) -> list[str]:
    """What Slack's incoming webhook would refuse (Block Kit reference limits)."""
    if not isinstance(body, dict):
        return ["invalid_payload: not a JSON object"]
    errors: list[str] = []
    if not (body.get("text") or body.get("blocks") or body.get("attachments")):
        errors.append("no_text: text, blocks or attachments required")
    if len(body.get("text", "")) > 40000:
        errors.append("text longer than 40000")
    block_lists = [body.get("blocks", [])] + [
        a.get("blocks", []) for a in body.get("attachments", [])
    ]
    action_ids: set[str] = set()
    for blocks in block_lists:
        if len(blocks) > 50:
            errors.append("more than 50 blocks")
        for block in blocks:
            kind = block.get("type")
            if kind not in BLOCK_TYPES:
                errors.append(f"unknown block type {kind!r}")
            if kind == "header":
                text = block.get("text", {})
                if text.get("type") != "plain_text" or not 0 < len(text.get("text", "")) <= 150:
                    errors.append("header needs plain_text of 1-150 characters")
            if kind == "section":
                text, fields = block.get("text"), block.get("fields")
                if text is None and not fields:
                    errors.append("section needs text or fields")
                if text is not None and not 0 < len(text.get("text", "")) <= 3000:
                    errors.append("section text must be 1-3000 characters")
                if fields and (len(fields) > 10 or any(len(f["text"]) > 2000 for f in fields)):
                    errors.append("section fields: at most 10, each at most 2000 characters")
            if kind == "actions":
                elements = block.get("elements", [])
                if not 0 < len(elements) <= 25:
                    errors.append("actions need 1-25 elements")
                for element in elements:
                    text = element.get("text", {})
                    if text.get("type") != "plain_text" or len(text.get("text", "")) > 75:
                        errors.append("button text must be plain_text of at most 75 characters")
                    action_id = element.get("action_id", "")
                    if len(action_id) > 255 or action_id in action_ids:
                        errors.append(f"action_id {action_id!r} too long or repeated")
                    action_ids.add(action_id)
                    if len(element.get("value", "")) > 2000 or len(element.get("url", "")) > 3000:
                        errors.append("button value or url too long")
                    if element.get("style") not in (None, "primary", "danger"):
                        errors.append("button style must be primary or danger")
    return errors


def pagerduty_contract_errors(body: Any) -> list[str]:
    """What the Events API v2 would refuse with 400."""
    if not isinstance(body, dict):
        return ["Event object is invalid"]
    errors = []
    if not isinstance(body.get("routing_key"), str) or len(body["routing_key"]) != 32:
        errors.append("routing_key must be the 32-character integration key")
    action = body.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        errors.append("event_action must be trigger, acknowledge or resolve")
    dedup = body.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
        errors.append("dedup_key must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not dedup:
        errors.append("dedup_key is required for acknowledge and resolve")
    if action == "trigger":
        payload = body.get("payload")
        if not isinstance(payload, dict):
            return [*errors, "payload is required for trigger"]
        summary = payload.get("summary")
        if not isinstance(summary, str) or not 0 < len(summary) <= 1024:
            errors.append("payload.summary must be 1-1024 characters")
        if not payload.get("source"):
            errors.append("payload.source is required")
        if payload.get("severity") not in ("critical", "error", "warning", "info"):
            errors.append("payload.severity must be critical, error, warning or info")
        if "timestamp" in payload:
            try:
                datetime.fromisoformat(payload["timestamp"])
            except (TypeError, ValueError):
                errors.append("payload.timestamp must be ISO 8601")
        if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
            errors.append("payload.custom_details must be an object")
        for link in body.get("links", []):
            if not link.get("href"):
                errors.append("links[].href is required")
    return errors
