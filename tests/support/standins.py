"""Local stand-ins for Slack and PagerDuty that enforce the vendors' documented contracts,
plus a webhook sink and a real SMTP server (aiosmtpd). Each records what it accepted."""

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message as EmailMessage
from email.policy import default
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from gatewatch.standins.server import Accept, Refuse, pagerduty_enqueue, slack_webhook
from tests.support.ports import free_port, wait_for_port


@dataclass
class FailurePlan:
    """Answers to give before behaving: e.g. [500, 500, 429] then normal."""

    statuses: list[int] = field(default_factory=list)
    retry_after: str = "1"
    delay: float = 0.0


class HttpStandIn:
    """A Starlette app on a free loopback port, run by uvicorn in a thread."""

    def __init__(
        self, handler: Callable[[Request], Any], path: str, port: int | None = None
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}{path}"
        self.received: list[dict[str, Any]] = []
        self.rejected: list[tuple[dict[str, Any], list[str]]] = []
        self.failed: list[dict[str, Any]] = []  # requests answered with an injected failure
        self.opened = 0  # requests that reached the endpoint, answered or not
        self.plan = FailurePlan()
        self._lock = threading.Lock()
        self._handler = handler
        app = Starlette(routes=[Route(path, self._endpoint, methods=["POST"])])
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error", lifespan="off")
        )
        self._thread: threading.Thread | None = None

    async def _endpoint(self, request: Request) -> Response:
        with self._lock:
            self.opened += 1
            failure = self.plan.statuses.pop(0) if self.plan.statuses else None
        if self.plan.delay:
            await asyncio.sleep(self.plan.delay)
        if failure is not None:
            with self._lock:
                self.failed.append({"body": await request.body(), "at": time.time()})
            headers = {"Retry-After": self.plan.retry_after} if failure in (429, 503) else {}
            return PlainTextResponse("failure injected", status_code=failure, headers=headers)
        response: Response = await self._handler(request)
        return response

    def record(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        with self._lock:
            self.received.append({"body": body, "headers": headers, "at": time.time()})

    def start(self) -> "HttpStandIn":
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [entry["body"] for entry in self.received]


def _record_into(standin: HttpStandIn) -> Accept:
    return lambda body, request: standin.record(body, dict(request.headers))


def _refuse_into(standin: HttpStandIn) -> Refuse:
    return lambda body, errors: standin.rejected.append((body, errors))


def slack_standin(port: int | None = None) -> HttpStandIn:
    async def handle(request: Request) -> Response:
        return await slack_webhook(request, _record_into(standin), _refuse_into(standin))

    standin = HttpStandIn(handle, "/services/T000/B000/XXXX", port)
    return standin


def pagerduty_standin(port: int | None = None) -> HttpStandIn:
    async def handle(request: Request) -> Response:
        return await pagerduty_enqueue(request, _record_into(standin), _refuse_into(standin))

    standin = HttpStandIn(handle, "/v2/enqueue", port)
    return standin


def webhook_sink(secret: str, port: int | None = None) -> HttpStandIn:
    """Accepts only requests whose HMAC signature verifies."""

    async def handle(request: Request) -> Response:
        raw = await request.body()
        timestamp = request.headers.get("x-gatewatch-timestamp", "")
        expected = (
            "v1="
            + hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        )
        if not hmac.compare_digest(expected, request.headers.get("x-gatewatch-signature", "")):
            standin.rejected.append(({"raw": raw.decode()}, ["bad signature"]))
            return PlainTextResponse("bad signature", status_code=401)
        standin.record(json.loads(raw), dict(request.headers))
        return PlainTextResponse("ok")

    standin = HttpStandIn(handle, "/hook", port)
    return standin


class SmtpSink:
    """A real SMTP server (aiosmtpd) on loopback that keeps every message it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[list[str]] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sink.messages.append(message_from_bytes(envelope.content, policy=default))
                sink.envelopes.append(list(envelope.rcpt_tos))
                return "250 Message accepted for delivery"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> "SmtpSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
