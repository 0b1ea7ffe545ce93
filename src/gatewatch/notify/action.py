"""Automated actions with an audit trail: the request goes through the outbox like any
notification (retried, dead-lettered, visible), and the timeline says it was asked for."""

from gatewatch.config.channels import ActionChannel
from gatewatch.notify.delivery import DELIVERED, DeliveryResult
from gatewatch.notify.http import HttpSender
from gatewatch.notify.message import Kind, Message


class ActionNotifier:
    def __init__(self, config: ActionChannel, http: HttpSender) -> None:
        self.id = config.id
        self._config = config
        self._http = http

    async def send(self, message: Message) -> DeliveryResult:
        if message.kind is Kind.TRIGGER:
            body = self._config.trigger
        elif message.kind is Kind.RESOLVE:
            body = self._config.resolve
        else:
            return DELIVERED  # acknowledgements and reminders change nothing here
        return await self._http.post_json(self._config.url, body)
