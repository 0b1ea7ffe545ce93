"""Local stand-ins for Slack and PagerDuty that enforce the vendors' documented contracts,
plus a webhook sink and a real SMTP server (aiosmtpd). Each records what it accepted."""

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import Message as EmailMessage
from email.policy import default
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.support.ports import free_port, wait_for_port

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
            failure = self.plan.statuses.pop(0) if self.plan.statuses else None
        if self.plan.delay:
            import asyncio

            await asyncio.sleep(self.plan.delay)
        if failure is not None:
            headers = {"Retry-After": self.plan.retry_after} if failure == 429 else {}
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


def slack_standin(port: int | None = None) -> HttpStandIn:
    async def handle(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            return PlainTextResponse("invalid_payload", status_code=400)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return PlainTextResponse("invalid_payload", status_code=400)
        errors = slack_contract_errors(body)
        if errors:
            standin.rejected.append((body, errors))
            return PlainTextResponse("invalid_blocks", status_code=400)
        standin.record(body, dict(request.headers))
        return PlainTextResponse("ok")

    standin = HttpStandIn(handle, "/services/T000/B000/XXXX", port)
    return standin


def pagerduty_standin(port: int | None = None) -> HttpStandIn:
    async def handle(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse(
                {"status": "invalid event", "message": "Event object is invalid"}, status_code=400
            )
        errors = pagerduty_contract_errors(body)
        if errors:
            standin.rejected.append((body, errors))
            return JSONResponse(
                {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
                status_code=400,
            )
        standin.record(body, dict(request.headers))
        return JSONResponse(
            {"status": "success", "message": "Event processed", "dedup_key": body.get("dedup_key")},
            status_code=202,
        )

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
