"""Slack's request signing: HMAC-SHA256 of `v0:timestamp:body`, within a 5-minute window."""

import hashlib
import hmac
import json
from urllib.parse import urlencode

REPLAY_WINDOW_SECONDS = 300


class InvalidSlackSignature(Exception):
    """The request was not signed by Slack with a configured secret, or is stale."""


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify_slack_request(
    secrets: list[str], timestamp: str | None, signature: str | None, body: bytes, now: float
) -> None:
    """Raise InvalidSlackSignature unless one secret signed this body within the window."""
    if not timestamp or not signature:
        raise InvalidSlackSignature("missing X-Slack-Request-Timestamp or X-Slack-Signature")
    try:
        sent = int(timestamp)
    except ValueError:
        raise InvalidSlackSignature("X-Slack-Request-Timestamp is not a number") from None
    if abs(now - sent) > REPLAY_WINDOW_SECONDS:
        raise InvalidSlackSignature("request timestamp is outside the 5-minute window")
    if not any(
        hmac.compare_digest(slack_signature(secret, timestamp, body).encode(), signature.encode())
        for secret in secrets
    ):
        raise InvalidSlackSignature("signature does not match")


def signed_button_press(
    secret: str, user_id: str, username: str, action_id: str, value: str, timestamp: int
) -> tuple[bytes, dict[str, str]]:
    """The form body and headers Slack posts when someone presses a message button; the
    drills press Acknowledge this way, as the person on call would."""
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": username},
        "actions": [{"action_id": action_id, "value": value}],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    stamp = str(timestamp)
    return body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": slack_signature(secret, stamp, body),
    }
