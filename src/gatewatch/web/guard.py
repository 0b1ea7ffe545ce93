"""What every request passes before any handler reads its body: an API request that changes
something must carry a valid bearer token (a stranger's 50 MB body is refused unread), and
no body may be larger than `limits.max_body_bytes`, declared or streamed."""

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from gatewatch.web.auth import TokenAuthenticator, Unauthorized

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class RequestGuard:
    def __init__(
        self,
        app: App,
        authenticator: TokenAuthenticator,
        max_body_bytes: int,
        signed_paths: tuple[str, ...] = (),
        self_limited_paths: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.limit = max_body_bytes
        self.signed_paths = signed_paths  # authenticated by a signature in the handler
        self.self_limited_paths = self_limited_paths  # stream-check (and count) their size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if path.startswith("/api/") and path not in self.signed_paths:
            try:
                self.authenticator.authenticate(headers.get("authorization"))
            except Unauthorized as exc:
                await _answer(send, 401, str(exc), {"WWW-Authenticate": "Bearer"})
                return
        if path in self.self_limited_paths:
            await self.app(scope, receive, send)
            return
        declared = headers.get("content-length", "")
        if declared.isdigit():
            if int(declared) > self.limit:
                await _answer(send, 413, f"body larger than {self.limit} bytes")
                return
            await self.app(scope, receive, send)
            return
        # No declared length (chunked): read up to the limit first, then hand it on.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _answer(send, 413, f"body larger than {self.limit} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _answer(
    send: Send, status: int, error: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps({"error": error, "details": []}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
