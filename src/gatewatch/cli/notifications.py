"""`gatewatch notifications …`: the notification outbox from the shell."""

from typing import Annotated

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

notifications_app = typer.Typer(cls=DefaultCommandGroup, help="The notification outbox.")


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
    found = api(url, token, lambda c: c.notifications("dead" if dead else status, incident, limit))
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
    api(url, token, lambda c: c.resend(notification_id))
    out.print(f"notification #{notification_id} queued again")
