"""The `gatewatch` command: assembles the per-domain command modules; serve, config check."""

import logging
import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI

from gatewatch.auth.passwords import hash_password
from gatewatch.cli.common import ConfigOption, fail, out, read_config
from gatewatch.cli.dashboards import dashboards_command
from gatewatch.cli.drill import drill
from gatewatch.cli.incidents import incidents_app
from gatewatch.cli.notifications import notifications_app
from gatewatch.cli.oncall import oncall_app
from gatewatch.cli.reviews import postmortem, report
from gatewatch.cli.rules import (
    alertmanager_config_command,
    manifests_command,
    rules_app,
    slo_app,
)
from gatewatch.cli.stack import compose, standins, up
from gatewatch.config import check_listen
from gatewatch.errors import GatewatchError
from gatewatch.wiring.server import ServeOptions, build_app, prepare_store

app = typer.Typer(
    help="gatewatch: alerting and incident response for messaging gateways.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Validate configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(incidents_app)
app.add_typer(oncall_app, name="oncall")
app.add_typer(notifications_app, name="notifications")
app.add_typer(rules_app, name="rules")
app.add_typer(slo_app, name="slo")
app.command("up")(up)
app.command("compose")(compose)
app.command("standins")(standins)
app.command("drill")(drill)
app.command("postmortem")(postmortem)
app.command("report")(report)
app.command("alertmanager-config")(alertmanager_config_command)
app.command("manifests")(manifests_command)
app.command("dashboards")(dashboards_command)


def _listen(value: str | None) -> str | None:
    try:
        return check_listen(value) if value is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


@app.command()
def serve(
    config: ConfigOption = None,
    listen: Annotated[
        str | None, typer.Option(help="host:port, overrides the config", callback=_listen)
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error")] = "info",
    clock_file: Annotated[
        Path | None,
        typer.Option(
            help="rehearsals only: read the time from this file (an ISO-8601 moment, "
            "running on from when the file is written) instead of the system clock",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="processes serving the same address, each running everything; they share "
            "the work through the database (meant for PostgreSQL)",
        ),
    ] = 1,
    migrate_schema: Annotated[
        bool,
        typer.Option(
            "--migrate/--no-migrate",
            help="bring the database's schema up to date at start; with --no-migrate only "
            "check it (replicas whose migrations run as a separate step, `gatewatch migrate`)",
        ),
    ] = True,
) -> None:
    """Run gatewatch: ingest, incidents, escalation, delivery, the API and the console."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    options = ServeOptions(
        str(config) if config else None, listen, str(clock_file) if clock_file else None
    )
    try:
        settings, clock = options.load(os.environ)
        # One process serves the app it built; several are spawned by uvicorn, each building
        # its own from the options handed down in the environment.
        application: FastAPI | str = "gatewatch.wiring.server:worker_app"
        if workers == 1:
            application = build_app(settings, clock, migrate_schema)
        else:
            prepare_store(settings, migrate_schema)
            os.environ.update(options.to_environment())
    except GatewatchError as exc:
        fail(exc)
    uvicorn.run(
        application,
        factory=workers > 1,
        workers=workers,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=False,
    )


@app.command("migrate")
def migrate_command(config: ConfigOption = None) -> None:
    """Bring the database's schema up to date (Alembic), then exit: the step a deployment
    runs before it starts replicas with `serve --no-migrate`."""
    try:
        prepare_store(read_config(config), migrate_schema=True)
    except GatewatchError as exc:
        fail(exc)
    out.print("[green]ok[/] the database's schema is up to date")


@app.command("hash-password")
def hash_password_command(
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="GATEWATCH_PASSWORD",
            help="Asked for when not given (or set GATEWATCH_PASSWORD)",
        ),
    ],
) -> None:
    """Print a password hash for auth.users[].password_hash in the config."""
    if len(password) < 12:
        fail(GatewatchError("password shorter than 12 characters", hint="choose a longer one"))
    typer.echo(hash_password(password))


@config_app.command("check")
def config_check(file: Annotated[Path, typer.Argument(help="gatewatch.yml to validate")]) -> None:
    """Validate a config file; every problem is printed as file:line: key: message."""
    try:
        settings = read_config(file)
    except GatewatchError as exc:
        fail(exc)
    out.print(
        f"[green]ok[/] {file}: {len(settings.routes)} routes, {len(settings.severities)} "
        f"severity levels, {len(settings.auth.tokens)} tokens, {len(settings.policies)} policies"
    )
