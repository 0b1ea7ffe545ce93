"""The FastAPI application: routers, error bodies, health, readiness and metrics."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

import gatewatch
from gatewatch.errors import Conflict, NotFound, validation_messages
from gatewatch.metrics import Metrics
from gatewatch.store.database import DatabaseUnavailable, ping
from gatewatch.web.api import incidents, ingest, notifications, oncall, reviews, slack
from gatewatch.web.auth import Forbidden, TokenAuthenticator, Unauthorized
from gatewatch.web.deps import Services
from gatewatch.web.errors import InvalidQuery
from gatewatch.web.guard import RequestGuard
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


def _install_error_handlers(app: FastAPI, metrics: Metrics) -> None:
    @app.exception_handler(ingest.InvalidPayload)
    async def invalid_payload(_: Request, exc: ingest.InvalidPayload) -> JSONResponse:
        return JSONResponse(exc.body.model_dump(), status_code=exc.status_code)

    @app.exception_handler(InvalidQuery)
    async def invalid_query(_: Request, exc: InvalidQuery) -> JSONResponse:
        return _error(422, "invalid request", [ErrorDetail(path=exc.path, message=str(exc))])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's own refusals (a body that is not JSON, an unknown route or method) in
        # the same shape as every other error.
        return _error(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))

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
        metrics.http_errors.labels("database_unavailable").inc()
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
    _errors_are_json(schema)
    app.openapi_schema = schema
    return schema


def _errors_are_json(schema: dict[str, Any]) -> None:
    """Every error answers with the JSON error body, whatever the success's media type (the
    post-mortem is Markdown, its 404 is not): say so in the document."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for operations in schema["paths"].values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = error


def create_app(
    services: Services,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    """The API and console over the services; `lifespan` runs beside it (the workers)."""
    app = FastAPI(title="gatewatch", version=gatewatch.__version__, lifespan=lifespan)
    app.state.services = services
    app.state.authenticator = TokenAuthenticator(services.config.auth.tokens)
    for module in (ingest, incidents, oncall, notifications, slack, reviews):
        app.include_router(module.router)
    install_console(app, services.config)
    _install_error_handlers(app, services.runtime.metrics)
    app.add_middleware(
        RequestGuard,
        authenticator=app.state.authenticator,
        max_body_bytes=services.config.limits.max_body_bytes,
        signed_paths=(slack.ACTIONS_PATH,),
        self_limited_paths=tuple(ingest.BODY_MODELS),
    )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is up (liveness)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"model": ErrorBody}})
    async def readyz() -> Response:
        """The store answers; a load balancer should send traffic only while this is 200."""
        try:
            await run_in_threadpool(ping, services.runtime.database)
        except DatabaseUnavailable as exc:
            return _error(503, f"database unavailable: {exc}")
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["health"], response_class=PlainTextResponse)
    async def metrics() -> Response:
        body = await run_in_threadpool(generate_latest, services.runtime.metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return app
