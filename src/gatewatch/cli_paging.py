"""`gatewatch oncall …` and `gatewatch notifications …`: on-call and delivery from the shell."""

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from typer._click.core import Context as ClickContext  # the type TyperGroup itself declares
from typer.core import TyperGroup

from gatewatch.cli_common import (
    DEFAULT_URL,
    JsonOption,
    TokenOption,
    UrlOption,
    client,
    fail,
    out,
    print_json,
    titled_table,
)
from gatewatch.durations import parse_duration
from gatewatch.errors import GatewatchError


class DefaultCommandGroup(TyperGroup):
    """`gatewatch oncall [SCHEDULE]` and `gatewatch oncall override …` side by side:
    anything that is not a subcommand goes to the default one."""

    default_command = "show"

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


oncall_app = typer.Typer(cls=DefaultCommandGroup, help="Who is on call; overrides.")
notifications_app = typer.Typer(cls=DefaultCommandGroup, help="The notification outbox.")


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
    try:
        windows = client(url, token).on_call(schedule, parse_moment(at).isoformat())
    except GatewatchError as exc:
        fail(exc)
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
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Put PERSON on call for SCHEDULE from --start to --end."""
    now = datetime.now(UTC)
    begins, ends = parse_moment(start, now), parse_moment(end, now)
    try:
        created = client(url, token).add_override(
            schedule, person, begins.isoformat(), ends.isoformat()
        )
    except GatewatchError as exc:
        fail(exc)
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
    try:
        found = client(url, token).overrides(schedule)
    except GatewatchError as exc:
        fail(exc)
    if as_json:
        print_json(found)
        return
    table = titled_table(f"overrides of {schedule}", "id", "person", "start", "end", "by")
    for item in found:
        table.add_row(
            str(item["id"]), item["person"], item["start"], item["end"], item["created_by"]
        )
    out.print(table)


@oncall_app.command("remove-override")
def remove_override(
    override_id: Annotated[int, typer.Argument(help="Override id")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Delete an override."""
    try:
        client(url, token).delete_override(override_id)
    except GatewatchError as exc:
        fail(exc)
    out.print(f"override #{override_id} removed")


@notifications_app.command("show")
def show_notifications(
    dead: Annotated[bool, typer.Option("--dead", help="Only dead notifications")] = False,
    status: Annotated[str | None, typer.Option(help="pending, sending, delivered, dead")] = None,
    incident: Annotated[int | None, typer.Option(help="Only this incident's")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recent notifications and their delivery state."""
    try:
        found = client(url, token).notifications("dead" if dead else status, incident, limit)
    except GatewatchError as exc:
        fail(exc)
    if as_json:
        print_json(found)
        return
    table = titled_table(
        f"{len(found)} notifications",
        "id",
        "incident",
        "channel",
        "kind",
        "to",
        "status",
        "tries",
        "error",
    )
    for item in found:
        table.add_row(
            str(item["id"]),
            str(item["incident_id"]),
            item["channel"],
            item["kind"],
            item["person"] or "-",
            item["status"],
            str(item["attempts"]),
            (item["last_error"] or "")[:60],
        )
    out.print(table)


@notifications_app.command("resend")
def resend(
    notification_id: Annotated[int, typer.Argument(help="Id of a dead notification")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Queue a dead notification again, with a fresh set of attempts."""
    try:
        client(url, token).resend(notification_id)
    except GatewatchError as exc:
        fail(exc)
    out.print(f"notification #{notification_id} queued again")
