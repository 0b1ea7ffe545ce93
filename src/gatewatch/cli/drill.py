"""`gatewatch drill`: start a time-scaled stack, run drills through it, print each hop."""

import asyncio
import json
import signal
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import httpx
import typer
from rich.table import Table

from gatewatch.cli.common import err, fail, out, read_config, titled_table
from gatewatch.drills.faults import GatewayAccess
from gatewatch.drills.probes import StackEndpoints
from gatewatch.drills.runner import DrillResult, DrillRunner, Hop
from gatewatch.drills.scenario import Scenario, load_scenarios, stack_tuning
from gatewatch.drills.timing import StackTimings
from gatewatch.durations import parse_duration
from gatewatch.errors import GatewatchError
from gatewatch.slo.status import PrometheusUnavailable, prometheus_api
from gatewatch.stack.supervisor import Supervisor
from gatewatch.stack.up import GATEWAY_SECRET_FILE, StackPorts, plan_stack

WARM_UP = 120.0


def _wait_for_traffic(prometheus: str) -> None:
    """Drills compare rates, so Prometheus must already see the gateway's steady traffic."""
    deadline = time.monotonic() + WARM_UP
    query = "instance:im_gateway_delivery_latency_seconds:p99_5m"
    with httpx.Client(timeout=5) as http:
        while time.monotonic() < deadline:
            try:
                if prometheus_api(http, prometheus, "query", {"query": query})["result"]:
                    return
            except PrometheusUnavailable:
                pass
            time.sleep(0.5)
    raise GatewatchError(
        f"Prometheus has no {query} after {WARM_UP:.0f}s",
        hint="see the load and prometheus logs under the drill's data folder",
    )


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _print_hop(drill: str, hop: Hop) -> None:
    mark = "[green]✓[/]" if hop.ok else "[bold red]✗[/]"
    took = f"{hop.took:6.1f}s" if hop.took is not None else "      -"
    at = f"t+{hop.at:5.1f}s" if hop.at is not None else ""
    limit = f"≤ {hop.deadline:g}s" if hop.deadline is not None else ""
    out.print(
        f"  {mark} {took} {at:>9} {limit:>9}  {hop.step}  [dim]{hop.detail}[/]", soft_wrap=True
    )


def _summary(results: list[DrillResult]) -> Table:
    table = titled_table(
        "drills", "drill", "result", "fault → incident", "fault → first page", "total"
    )
    for result in results:
        incident = next(
            (h.at for h in result.hops if h.step.startswith("gatewatch: incident")), None
        )
        page = next((h.at for h in result.hops if h.step.startswith(("page:", "fallback:"))), None)
        table.add_row(
            result.name,
            "[green]passed[/]" if result.passed else "[bold red]failed[/]",
            f"{incident:.1f}s" if incident is not None else "-",
            f"{page:.1f}s" if page is not None else "-",
            f"{result.seconds:.0f}s",
        )
    return table


def drill(
    names: Annotated[list[str] | None, typer.Argument(help="Drills to run, in this order")] = None,
    run_all: Annotated[bool, typer.Option("--all", help="Run every shipped drill")] = False,
    time_scale: Annotated[
        float, typer.Option(min=1.0, help="Shrink every alert duration and interval")
    ] = 60.0,
    report: Annotated[Path | None, typer.Option(help="Write every hop's timing as JSON")] = None,
    margin: Annotated[
        str, typer.Option(help="Added to every derived deadline (process start-up, load)")
    ] = "10s",
    scenarios: Annotated[
        Path | None, typer.Option(help="A folder of drill YAML files instead of the shipped ones")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="Keep the stack's configs and logs here (default: temp)")
    ] = None,
) -> None:
    """Start the whole stack on free loopback ports and prove each fault pages the right person."""
    if not names and not run_all:
        fail(GatewatchError("name the drills to run, or give --all", hint="gatewatch drill --all"))
    try:
        chosen = load_scenarios(names or [], scenarios)
        margin_seconds = parse_duration(margin).total_seconds()
    except (GatewatchError, ValueError) as exc:
        fail(exc if isinstance(exc, GatewatchError) else GatewatchError(f"--margin: {exc}"))
    with tempfile.TemporaryDirectory(prefix="gatewatch-drill-") as scratch:
        folder = data or Path(scratch)
        results = _run(chosen, folder, time_scale, margin_seconds)
    if report is not None:
        report.write_text(json.dumps([r.to_json() for r in results], indent=2))
    out.print(_summary(results))
    failed = [result for result in results if not result.passed]
    for result in failed:
        err.print(f"[bold red]error:[/] drill {result.name}: {result.error}", soft_wrap=True)
    if failed:
        err.print("[dim]hint: keep the stack's configs and logs with --data DIR to look closer[/]")
        raise typer.Exit(1)


def _run(
    chosen: list[Scenario], folder: Path, time_scale: float, margin: float
) -> list[DrillResult]:
    ports = StackPorts.free()
    try:
        components = plan_stack(folder, ports, time_scale, True, stack_tuning(chosen))
        config = read_config(folder / "gatewatch.yml")
        timings = StackTimings(folder.resolve(), config)
    except GatewatchError as exc:
        fail(exc)
    supervisor = Supervisor(components)
    watcher = threading.Thread(target=supervisor.watch, daemon=True)
    # SIGTERM unwinds like Ctrl-C, so the `finally` below stops every process it started.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with out.status(f"starting the stack (time-scale {time_scale:g})…"):
            supervisor.start_all()
            watcher.start()
            url = {c.name: c.url for c in components}
            _wait_for_traffic(url["prometheus"])
        endpoints = StackEndpoints(
            prometheus=url["prometheus"],
            alertmanager=url["alertmanager"],
            gatewatch=url["gatewatch"],
            standins=url["standins"],
            gateway=GatewayAccess(
                url["gateway"], (folder / GATEWAY_SECRET_FILE).read_text().strip()
            ),
            admin_token=(folder / "admin.token").read_text().strip(),
        )
        runner = DrillRunner(
            endpoints,
            timings,
            config,
            stop=lambda name: asyncio.to_thread(supervisor.hold, name),
            start=lambda name: asyncio.to_thread(supervisor.release, name),
            margin=margin,
            on_hop=_print_hop,
        )
        results = []
        for scenario in chosen:
            out.print(f"[bold]drill {scenario.name}[/]: {scenario.summary}")
            results.append(asyncio.run(runner.run(scenario)))
        return results
    except GatewatchError as exc:
        fail(exc)
    finally:
        supervisor.stop_all()
