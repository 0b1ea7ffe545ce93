"""The one small interface every channel implements; retries live in the dispatcher."""

from typing import Protocol

from gatewatch.notify.delivery import DeliveryResult
from gatewatch.notify.message import Message


class Channel(Protocol):
    id: str

    async def send(self, message: Message) -> DeliveryResult:
        """Deliver once; say whether a failure is worth retrying."""
        ...
