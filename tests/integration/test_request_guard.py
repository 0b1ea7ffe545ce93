"""Bodies are judged before they are read: an API request without a valid token is refused
unread, and no body beyond `limits.max_body_bytes` reaches a handler, declared or streamed."""

import asyncio
import json
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import ApiFactory
from tests.support.auth import auth

NOTES = "/api/v1/incidents/1/notes"


def _call(app: Any, headers: list[tuple[bytes, bytes]], chunks: int) -> tuple[int, int]:
    """Drive the ASGI app by hand: answers the status and how many body chunks it read."""
    read = 0
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": b"x" * 1_000_000, "more_body": read < chunks}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": NOTES,
        "raw_path": NOTES.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    return statuses[0], read


def test_a_body_without_a_valid_token_is_refused_unread(api: TestClient) -> None:
    declared = [(b"content-length", str(50 * 1024 * 1024).encode())]
    assert _call(api.app, declared, chunks=50) == (401, 0)
    wrong = [(b"authorization", b"Bearer not-a-token-at-all-000"), *declared]
    assert _call(api.app, wrong, chunks=50) == (401, 0)


def test_no_body_beyond_the_limit_reaches_a_handler(make_api: ApiFactory) -> None:
    api = make_api(limits={"max_body_bytes": 4096})
    token = [(b"authorization", f"Bearer {dict(auth('responder'))['Authorization'][7:]}".encode())]
    declared = [*token, (b"content-length", b"5000000")]
    assert _call(api.app, declared, chunks=5) == (413, 0)
    streamed_status, streamed_read = _call(api.app, token, chunks=5)
    assert (streamed_status, streamed_read) == (413, 1)  # stopped at the first chunk past it
    big = json.dumps({"text": "n" * 5000})
    answer = api.post(
        NOTES, content=big, headers={**auth("responder"), "content-type": "application/json"}
    )
    assert answer.status_code == 413 and "4096 bytes" in answer.json()["error"]
    small = api.post(NOTES, json={"text": "fits"}, headers=auth("responder"))
    assert small.status_code == 404  # judged by the handler: no incident 1
