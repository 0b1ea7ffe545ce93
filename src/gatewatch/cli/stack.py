"""`gatewatch up`: the local stack, supervised, until Ctrl-C or SIGTERM."""

import signal
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
import uvicorn

from gatewatch.cli.common import ConfigOption, fail, out, read_config, titled_table
from gatewatch.errors import GatewatchError
from gatewatch.stack.compose import write_compose
from gatewatch.stack.supervisor import Supervisor
from gatewatch.stack.up import StackPorts, plan_stack, write_state
from gatewatch.standins.server import Inbox, create_app, start_smtp


def up(
    demo: Annotated[bool, typer.Option(help="Also run the load generator against the gateway")] = (
        False
    ),
    time_scale: Annotated[
        float, typer.Option(min=1.0, help="Shrink every alert duration and interval (drills: 60)")
    ] = 1.0,
    data: Annotated[Path, typer.Option(help="Where configs, state and logs live")] = Path(
        ".gatewatch"
    ),
    free_ports: Annotated[
        bool, typer.Option(help="Pick free loopback ports instead of 8080/8787/9090/9093")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Start the reference gateway, gatewatch, Alertmanager and Prometheus on loopback."""
    ports = StackPorts.free() if free_ports else StackPorts()
    try:
        components = plan_stack(data, ports, time_scale, demo, read_config(config).rules)
    except GatewatchError as exc:
        fail(exc)
    supervisor = Supervisor(components, on_change=lambda: write_state(data, components))

    def stop(signum: int, _frame: FrameType | None) -> None:
        supervisor.stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        with out.status("starting the stack…"):
            supervisor.start_all()
    except GatewatchError as exc:
        supervisor.stop_all()
        fail(exc)
    write_state(data, components)
    table = titled_table(
        "gatewatch up" + (f" (time-scale {time_scale:g})" if time_scale > 1 else ""),
        "component",
        "url",
        "pid",
        "log",
    )
    for component in components:
        table.add_row(
            component.name, component.url or "-", str(component.pid), str(component.log_file)
        )
    out.print(table)
    console = next(c.url for c in components if c.name == "gatewatch")
    out.print(
        f"console: {console}/ui/ (sign in with the token in {data / 'admin.token'}) · "
        f"state: {data / 'stack.json'} · Ctrl-C stops everything"
    )
    supervisor.watch()
    supervisor.stop_all()
    out.print("stack stopped")


def standins(
    listen: Annotated[str, typer.Option(help="host:port for the Slack and PagerDuty stand-ins")] = (
        "127.0.0.1:8025"
    ),
    smtp_port: Annotated[int, typer.Option(min=1, max=65535, help="SMTP sink port")] = 2525,
    record: Annotated[Path | None, typer.Option(help="Append what is received (JSON Lines)")] = (
        None
    ),
) -> None:
    """Stand in for Slack, PagerDuty and a mail server on loopback (demos and drills)."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        fail(GatewatchError(f"--listen {listen!r} is not host:port", hint="e.g. 127.0.0.1:8025"))
    inbox = Inbox(record)
    smtp = start_smtp(inbox, host, smtp_port)
    try:
        uvicorn.run(create_app(inbox), host=host, port=int(port), log_level="warning")
    finally:
        smtp.stop()


def compose(
    out_dir: Annotated[Path, typer.Option("--out")] = Path("deploy/docker-compose"),
    config: ConfigOption = None,
) -> None:
    """Write deploy/docker-compose/ (compose file and the configs it mounts)."""
    try:
        written = write_compose(out_dir, read_config(config).rules)
    except GatewatchError as exc:
        fail(exc)
    out.print(
        f"wrote {len(written)} files under {out_dir}; put the ingest token in "
        f"{out_dir / 'ingest.token'} and set the variables the compose file names"
    )
