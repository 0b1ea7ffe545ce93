"""Slack's request signing: HMAC-SHA256 of `v0:timestamp:body`, within a 5-minute window."""

import hashlib
import hmac

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
        hmac.compare_digest(slack_signature(secret, timestamp, body), signature)
        for secret in secrets
    ):
        raise InvalidSlackSignature("signature does not match")
