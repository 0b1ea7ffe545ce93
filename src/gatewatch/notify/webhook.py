"""Generic webhook: the message as JSON, signed with HMAC-SHA256 over timestamp and body."""

import hashlib
import hmac
import time

import orjson

from gatewatch.config.channels import WebhookChannel
from gatewatch.notify.delivery import DeliveryResult
from gatewatch.notify.http import HttpSender
from gatewatch.notify.message import Message

SIGNATURE_HEADER = "X-Gatewatch-Signature"
TIMESTAMP_HEADER = "X-Gatewatch-Timestamp"
# The outbox row's id: the same on a retry, new for the next notification (also in the body).
DELIVERY_HEADER = "X-Gatewatch-Delivery"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=` + hex HMAC-SHA256 of `timestamp.body`; the timestamp lets receivers refuse replays."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


class WebhookNotifier:
    def __init__(self, config: WebhookChannel, http: HttpSender) -> None:
        self.id = config.id
        self._config = config
        self._http = http

    async def send(self, message: Message) -> DeliveryResult:
        body = orjson.dumps(message.to_json(), option=orjson.OPT_SORT_KEYS)
        headers = {"Content-Type": "application/json"}
        if message.delivery_id is not None:
            headers[DELIVERY_HEADER] = message.delivery_id
        if self._config.secret:
            timestamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = sign(self._config.secret, timestamp, body)
        url = (
            message.recipient.webhook_url
            if message.recipient and message.recipient.webhook_url
            else self._config.url
        )
        return await self._http.post(url, body, headers)
