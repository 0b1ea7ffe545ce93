"""`gatewatch postmortem` and `gatewatch report`: post-incident reviews and response times."""

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from gatewatch.cli.common import (
    DEFAULT_URL,
    JsonOption,
    TokenOption,
    UrlOption,
    api,
    out,
    print_json,
    titled_table,
)
from gatewatch.postmortem.review import span


def postmortem(
    incident_id: Annotated[int, typer.Argument(help="Incident id")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the Markdown here")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """The post-incident review as Markdown, pre-filled from the incident (template: seed 004)."""
    text = api(url, token, lambda c: c.postmortem(incident_id))
    if out_file is None:
        typer.echo(text, nl=False)
        return
    out_file.write_text(text, encoding="utf-8")
    out.print(
        f"wrote {out_file}; edit the review at {url.rstrip('/')}/ui/incidents/{incident_id}/review"
    )


def _minutes(seconds: float | None) -> str:
    return span(timedelta(seconds=seconds)) if seconds is not None else "-"


def report(
    since: Annotated[str, typer.Option(help="How far back, e.g. 7d, 30d, 12h")] = "30d",
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """MTTA and MTTR per severity and service over incidents triggered in the period."""
    rows = api(url, token, lambda c: c.response_times(since))
    if as_json:
        print_json(rows)
        return
    table = titled_table(
        f"response times, last {since}",
        "severity",
        "service",
        "incidents",
        "acked",
        "resolved",
        "MTTA",
        "p90 TTA",
        "MTTR",
        "p90 TTR",
    )
    for row in rows:
        table.add_row(
            row["severity"],
            row["service"],
            str(row["incidents"]),
            str(row["acknowledged"]),
            str(row["resolved"]),
            _minutes(row["mtta_seconds"]),
            _minutes(row["p90_tta_seconds"]),
            _minutes(row["mttr_seconds"]),
            _minutes(row["p90_ttr_seconds"]),
        )
    if not rows:
        out.print(f"no incidents in the last {since}")
        return
    out.print(table)
