"""One process that stands in for Slack's incoming webhook, PagerDuty's Events API v2 and a
mail server, so a demo or a drill can page without reaching the internet.

Requests are checked against the vendors' documented contracts (400 where they would refuse);
what is accepted is kept, shown at `/` and listed as JSON at `/received`, and appended to a
JSON Lines file when one is given.
"""

import html
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gatewatch.standins.contracts import pagerduty_contract_errors, slack_contract_errors

SLACK_PATH = "/slack/services/{rest:path}"
PAGERDUTY_PATH = "/pagerduty/v2/enqueue"
KEPT = 5000
_SLACK_INCIDENT = re.compile(r"#(\d+)\b")
_SLACK_MENTION = re.compile(r"<@([A-Z0-9]+)>")
_MAIL_INCIDENT = re.compile(r"<incident-(\d+)[@.]")


@dataclass
class Received:
    seq: int
    channel: str
    at: float
    summary: str
    incident: int | None
    event: str
    to: list[str] = field(default_factory=list)
    body: Any = None


class Inbox:
    """What the stand-ins accepted, newest last; thread-safe (SMTP runs in its own thread)."""

    def __init__(self, record: Path | None) -> None:
        self._items: deque[Received] = deque(maxlen=KEPT)
        self._lock = threading.Lock()
        self._seq = 0
        self._record = record

    def add(self, channel: str, summary: str, incident: int | None, event: str, **kw: Any) -> None:
        with self._lock:
            self._seq += 1
            item = Received(self._seq, channel, time.time(), summary, incident, event, **kw)
            self._items.append(item)
            if self._record is not None:
                with self._record.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(asdict(item), default=str) + "\n")

    def since(self, seq: int) -> list[Received]:
        with self._lock:
            return [item for item in self._items if item.seq > seq]


def _record_slack(inbox: Inbox, body: dict[str, Any]) -> None:
    summary = str(body.get("text", ""))[:300]
    text = json.dumps(body, ensure_ascii=False)
    incident = _SLACK_INCIDENT.search(text)
    event = "resolve" if "Resolved" in summary else "ack" if "Acknowledged" in summary else "post"
    inbox.add(
        "slack",
        summary,
        int(incident.group(1)) if incident else None,
        event,
        to=sorted(set(_SLACK_MENTION.findall(text))),
        body=body,
    )


def _record_pagerduty(inbox: Inbox, body: dict[str, Any]) -> None:
    dedup = str(body.get("dedup_key") or "")
    payload = body.get("payload") or {}
    inbox.add(
        "pagerduty",
        str(payload.get("summary", body["event_action"]))[:300],
        int(dedup) if dedup.isdigit() else None,
        str(body["event_action"]),
        body=body,
    )


Accept = Callable[[dict[str, Any], Request], None]
Refuse = Callable[[Any, list[str]], None]


def _ignore(body: Any, errors: list[str]) -> None:
    return None


async def slack_webhook(request: Request, accept: Accept, refuse: Refuse = _ignore) -> Response:
    """Answer as Slack's incoming webhook does: `ok`, or 400 with its error code."""
    if request.headers.get("content-type", "").split(";")[0] != "application/json":
        return PlainTextResponse("invalid_payload", status_code=400)
    try:
        body = json.loads(await request.body())
    except ValueError:
        return PlainTextResponse("invalid_payload", status_code=400)
    errors = slack_contract_errors(body)
    if errors:
        refuse(body, errors)
        return PlainTextResponse("invalid_blocks", status_code=400)
    accept(body, request)
    return PlainTextResponse("ok")


async def pagerduty_enqueue(request: Request, accept: Accept, refuse: Refuse = _ignore) -> Response:
    """Answer as the Events API v2 does: 202 with the dedup_key, or 400 `invalid event`."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None
    errors = pagerduty_contract_errors(body)
    if errors:
        refuse(body, errors)
        return JSONResponse(
            {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
            status_code=400,
        )
    accept(body, request)
    return JSONResponse(
        {"status": "success", "message": "Event processed", "dedup_key": body.get("dedup_key")},
        status_code=202,
    )


def create_app(inbox: Inbox) -> Starlette:
    async def slack(request: Request) -> Response:
        return await slack_webhook(request, lambda body, _: _record_slack(inbox, body))

    async def pagerduty(request: Request) -> Response:
        return await pagerduty_enqueue(request, lambda body, _: _record_pagerduty(inbox, body))

    async def received(request: Request) -> Response:
        try:
            since = int(request.query_params.get("since", "0"))
        except ValueError:
            return JSONResponse({"error": "since must be an integer"}, status_code=400)
        return JSONResponse([asdict(item) for item in inbox.since(since)])

    async def index(_: Request) -> Response:
        rows = "".join(
            f"<tr><td>{time.strftime('%H:%M:%S', time.localtime(item.at))}</td>"
            f"<td>{item.channel}</td><td>{item.event}</td>"
            f"<td>{item.incident if item.incident is not None else ''}</td>"
            f"<td>{html.escape(', '.join(item.to))}</td><td>{html.escape(item.summary)}</td></tr>"
            for item in reversed(inbox.since(0)[-200:])
        )
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=5>"
            "<title>gatewatch stand-ins</title><h1>Received by the Slack, PagerDuty and mail "
            "stand-ins</h1><table border=1 cellpadding=4><tr><th>at</th><th>channel</th>"
            f"<th>event</th><th>incident</th><th>to</th><th>summary</th></tr>{rows}</table>"
        )

    return Starlette(
        routes=[
            Route("/", index),
            Route("/received", received),
            Route(SLACK_PATH, slack, methods=["POST"]),
            Route(PAGERDUTY_PATH, pagerduty, methods=["POST"]),
        ]
    )


def _plain_text(mail: Any) -> str:
    part = mail.get_body(("plain",))
    return str(part.get_content()) if part is not None else ""


class _MailHandler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, policy=default)
        thread = " ".join(str(mail.get(h, "")) for h in ("Message-ID", "References"))
        incident = _MAIL_INCIDENT.search(thread)
        subject = str(mail.get("Subject", ""))
        self.inbox.add(
            "email",
            subject[:300],
            int(incident.group(1)) if incident else None,
            "resolve" if "Resolved by" in _plain_text(mail)[:300] else "mail",
            to=list(envelope.rcpt_tos),
            body={"subject": subject, "message_id": str(mail.get("Message-ID", ""))},
        )
        return "250 Message accepted for delivery"


def start_smtp(inbox: Inbox, host: str, port: int) -> Controller:
    controller = Controller(_MailHandler(inbox), hostname=host, port=port)
    controller.start()
    return controller
