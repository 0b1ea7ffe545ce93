"""Working incidents from the shell, over the API: alerts, incidents, ack, resolve, notes."""

from typing import Annotated

import typer

from gatewatch.cli.common import (
    DEFAULT_URL,
    SEVERITY_STYLE,
    STATUS_STYLE,
    JsonOption,
    TokenOption,
    UrlOption,
    ago,
    api,
    err,
    fail,
    out,
    print_json,
    styled,
    titled_table,
)
from gatewatch.errors import GatewatchError

incidents_app = typer.Typer()


@incidents_app.command()
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
    items = api(url, token, lambda c: c.alerts(filter or [], status))
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


@incidents_app.command()
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
    page = api(
        url, token, lambda c: c.incidents(status or [], severity or [], service or [], limit)
    )
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


@incidents_app.command()
def incident(
    incident_id: Annotated[int, typer.Argument(help="Incident id")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """One incident with its alerts and timeline."""
    detail = api(url, token, lambda c: c.incident(incident_id))
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


def _act(
    action: str,
    incident_ids: list[int],
    matchers: str | None,
    url: str,
    token: str | None,
    note: str | None,
) -> None:
    if not incident_ids and not matchers:
        fail(GatewatchError("name the incidents", hint="give their ids, or --filter MATCHERS"))
    if len(incident_ids) == 1 and not matchers:
        result = api(url, token, lambda c: c.act(incident_ids[0], action, note))
        who = result["acknowledged_by"] if action == "ack" else result["resolved_by"]
        out.print(f"incident #{incident_ids[0]} {styled(result['status'], STATUS_STYLE)} by {who}")
        return
    done = api(url, token, lambda c: c.act_on_many(action, incident_ids, matchers or "", note))
    verb = "acknowledged" if action == "ack" else "resolved"
    listed = ", ".join(f"#{n}" for n in done["done"]) or "none"
    out.print(f"{len(done['done'])} incidents {verb}: {listed}")
    for incident_id, why in done["refused"].items():
        err.print(f"[yellow]#{incident_id} left as it was:[/] {why}")


NoteOption = Annotated[str | None, typer.Option("--note", "-n", help="Add a note to the timeline")]
IdsArgument = Annotated[list[int] | None, typer.Argument(help="Incident ids")]
FilterOption = Annotated[
    str | None,
    typer.Option(
        "--filter", "-f", help='Every open incident with a firing alert matching, e.g. team="im"'
    ),
]


@incidents_app.command()
def ack(
    incident_ids: IdsArgument = None,
    matchers: FilterOption = None,
    note: NoteOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Acknowledge incidents (one, several, or all matching --filter): you are on it."""
    _act("ack", incident_ids or [], matchers, url, token, note)


@incidents_app.command()
def resolve(
    incident_ids: IdsArgument = None,
    matchers: FilterOption = None,
    note: NoteOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Resolve incidents by hand (one, several, or all matching --filter)."""
    _act("resolve", incident_ids or [], matchers, url, token, note)


@incidents_app.command()
def note(
    incident_id: Annotated[int, typer.Argument(help="Incident id")],
    text: Annotated[str, typer.Argument(help="The note")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Add a note to an incident's timeline."""
    event = api(url, token, lambda c: c.note(incident_id, text))
    out.print(f"note added to incident #{incident_id} by {event['actor']}")


@incidents_app.command()
def escalate(
    incident_id: Annotated[int, typer.Argument(help="Incident id")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Page the next step of the incident's policy now."""
    result = api(url, token, lambda c: c.escalate(incident_id))
    out.print(f"incident #{incident_id}: step {result['step']} paged now")
