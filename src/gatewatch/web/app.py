"""The FastAPI application: routers, error bodies, health, readiness and metrics."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

import gatewatch
from gatewatch.errors import Conflict, NotFound, validation_messages
from gatewatch.escalation.scheduler import run_workers
from gatewatch.notify.dispatcher import HTTP_LIMITS, Dispatcher, build_channels
from gatewatch.service import IncidentEngine
from gatewatch.slo.monitor import SloMonitor
from gatewatch.store.database import DatabaseUnavailable, ping
from gatewatch.web import incidents_api, ingest, paging_api, reviews_api
from gatewatch.web.auth import Forbidden, TokenAuthenticator, Unauthorized
from gatewatch.web.schemas import ErrorBody, ErrorDetail
from gatewatch.web.ui.mount import install_console


def _error(
    status: int,
    message: str,
    details: list[ErrorDetail] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(error=message, details=details or [])
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI, engine: IncidentEngine) -> None:
    @app.exception_handler(ingest.InvalidPayload)
    async def invalid_payload(_: Request, exc: ingest.InvalidPayload) -> JSONResponse:
        return JSONResponse(exc.body.model_dump(), status_code=exc.status_code)

    @app.exception_handler(incidents_api.InvalidQuery)
    async def invalid_query(_: Request, exc: incidents_api.InvalidQuery) -> JSONResponse:
        return _error(422, "invalid request", [ErrorDetail(path=exc.path, message=str(exc))])

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            ErrorDetail(path=path, message=message)
            for path, message in validation_messages(exc.errors())
        ]
        return _error(422, "invalid request", details)

    @app.exception_handler(Unauthorized)
    async def unauthorized(_: Request, exc: Unauthorized) -> JSONResponse:
        return _error(401, str(exc), headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(Forbidden)
    async def forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return _error(403, str(exc))

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(Conflict)
    async def conflict(_: Request, exc: Conflict) -> JSONResponse:
        return _error(409, str(exc))

    @app.exception_handler(DatabaseUnavailable)
    async def unavailable(_: Request, exc: DatabaseUnavailable) -> JSONResponse:
        engine.metrics.http_errors.labels("database_unavailable").inc()
        # Alertmanager and Prometheus retry on 5xx, so nothing sent now is lost.
        return _error(503, f"database unavailable: {exc}", headers={"Retry-After": "5"})


def _openapi(app: FastAPI) -> dict[str, Any]:
    """OpenAPI, plus the bodies the ingest endpoints parse themselves (to bound their size)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for path, model in ingest.BODY_MODELS.items():
        body = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components[model.__name__] = body
        schema["paths"][path]["post"]["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
    app.openapi_schema = schema
    return schema


@asynccontextmanager
async def _background_workers(app: FastAPI) -> AsyncIterator[None]:
    """Timers and outbox delivery run beside the API, in the same process."""
    engine: IncidentEngine = app.state.engine
    loop = asyncio.get_running_loop()
    stop, wake = asyncio.Event(), asyncio.Event()

    def wake_outbox() -> None:
        loop.call_soon_threadsafe(wake.set)

    engine.outbox_written = wake_outbox
    timeout = engine.config.delivery.timeout.total_seconds()
    async with httpx.AsyncClient(timeout=timeout, limits=HTTP_LIMITS) as http:
        dispatcher = Dispatcher(
            engine.config,
            engine.engine,
            engine.clock,
            engine.metrics,
            build_channels(engine.config, http),
        )
        monitor = None
        if engine.config.slo.enabled:
            monitor = SloMonitor(engine, engine.slo_specs())
        task = asyncio.create_task(run_workers(engine, dispatcher, stop, wake, monitor))
        try:
            yield
        finally:
            stop.set()
            await task


def create_app(engine: IncidentEngine, workers: bool = False) -> FastAPI:
    """Build the app around an engine; with `workers`, timers and delivery run in it too."""
    app = FastAPI(
        title="gatewatch",
        version=gatewatch.__version__,
        lifespan=_background_workers if workers else None,
    )
    app.state.engine = engine
    app.state.authenticator = TokenAuthenticator(engine.config.auth.tokens)
    app.include_router(ingest.router)
    app.include_router(incidents_api.router)
    app.include_router(paging_api.router)
    app.include_router(reviews_api.router)
    install_console(app, engine.config)
    _install_error_handlers(app, engine)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is up (liveness)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"model": ErrorBody}})
    async def readyz() -> Response:
        """The store answers; a load balancer should send traffic only while this is 200."""
        try:
            await run_in_threadpool(ping, engine.engine)
        except DatabaseUnavailable as exc:
            return _error(503, f"database unavailable: {exc}")
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["health"], response_class=PlainTextResponse)
    async def metrics() -> Response:
        body = await run_in_threadpool(generate_latest, engine.metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return app
