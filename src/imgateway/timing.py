"""Request durations of the gateway's HTTP API, by route (the dashboards' API latencies)."""

import time

from prometheus_client import Histogram
from starlette.types import ASGIApp, Receive, Scope, Send

OTHER = "other"


class RequestTiming:
    """ASGI middleware: one observation per HTTP request; paths outside `routes` count as
    "other", so scanners cannot grow the label set."""

    def __init__(self, app: ASGIApp, histogram: Histogram, routes: frozenset[str]) -> None:
        self.app, self.histogram, self.routes = app, histogram, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in self.routes else OTHER
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            elapsed = time.perf_counter() - started
            self.histogram.labels(route, scope["method"]).observe(elapsed)
