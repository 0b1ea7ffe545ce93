"""`gatewatch oncall …`: who is on call, and overrides, from the shell."""

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from gatewatch.cli.common import (
    DEFAULT_URL,
    DefaultCommandGroup,
    JsonOption,
    TokenOption,
    UrlOption,
    api,
    out,
    print_json,
    titled_table,
)
from gatewatch.durations import parse_duration

oncall_app = typer.Typer(cls=DefaultCommandGroup, help="Who is on call; overrides.")


def parse_moment(text: str, now: datetime | None = None) -> datetime:
    """`now`, `+2h` (from now), or ISO 8601; a time without offset is UTC."""
    now = now or datetime.now(UTC)
    if text == "now":
        return now
    if text.startswith("+"):
        try:
            return now + parse_duration(text[1:])
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r}: use now, +DURATION (e.g. +8h) or ISO 8601 (2026-11-22T09:00+01:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _names(people: list[dict[str, Any]]) -> str:
    return ", ".join(p["name"] for p in people) or "nobody"


@oncall_app.command("show")
def show(
    schedule: Annotated[str | None, typer.Argument(help="Schedule id (default: all)")] = None,
    at: Annotated[str, typer.Option(help="now, +8h or an ISO time (UTC if no offset)")] = "now",
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who is on call now (or --at), until when, and who is next."""
    windows = api(url, token, lambda c: c.on_call(schedule, parse_moment(at).isoformat()))
    if as_json:
        print_json(windows)
        return
    table = titled_table(
        f"on call at {windows[0]['at'] if windows else at}", "schedule", "on call", "until", "next"
    )
    for window in windows:
        who = _names(window["on_call"]) + (" (override)" if window["overridden"] else "")
        table.add_row(window["schedule"], who, window["until"], _names(window["next"]))
    out.print(table)


@oncall_app.command("override")
def override(
    schedule: Annotated[str, typer.Argument(help="Schedule id")],
    person: Annotated[str, typer.Argument(help="Person id who takes over")],
    start: Annotated[str, typer.Option(help="now, +1h or ISO time")] = "now",
    end: Annotated[str, typer.Option(help="+8h or ISO time")] = "+8h",
    layer: Annotated[
        str | None, typer.Option(help="a named layer: stand in for that layer's person only")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Put PERSON on call for SCHEDULE (or one of its layers) from --start to --end."""
    now = datetime.now(UTC)
    begins, ends = parse_moment(start, now).isoformat(), parse_moment(end, now).isoformat()
    created = api(url, token, lambda c: c.add_override(schedule, person, begins, ends, layer))
    out.print(
        f"override #{created['id']}: {person} on call for {schedule} "
        f"from {created['start']} to {created['end']}"
    )


@oncall_app.command("overrides")
def overrides(
    schedule: Annotated[str, typer.Argument(help="Schedule id")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Current and coming overrides of a schedule."""
    found = api(url, token, lambda c: c.overrides(schedule))
    if as_json:
        print_json(found)
        return
    table = titled_table(f"overrides of {schedule}", "id", "person", "start", "end", "by")
    for item in found:
        table.add_row(
            str(item["id"]), item["person"], item["start"], item["end"], item["created_by"]
        )
    out.print(table)


@oncall_app.command("end-override")
def end_override(
    override_id: Annotated[int, typer.Argument(help="Override id")],
    end: Annotated[str, typer.Option(help="now, +1h or ISO time")] = "now",
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Shorten (or lengthen) an override: it ends at --end."""
    moment = parse_moment(end).isoformat()
    changed = api(url, token, lambda c: c.change_override_end(override_id, moment))
    out.print(f"override #{override_id}: {changed['person']} until {changed['end']}")


@oncall_app.command("remove-override")
def remove_override(
    override_id: Annotated[int, typer.Argument(help="Override id")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Delete an override."""
    api(url, token, lambda c: c.delete_override(override_id))
    out.print(f"override #{override_id} removed")
