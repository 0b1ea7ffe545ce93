"""The `gatewatch` command: serve the engine, check config, and work incidents over the API."""

import logging
import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from gatewatch.cli_common import (
    DEFAULT_URL,
    SEVERITY_STYLE,
    STATUS_STYLE,
    ConfigOption,
    JsonOption,
    TokenOption,
    UrlOption,
    ago,
    client,
    fail,
    out,
    print_json,
    styled,
    titled_table,
)
from gatewatch.cli_drill import drill
from gatewatch.cli_paging import notifications_app, oncall_app
from gatewatch.cli_reviews import postmortem, report
from gatewatch.cli_rules import (
    alertmanager_config_command,
    manifests_command,
    rules_app,
    slo_app,
)
from gatewatch.cli_stack import compose, standins, up
from gatewatch.clock import SystemClock
from gatewatch.config import check_listen, load_config
from gatewatch.errors import GatewatchError
from gatewatch.passwords import hash_password
from gatewatch.server import build_app, with_bootstrap_token

app = typer.Typer(
    help="gatewatch: alerting and incident response for messaging gateways.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Validate configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")
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
) -> None:
    """Run the engine: ingest, incidents, REST API."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    try:
        settings = load_config(config, os.environ)
        if listen is not None:
            settings = settings.model_copy(update={"listen": listen})
        settings = with_bootstrap_token(settings)
        application = build_app(settings, SystemClock())
    except GatewatchError as exc:
        fail(exc)
    uvicorn.run(
        application, host=settings.host, port=settings.port, log_level=log_level, access_log=False
    )


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
        settings = load_config(file, os.environ)
    except GatewatchError as exc:
        fail(exc)
    out.print(
        f"[green]ok[/] {file}: {len(settings.routes)} routes, {len(settings.severities)} "
        f"severity levels, {len(settings.auth.tokens)} tokens, {len(settings.policies)} policies"
    )


@app.command()
def alerts(
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    filter: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            "-f",
            help='Matchers, e.g. severity="critical"',
        ),
    ] = None,
    status: Annotated[str, typer.Option(help="firing, resolved or all")] = "firing",
    as_json: JsonOption = False,
) -> None:
    """Firing alerts by severity (the runbooks' check-alerts)."""
    try:
        items = client(url, token).alerts(filter or [], status)
    except GatewatchError as exc:
        fail(exc)
    if as_json:
        print_json(items)
        return
    order = {name: index for index, name in enumerate(SEVERITY_STYLE)}
    items.sort(key=lambda a: (order.get(a["labels"].get("severity", ""), 99), a["starts_at"]))
    table = titled_table(
        f"{len(items)} {status} alerts", "severity", "alert", "target", "summary", "since"
    )
    for item in items:
        labels = item["labels"]
        table.add_row(
            styled(labels.get("severity"), SEVERITY_STYLE),
            labels.get("alertname", "-"),
            labels.get("instance") or labels.get("service") or labels.get("job") or "-",
            item["annotations"].get("summary", ""),
            ago(item["starts_at"]),
        )
    out.print(table)


@app.command()
def incidents(
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    status: Annotated[
        list[str] | None, typer.Option(help="open, triggered, acknowledged, resolved (repeatable)")
    ] = None,
    severity: Annotated[list[str] | None, typer.Option()] = None,
    service: Annotated[list[str] | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    as_json: JsonOption = False,
) -> None:
    """List incidents, newest first."""
    try:
        page = client(url, token).incidents(status or [], severity or [], service or [], limit)
    except GatewatchError as exc:
        fail(exc)
    if as_json:
        print_json(page)
        return
    table = titled_table(
        f"{page['total']} incidents",
        "id",
        "status",
        "severity",
        "title",
        "service",
        "triggered",
        "acked by",
    )
    for item in page["items"]:
        table.add_row(
            str(item["id"]),
            styled(item["status"], STATUS_STYLE),
            styled(item["severity"], SEVERITY_STYLE),
            item["title"],
            item["service"] or "-",
            ago(item["triggered_at"]),
            item["acknowledged_by"] or "-",
        )
    out.print(table)


@app.command()
def incident(
    incident_id: Annotated[int, typer.Argument(help="Incident id")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """One incident with its alerts and timeline."""
    try:
        detail = client(url, token).incident(incident_id)
    except GatewatchError as exc:
        fail(exc)
    if as_json:
        print_json(detail)
        return
    out.print(
        f"[bold]#{detail['id']} {detail['title']}[/]  {styled(detail['status'], STATUS_STYLE)}"
        f"  {styled(detail['severity'], SEVERITY_STYLE)}  service={detail['service'] or '-'}"
        f"  route={detail['route']}"
    )
    alerts_table = titled_table("alerts", "fingerprint", "status", "alert", "labels")
    for alert in detail["alerts"]:
        labels = ", ".join(
            f"{k}={v}" for k, v in sorted(alert["labels"].items()) if k != "alertname"
        )
        alerts_table.add_row(
            alert["fingerprint"],
            styled(alert["status"], STATUS_STYLE),
            alert["labels"].get("alertname", "-"),
            labels,
        )
    out.print(alerts_table)
    timeline = titled_table("timeline", "at", "who", "what")
    for event in detail["timeline"]:
        timeline.add_row(event["at"], event["actor"], event["message"])
    out.print(timeline)


def _act(action: str, incident_id: int, url: str, token: str | None, note: str | None) -> None:
    try:
        result = client(url, token).act(incident_id, action, note)
    except GatewatchError as exc:
        fail(exc)
    who = result["acknowledged_by"] if action == "ack" else result["resolved_by"]
    out.print(f"incident #{incident_id} {styled(result['status'], STATUS_STYLE)} by {who}")


NoteOption = Annotated[str | None, typer.Option("--note", "-n", help="Add a note to the timeline")]


@app.command()
def ack(
    incident_id: Annotated[int, typer.Argument(help="Incident id")],
    note: NoteOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Acknowledge an incident: you are on it."""
    _act("ack", incident_id, url, token, note)


@app.command()
def resolve(
    incident_id: Annotated[int, typer.Argument(help="Incident id")],
    note: NoteOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Resolve an incident by hand."""
    _act("resolve", incident_id, url, token, note)


@app.command()
def note(
    incident_id: Annotated[int, typer.Argument(help="Incident id")],
    text: Annotated[str, typer.Argument(help="The note")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Add a note to an incident's timeline."""
    try:
        event = client(url, token).note(incident_id, text)
    except GatewatchError as exc:
        fail(exc)
    out.print(f"note added to incident #{incident_id} by {event['actor']}")
