"""The faults a drill can inject into the running stack, each with its own undo."""

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import jwt
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from gatewatch.drills.scenario import Fault, Traffic
from gatewatch.errors import GatewatchError

Undo = Callable[[], Awaitable[None]]
BACKLOG_WRITE_LIMIT = 300.0


@dataclass(frozen=True)
class GatewayAccess:
    url: str  # http://host:port
    jwt_secret: str

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/ws"

    def client_token(self, user: str) -> str:
        """A client token as the gateway expects it (HS256 JWT with `sub` and `exp`); minted
        here from the secret the stack gave the gateway, as any client of it would."""
        return jwt.encode({"sub": user, "exp": int(time.time()) + 3600}, self.jwt_secret, "HS256")

    async def connect(self, user: str, token: str | None = None) -> ClientConnection:
        token = token or self.client_token(user)
        return await connect(f"{self.ws_url}?token={token}", open_timeout=10, max_queue=None)


async def _send(socket: ClientConnection, to: str, client_id: str) -> None:
    frame = {"type": "send", "id": client_id, "to": to, "body": "drill"}
    await socket.send(json.dumps(frame))


async def _answer(socket: ClientConnection, ack: bool, until: int | None = None) -> int:
    """Read frames; ACK messages when asked. Returns how many messages arrived."""
    received = 0
    with contextlib.suppress(ConnectionClosed):
        async for raw in socket:
            frame = json.loads(raw)
            if frame.get("type") != "message":
                continue
            received += 1
            if ack:
                await socket.send(json.dumps({"type": "ack", "id": frame["id"]}))
            if until is not None and received >= until:
                break
    return received


async def _misbehave(gateway: GatewayAccess, traffic: Traffic, tag: str) -> None:
    """Runs until cancelled."""
    interval = 1.0 / traffic.rate
    if traffic.bad_token:
        while True:
            with contextlib.suppress(InvalidStatus, ConnectionClosed, OSError):
                socket = await gateway.connect(f"{tag}-intruder", token="not.a.valid-token")
                # Refusals come as a close frame after the upgrade; wait for it.
                with contextlib.suppress(ConnectionClosed):
                    await socket.recv()
            await asyncio.sleep(interval)
    sender = await gateway.connect(f"{tag}-sender")
    recipient = await gateway.connect(f"{tag}-recipient")
    readers = [
        asyncio.create_task(_answer(sender, ack=True)),
        asyncio.create_task(_answer(recipient, ack=traffic.ack)),
    ]
    try:
        while True:
            client_id = uuid.uuid4().hex[:16]
            await _send(sender, f"{tag}-recipient", client_id)
            if traffic.duplicate:
                await _send(sender, f"{tag}-recipient", client_id)
            await asyncio.sleep(interval)
    finally:
        for reader in readers:
            reader.cancel()
        await sender.close()
        await recipient.close()


async def _queued(client: httpx.AsyncClient, gateway: GatewayAccess) -> int:
    response = await client.get(f"{gateway.url}/stats")
    response.raise_for_status()
    return int(response.json()["offline_queue_size"])


async def _fill_backlog(
    client: httpx.AsyncClient, gateway: GatewayAccess, count: int, tag: str
) -> None:
    """`count` messages to a user who is not connected; returns once the gateway's offline
    store holds them all (each is its own durable write, so that takes a while)."""
    target = await _queued(client, gateway) + count
    sender = await gateway.connect(f"{tag}-sender")
    answered = 0
    try:
        for first in range(0, count, 500):
            for n in range(first, min(first + 500, count)):
                await _send(sender, f"{tag}-offline", f"backlog-{n}")
            while answered < min(first + 500, count):
                frame = json.loads(await sender.recv())
                answered += frame.get("type") == "sent"
    finally:
        await sender.close()
    await _queue_reaches(client, gateway, lambda queued: queued >= target, "store")


async def _queue_reaches(
    client: httpx.AsyncClient, gateway: GatewayAccess, done: Callable[[int], bool], what: str
) -> None:
    """Each offline write and removal is its own durable transaction: wait them out."""
    deadline = time.monotonic() + BACKLOG_WRITE_LIMIT
    while not done(queued := await _queued(client, gateway)):
        if time.monotonic() > deadline:
            raise GatewatchError(
                f"the gateway's offline queue is still at {queued} after "
                f"{BACKLOG_WRITE_LIMIT:.0f}s ({what})",
                hint="see the gateway's log; its offline store may be failing",
            )
        await asyncio.sleep(0.5)


async def _drain_backlog(
    client: httpx.AsyncClient, gateway: GatewayAccess, count: int, tag: str
) -> None:
    """The offline user comes back and ACKs everything that waited for them."""
    target = await _queued(client, gateway) - count
    recipient = await gateway.connect(f"{tag}-offline")
    try:
        await _answer(recipient, ack=True, until=count)
    finally:
        await recipient.close()
    await _queue_reaches(client, gateway, lambda queued: queued <= target, "drain")


async def _hold_connections(gateway: GatewayAccess, count: int, tag: str) -> list[ClientConnection]:
    """`count` clients that connect and stay, saying nothing (as after a reconnect wave)."""
    sockets: list[ClientConnection] = []
    try:
        for first in range(0, count, 50):  # in waves, as clients come back
            sockets += await asyncio.gather(
                *(gateway.connect(f"{tag}-idle-{n}") for n in range(first, min(first + 50, count)))
            )
    except BaseException:
        await _close_all(sockets)
        raise
    return sockets


async def _close_all(sockets: list[ClientConnection]) -> None:
    await asyncio.gather(*(socket.close() for socket in sockets))


async def _gateway_request(client: httpx.AsyncClient, gateway: GatewayAccess, text: str) -> None:
    method, path = text.split(" ", 1)
    response = await client.request(method, gateway.url + path)
    if not response.is_success:
        raise GatewatchError(
            f"{text} answered {response.status_code}: {response.text[:200]}",
            hint="the stack's gateway must run with --enable-test-endpoints",
        )


async def inject(
    fault: Fault,
    gateway: GatewayAccess,
    client: httpx.AsyncClient,
    stop: Callable[[str], Awaitable[None]],
    start: Callable[[str], Awaitable[None]],
) -> Undo:
    """Inject one fault; return what undoes it."""
    tag = f"drill-{uuid.uuid4().hex[:6]}"
    if fault.request is not None:
        await _gateway_request(client, gateway, fault.request)

        async def reset() -> None:
            await _gateway_request(client, gateway, "POST /test/reset")

        return reset
    if fault.traffic is not None:
        task = asyncio.create_task(_misbehave(gateway, fault.traffic, tag))

        async def cancel() -> None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        return cancel
    if fault.backlog is not None:
        count = fault.backlog
        await _fill_backlog(client, gateway, count, tag)

        async def drain() -> None:
            await _drain_backlog(client, gateway, count, tag)

        return drain
    if fault.connections is not None:
        sockets = await _hold_connections(gateway, fault.connections, tag)

        async def disconnect() -> None:
            await _close_all(sockets)

        return disconnect
    assert fault.stop is not None
    name = fault.stop
    await stop(name)

    async def restart() -> None:
        await start(name)

    return restart
