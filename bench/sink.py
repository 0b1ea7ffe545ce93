"""The receiving end of the notification benchmarks: a webhook sink in a process of its own
(so it does not share a core's GIL with the benchmark's clients), stamping each arrival.

POST /hook takes Alertmanager's webhook and gatewatch's; GET /arrivals returns what came, as
[sender, alert id, step, triggered_at, delivery id, arrival time]; POST /capacity answers at
once and records nothing, to measure the sink's own rate. Run by the benchmarks as
`python -m bench.sink PORT`.
"""

import sys
import time
from typing import Any

import orjson
from aiohttp import web

Arrival = tuple[str, str, int | None, str | None, str | None, float]


def arrivals_of(body: dict[str, Any], headers: Any, arrived: float) -> list[Arrival]:
    if "alerts" in body:  # Alertmanager's webhook: a group of alerts
        return [("am", a["labels"]["id"], None, None, None, arrived) for a in body["alerts"]]
    return [
        (
            "gw",
            body["labels"]["id"],
            body.get("step"),
            body.get("triggered_at"),
            headers.get("X-Gatewatch-Delivery"),
            arrived,
        )
    ]


def build_app() -> web.Application:
    arrivals: list[Arrival] = []

    async def hook(request: web.Request) -> web.Response:
        arrived = time.time()
        body = orjson.loads(await request.read())
        arrivals.extend(arrivals_of(body, request.headers, arrived))
        return web.Response(text="ok")

    async def capacity(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    async def listing(_: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(arrivals), content_type="application/json")

    async def ready(_: web.Request) -> web.Response:
        return web.Response(text="ready")

    app = web.Application()
    app.add_routes(
        [
            web.post("/hook", hook),
            web.post("/capacity", capacity),
            web.get("/arrivals", listing),
            web.get("/", ready),
        ]
    )
    return app


if __name__ == "__main__":
    web.run_app(build_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None)
