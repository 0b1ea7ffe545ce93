"""Ingest endpoints: parse, validate, commit, and only then answer 2xx."""

import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from gatewatch.auth.roles import Permission, Principal
from gatewatch.errors import validation_messages
from gatewatch.ingest import alertmanager_webhook, prometheus_push
from gatewatch.model import AlertBatch
from gatewatch.store.database import DatabaseUnavailable
from gatewatch.web.auth import require
from gatewatch.web.deps import services_of
from gatewatch.web.schemas import ErrorBody, ErrorDetail, IngestResponse

router = APIRouter(tags=["ingest"])
Payload = TypeVar("Payload", bound=BaseModel)


class InvalidPayload(Exception):
    """The body is not what the endpoint accepts; carries HTTP status and the error body."""

    def __init__(self, status_code: int, body: ErrorBody) -> None:
        super().__init__(body.error)
        self.status_code = status_code
        self.body = body


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise InvalidPayload(413, ErrorBody(error=f"body larger than {limit} bytes"))
    chunks = bytearray()
    async for chunk in request.stream():
        chunks.extend(chunk)
        if len(chunks) > limit:
            raise InvalidPayload(413, ErrorBody(error=f"body larger than {limit} bytes"))
    return bytes(chunks)


def _parse(model: type[Payload], body: bytes) -> Payload:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if any(error["type"] == "json_invalid" for error in errors):
            detail = ErrorDetail(path="$", message=errors[0]["msg"])
            raise InvalidPayload(400, ErrorBody(error="malformed JSON", details=[detail])) from exc
        details = [
            ErrorDetail(path=path, message=message) for path, message in validation_messages(errors)
        ]
        raise InvalidPayload(422, ErrorBody(error="invalid payload", details=details)) from exc


async def _ingest(
    request: Request,
    source: str,
    parse: Callable[[bytes, datetime], AlertBatch],
) -> IngestResponse:
    services = services_of(request)
    limits, metrics = services.config.limits, services.runtime.metrics
    started = time.perf_counter()
    try:
        body = await _read_body(request, limits.max_body_bytes)
        batch = parse(body, services.runtime.clock.now())
        if len(batch.alerts) > limits.max_alerts_per_request:
            raise InvalidPayload(
                413,
                ErrorBody(
                    error=f"{len(batch.alerts)} alerts in one request; the limit is "
                    f"{limits.max_alerts_per_request}"
                ),
            )
        result = await run_in_threadpool(services.incidents.ingest, batch)
    except InvalidPayload as exc:
        outcome = "too_large" if exc.status_code == 413 else "invalid"
        metrics.ingest_requests.labels(source, outcome).inc()
        raise
    except DatabaseUnavailable:
        metrics.ingest_requests.labels(source, "unavailable").inc()
        raise
    metrics.ingest_requests.labels(source, "accepted").inc()
    metrics.ingest_duration.labels(source).observe(time.perf_counter() - started)
    return IngestResponse(
        accepted=result.accepted,
        incidents_opened=result.opened,
        incidents_resolved=result.closed,
    )


def _webhook_batch(body: bytes, now: datetime) -> AlertBatch:
    return alertmanager_webhook.to_batch(_parse(alertmanager_webhook.WebhookPayload, body), now)


def _push_batch(body: bytes, now: datetime) -> AlertBatch:
    return prometheus_push.to_batch(_parse(prometheus_push.PostableAlerts, body), now)


WEBHOOK_PATH = "/api/v1/webhooks/alertmanager"
PUSH_PATH = "/api/v2/alerts"
BODY_MODELS: dict[str, type[BaseModel]] = {
    WEBHOOK_PATH: alertmanager_webhook.WebhookPayload,
    PUSH_PATH: prometheus_push.PostableAlerts,
}
"""Request bodies these endpoints read themselves (to cap their size); documented in OpenAPI."""

_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 413, 422, 503)
}


@router.post(
    WEBHOOK_PATH,
    response_model=IngestResponse,
    responses=_ERRORS,
)
async def alertmanager_webhook_endpoint(
    request: Request, _caller: Annotated[Principal, Depends(require(Permission.INGEST))]
) -> IngestResponse:
    """Alertmanager webhook (payload version 4); committed before the 200."""
    return await _ingest(request, "alertmanager", _webhook_batch)


@router.post(
    PUSH_PATH,
    response_model=IngestResponse,
    responses=_ERRORS,
)
async def prometheus_push_endpoint(
    request: Request, _caller: Annotated[Principal, Depends(require(Permission.INGEST))]
) -> IngestResponse:
    """Prometheus/Alertmanager `POST /api/v2/alerts` body; committed before the 200."""
    return await _ingest(request, "prometheus", _push_batch)
