"""What the CLI's command modules share: consoles, common options, the API client, styling."""

import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from typer._click.core import Context as ClickContext  # the type TyperGroup itself declares
from typer.core import TyperGroup

from gatewatch.client import GatewatchClient
from gatewatch.config import DEFAULT_LISTEN, GatewatchConfig
from gatewatch.errors import GatewatchError
from gatewatch.wiring.server import admin_token_path, checked_config

T = TypeVar("T")
out = Console()
err = Console(stderr=True)

SEVERITY_STYLE = {
    "critical": "bold red",
    "P1": "red",
    "P2": "yellow",
    "warning": "yellow",
    "info": "cyan",
}
STATUS_STYLE = {
    "triggered": "bold red",
    "acknowledged": "yellow",
    "resolved": "green",
    "firing": "bold red",
}

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", envvar="GATEWATCH_CONFIG", help="gatewatch.yml")
]


def read_config(path: Path | None) -> GatewatchConfig:
    """gatewatch.yml with this process's environment, every check made."""
    return checked_config(path, os.environ)


UrlOption = Annotated[
    str, typer.Option("--url", envvar="GATEWATCH_URL", help="gatewatch's base URL")
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="GATEWATCH_TOKEN",
        help="API token (default: ./.gatewatch/admin.token when present)",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]
DEFAULT_URL = f"http://{DEFAULT_LISTEN}"


def fail(error: GatewatchError) -> NoReturn:
    err.print(f"[bold red]error:[/] {error}", highlight=False, markup=True)
    if error.hint:
        err.print(f"[dim]hint: {error.hint}[/]")
    raise typer.Exit(1)


def api(url: str, token: str | None, request: Callable[[GatewatchClient], T]) -> T:
    """One call to gatewatch's API; a GatewatchError becomes one red line, a hint, exit 1."""
    try:
        return request(client(url, token))
    except GatewatchError as exc:
        fail(exc)


def client(url: str, token: str | None) -> GatewatchClient:
    if token is None:
        default = admin_token_path(GatewatchConfig().data_dir)
        token = default.read_text().strip() if default.exists() else None
    return GatewatchClient(url, token)


def ago(timestamp: str | None) -> str:
    if not timestamp:
        return "-"
    seconds = int((datetime.now(UTC) - datetime.fromisoformat(timestamp)).total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{max(seconds, 0)}s ago"


def styled(value: str | None, styles: dict[str, str]) -> str:
    text = value or "-"
    style = styles.get(text)
    return f"[{style}]{text}[/]" if style else text


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")


def titled_table(title: str, *columns: str) -> Table:
    """The CLI's tables: a left-aligned title over the named columns."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    return table


class DefaultCommandGroup(TyperGroup):
    """`gatewatch oncall [SCHEDULE]` and `gatewatch oncall override …` side by side:
    anything that is not a subcommand goes to the default one."""

    default_command = "show"

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)
