"""Silences, kept in Alertmanager through its API v2: list, create from an alert's labels,
expire."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from gatewatch.durations import parse_duration
from gatewatch.errors import GatewatchError
from gatewatch.silences import SilenceClient
from gatewatch.text import SafeText
from gatewatch.web.deps import ConfigDep, IncidentsDep
from gatewatch.web.ui.forms import Csrf, Responder, User, back
from gatewatch.web.ui.render import flash, page
from gatewatch.web.ui.session import check_csrf

router = APIRouter(include_in_schema=False)
MAX_SILENCE = timedelta(days=7)


@contextmanager
def silence_client(alertmanager_url: str) -> Iterator[SilenceClient]:
    with httpx.Client(timeout=5) as http:
        yield SilenceClient(alertmanager_url, http)


@router.get("/ui/silences")
def silences_page(request: Request, user: User, config: ConfigDep) -> HTMLResponse:
    try:
        with silence_client(config.alertmanager.url) as client:
            silences = client.list()
    except GatewatchError as exc:
        return page(request, "silences.html", user, "Silences", silences=[], error=str(exc))
    return page(request, "silences.html", user, "Silences", silences=silences, error=None)


@router.get("/ui/silences/new")
def new_silence_page(
    request: Request, user: User, incidents: IncidentsDep, fingerprint: str = ""
) -> HTMLResponse:
    alert = incidents.alert(fingerprint) if fingerprint else None
    return page(
        request, "silence_new.html", user, "New silence", labels=alert.labels if alert else {}
    )


def _labels(text: str) -> dict[str, str]:
    labels = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise GatewatchError(f"matchers line {number}: expected label=value, got {line!r}")
        labels[name.strip()] = value.strip().strip('"')
    if not labels:
        raise GatewatchError("a silence needs at least one label=value line")
    return labels


@router.post("/ui/silences", response_model=None)
def create_silence(
    request: Request,
    user: Responder,
    csrf: Csrf,
    config: ConfigDep,
    matchers: Annotated[SafeText, Form()],
    duration: Annotated[str, Form()],
    comment: Annotated[SafeText, Form(min_length=1, max_length=500)],
) -> Response:
    check_csrf(request, csrf)
    try:
        labels = _labels(matchers)
        length = parse_duration(duration)
        if not timedelta(0) < length <= MAX_SILENCE:
            raise GatewatchError("duration must be between 1 minute and 7 days")
        with silence_client(config.alertmanager.url) as client:
            silence_id = client.create(labels, length, comment, user.name)
    except (GatewatchError, ValueError) as exc:
        return page(
            request,
            "silence_new.html",
            user,
            "New silence",
            422,
            labels={},
            flash=str(exc),
            flash_kind="error",
        )
    flash(request, f"Silence {silence_id} created in Alertmanager for {duration}.")
    return back("/ui/silences")


@router.post("/ui/silences/{silence_id}/expire")
def expire_silence(
    request: Request, silence_id: str, user: Responder, csrf: Csrf, config: ConfigDep
) -> Response:
    check_csrf(request, csrf)
    try:
        with silence_client(config.alertmanager.url) as client:
            client.expire(silence_id)
    except GatewatchError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, f"Silence {silence_id} expired.")
    return back("/ui/silences")
