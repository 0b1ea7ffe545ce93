"""The reference gateway as a real process on loopback, and a small WebSocket client."""

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from imgateway.auth import make_token
from tests.support.processes import LoopbackProcess

SECRET = "test-gateway-secret-0123456789abcdef"


class GatewayProcess(LoopbackProcess):
    """`imgateway serve`, ready once it answers /stats (/health may be red on purpose)."""

    log_name = "imgateway.log"
    ready_path = "/stats"

    def __init__(self, workdir: Path, *options: str, store: str | None = None) -> None:
        super().__init__(workdir)
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self._options = options
        self._store = store or f"sqlite:///{workdir}/offline.db"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "imgateway",
            "serve",
            "--listen",
            f"127.0.0.1:{self.port}",
            "--jwt-secret",
            SECRET,
            "--store",
            self._store,
            *self._options,
        ]

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = httpx.get(f"{self.url}/stats").json()
        return result

    def metric(self, name: str, labels: str = "") -> float:
        for line in httpx.get(f"{self.url}/metrics").text.splitlines():
            if line.startswith(f"{name}{labels} ") or (not labels and line.startswith(name + " ")):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", **kwargs)


class Client:
    """A user's connection: collects what arrives, ACKs only when told to."""

    def __init__(self, socket: ClientConnection, user: str) -> None:
        self.socket = socket
        self.user = user
        self.messages: list[dict[str, Any]] = []
        self.frames: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, gateway: GatewayProcess, user: str) -> "Client":
        token = make_token(user, SECRET, 600, time.time())
        socket = await connect(
            gateway.ws_url, additional_headers={"Authorization": f"Bearer {token}"}
        )
        return cls(socket, user)

    async def send(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Send a frame and return the next answer that is not a pushed message."""
        await self.socket.send(json.dumps(frame))
        while True:
            answer = await self.next()
            if answer["type"] != "message":
                return answer

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
        self.frames.append(frame)
        if frame["type"] == "message":
            self.messages.append(frame)
        return frame

    async def receive(
        self, count: int, ack: bool = True, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            await self.next(max(0.05, deadline - time.monotonic()))
        if ack:
            for message in self.messages[:count]:
                await self.socket.send(json.dumps({"type": "ack", "id": message["id"]}))
        return self.messages[:count]

    async def close(self) -> None:
        await self.socket.close()
