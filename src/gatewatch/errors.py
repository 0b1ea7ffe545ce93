"""Errors a user can cause; the CLI and HTTP layers turn them into one line or a JSON body."""

from collections.abc import Mapping, Sequence
from typing import Any


class GatewatchError(Exception):
    """Base of every error gatewatch reports to a user rather than crashing on."""

    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class NotFound(GatewatchError):
    """The named object does not exist."""


class Conflict(GatewatchError):
    """The request is valid but contradicts the current state (e.g. acking a resolved incident)."""


def format_location(loc: tuple[str | int, ...]) -> str:
    """A validation location as a JSON path: `alerts[3].labels.severity`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "$"


def validation_messages(errors: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Pydantic errors as (JSON path, message) pairs, without pydantic's "Value error, " noise."""
    return [
        (format_location(tuple(error["loc"])), str(error["msg"]).removeprefix("Value error, "))
        for error in errors
    ]
