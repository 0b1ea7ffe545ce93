"""`gatewatch dashboards`: the Grafana dashboards as provisioned files, optionally checked
query by query against a running Prometheus."""

from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.progress import track

from gatewatch.cli.common import ConfigOption, err, fail, out, read_config
from gatewatch.dashboards.catalogue import all_dashboards
from gatewatch.dashboards.provisioning import write_dashboards
from gatewatch.dashboards.queries import annotation_queries, panel_queries, query_problem
from gatewatch.errors import GatewatchError


def dashboards_command(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for dashboards and provisioning")],
    config: ConfigOption = None,
    datasource_url: Annotated[
        str, typer.Option(help="Prometheus as Grafana reaches it, for the data source")
    ] = "http://localhost:9090",
    dashboards_path: Annotated[
        str | None,
        typer.Option(help="Where Grafana finds the JSON files; default: where they are written"),
    ] = None,
    check: Annotated[
        str | None,
        typer.Option(
            "--check",
            metavar="PROMETHEUS_URL",
            help="Run every panel's query against this Prometheus; fail on errors or no data",
        ),
    ] = None,
) -> None:
    """Write the Grafana dashboards (gateway, SLOs, gatewatch) with their provisioning files;
    the alert view's thresholds follow the config's `rules:` tuning."""
    try:
        documents = all_dashboards(read_config(config).rules)
    except GatewatchError as exc:
        fail(exc)
    for path in write_dashboards(out_dir, documents, datasource_url, dashboards_path):
        out.print(f"wrote {path}")
    if check is None:
        return
    queries = [(q, False) for d in documents for q in panel_queries(d)]
    queries += [(q, True) for d in documents for q in annotation_queries(d)]
    problems = []
    try:
        with httpx.Client(base_url=check, timeout=30) as client:
            for query, empty_ok in track(queries, description="querying", console=err):
                problem = query_problem(client, query, empty_ok)
                if problem is not None:
                    problems.append(problem)
    except httpx.HTTPError as exc:
        fail(GatewatchError(f"Prometheus at {check}: {exc}", hint="is it running?"))
    for problem in problems:
        err.print(f"[red]✗[/] {problem}", highlight=False)
    out.print(f"{len(queries) - len(problems)} of {len(queries)} queries answered with data")
    if problems:
        raise typer.Exit(1)
