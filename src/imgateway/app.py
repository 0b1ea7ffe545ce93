"""HTTP and WebSocket endpoints of the gateway."""

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from imgateway.auth import AuthError, user_from_token
from imgateway.breaker import CircuitBreaker
from imgateway.dedup import Deduplicator, MemoryDeduplicator, RedisDeduplicator
from imgateway.hub import FrameError, Hub
from imgateway.metrics import GatewayMetrics
from imgateway.offline import OfflineStore
from imgateway.timing import RequestTiming

CLOSE_AUTH_FAILED = 4401
CLOSE_TRY_AGAIN = 1013
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")


@dataclass(frozen=True)
class GatewaySettings:
    jwt_secret: str
    store_url: str
    redis_url: str | None = None
    test_endpoints: bool = False
    ack_timeout: float = 5.0
    breaker_threshold: float = 0.05
    drain_deadline: float = 10.0


class WebSocketPeer:
    def __init__(self, websocket: WebSocket, user: str) -> None:
        self.websocket = websocket
        self.user = user

    async def send(self, frame: dict[str, Any]) -> None:
        await self.websocket.send_text(json.dumps(frame))


def _token(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return websocket.query_params.get("token")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_gateway(settings: GatewaySettings) -> Starlette:
    metrics = GatewayMetrics()
    offline = OfflineStore(settings.store_url)
    dedup: Deduplicator = (
        RedisDeduplicator(settings.redis_url) if settings.redis_url else MemoryDeduplicator()
    )
    breaker = CircuitBreaker(threshold=settings.breaker_threshold)
    hub = Hub(metrics, dedup, offline, breaker, ack_timeout=settings.ack_timeout)

    async def websocket_endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        if hub.draining:
            hub.connection_error("draining")
            await websocket.close(code=CLOSE_TRY_AGAIN, reason="draining")
            return
        try:
            user = user_from_token(_token(websocket), settings.jwt_secret)
        except AuthError as exc:
            hub.connection_error(exc.reason)
            await websocket.close(code=CLOSE_AUTH_FAILED, reason=exc.reason)
            return
        peer = WebSocketPeer(websocket, user)
        await hub.connected(peer)
        try:
            while True:
                text = await websocket.receive_text()
                try:
                    answer = await hub.handle(peer, json.loads(text))
                except json.JSONDecodeError:
                    answer = {"type": "error", "code": "bad_json", "message": "not JSON"}
                except FrameError as exc:
                    answer = {"type": "error", "code": exc.code, "message": str(exc)}
                if answer is not None:
                    await peer.send(answer)
        except WebSocketDisconnect:
            pass
        finally:
            hub.disconnected(peer)

    async def health(_: Request) -> Response:
        try:
            await asyncio.to_thread(offline.ping)
        except Exception as exc:
            return JSONResponse(
                {"status": "unavailable", "failing": "offline_store", "error": str(exc)[:200]},
                status_code=503,
            )
        if isinstance(dedup, RedisDeduplicator):
            try:
                await dedup.ping()
            except Exception as exc:
                return JSONResponse(
                    {"status": "unavailable", "failing": "redis", "error": str(exc)[:200]},
                    status_code=503,
                )
        return JSONResponse({"status": "ok"})

    async def stats(_: Request) -> Response:
        counters = hub.counters
        return JSONResponse(
            {
                "active_connections": hub.active,
                "messages_received": counters.received,
                "delivered": counters.delivered,
                "stored_offline": counters.offline,
                "lost": counters.lost,
                "ack_timeouts": counters.ack_timeouts,
                "duplicates": counters.duplicates,
                "connection_errors": counters.connection_errors,
                "offline_queue_size": await offline.count(),
                "circuit_breaker": "open" if hub.breaker.open else "closed",
                "draining": hub.draining,
            }
        )

    async def prometheus_metrics(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def circuit_breaker(request: Request) -> Response:
        try:
            state = (await request.json())["state"]
        except (ValueError, KeyError, TypeError):
            return _error(400, 'body must be {"state": "open" | "closed"}')
        if state not in ("open", "closed"):
            return _error(400, 'state must be "open" or "closed"')
        hub.breaker.set(state == "open", by="admin")
        metrics.circuit_breaker_state.set(1 if hub.breaker.open else 0)
        return JSONResponse({"state": state})

    async def drain(_: Request) -> Response:
        hub.draining = True
        started = time.monotonic()
        for peer in hub.all_peers():
            assert isinstance(peer, WebSocketPeer)
            try:
                await peer.websocket.close(code=1001, reason="draining")
            except RuntimeError:
                continue
        deadline = started + settings.drain_deadline
        while hub.active and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        took = time.monotonic() - started
        metrics.shutdown_duration.observe(took)
        return JSONResponse(
            {"drained": hub.active == 0, "remaining": hub.active, "seconds": round(took, 3)}
        )

    async def test_latency(request: Request) -> Response:
        match = _DURATION.match(request.query_params.get("delay", ""))
        if not match:
            return _error(400, "delay must look like 600ms or 1.5s")
        value = float(match.group(1))
        hub.faults.latency = value / 1000 if match.group(2) == "ms" else value
        return JSONResponse({"latency_seconds": hub.faults.latency})

    async def test_failure_rate(request: Request) -> Response:
        try:
            rate = float(request.query_params.get("rate", ""))
        except ValueError:
            return _error(400, "rate must be a number between 0 and 1")
        if not 0 <= rate <= 1:
            return _error(400, "rate must be a number between 0 and 1")
        hub.faults.failure_rate = rate
        return JSONResponse({"failure_rate": rate})

    async def test_cache_miss(_: Request) -> Response:
        hub.faults.cold_cache = True
        return JSONResponse({"cold_cache": True})

    async def test_reset(_: Request) -> Response:
        hub.faults.latency = 0.0
        hub.faults.failure_rate = 0.0
        hub.faults.cold_cache = False
        return JSONResponse({"reset": True})

    routes = [
        WebSocketRoute("/ws", websocket_endpoint),
        Route("/health", health),
        Route("/stats", stats),
        Route("/metrics", prometheus_metrics),
        Route("/admin/circuit-breaker", circuit_breaker, methods=["POST"]),
        Route("/admin/drain", drain, methods=["POST"]),
    ]
    if settings.test_endpoints:
        routes += [
            Route("/test/latency", test_latency, methods=["POST"]),
            Route("/test/failure-rate", test_failure_rate, methods=["POST"]),
            Route("/test/cache-miss", test_cache_miss, methods=["POST"]),
            Route("/test/reset", test_reset, methods=["POST"]),
        ]

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        metrics.offline_queue_size.set(await offline.count())
        yield
        await hub.settle()
        await dedup.close()
        offline.close()

    paths = frozenset(route.path for route in routes if isinstance(route, Route))
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(RequestTiming, metrics.http_request_duration, paths)],
    )
    app.state.hub = hub
    return app
