"""Runbooks at /runbooks/<slug>: the Markdown files of the runbooks folder, rendered without
raw HTML (a runbook cannot inject script into the console)."""

import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from gatewatch.rules.runbook_index import INDEX, runbook_title
from gatewatch.web.deps import services_of
from gatewatch.web.ui.forms import User
from gatewatch.web.ui.render import markdown, page

router = APIRouter(include_in_schema=False)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _folder(request: Request) -> Path:
    return Path(services_of(request).config.runbooks_dir)


@router.get("/runbooks")
def runbooks_folder() -> RedirectResponse:
    """The index's links are relative (they work on GitHub too): serve it as a folder."""
    return RedirectResponse("/runbooks/", status_code=308)


@router.get("/runbooks/")
def runbook_list(request: Request, user: User) -> HTMLResponse:
    folder = _folder(request)
    index = folder / INDEX
    body = markdown.render(index.read_text(encoding="utf-8")) if index.exists() else ""
    return page(request, "runbook.html", user, "Runbooks", body=Markup(body))


@router.get("/runbooks/{slug}")
def runbook(request: Request, slug: str, user: User) -> HTMLResponse:
    path = _folder(request) / f"{slug}.md"
    if not SLUG.match(slug) or not path.is_file():
        return page(
            request,
            "message.html",
            user,
            "No such runbook",
            404,
            message=f"There is no runbook {slug!r}; every alert's runbook_url should have one.",
        )
    body = markdown.render(path.read_text(encoding="utf-8"))
    return page(request, "runbook.html", user, runbook_title(path), body=Markup(body))
