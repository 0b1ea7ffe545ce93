"""The `imgateway` command: serve the gateway, mint a token, or put load on it."""

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from imgateway.app import GatewaySettings, create_gateway
from imgateway.auth import make_token
from imgateway.loadgen import run_load

app = typer.Typer(
    help="The reference IM gateway (WebSocket) and its load generator.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
DEFAULT_SECRET = "imgateway-dev-secret-change-me-0123456789"
Secret = Annotated[
    str,
    typer.Option(
        "--jwt-secret", envvar="IMGATEWAY_JWT_SECRET", help="HS256 secret for client tokens"
    ),
]


def _seconds(text: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", text)
    if not match:
        raise typer.BadParameter(f"{text!r}: use e.g. 500ms, 30s or 2m")
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0}[match.group(2)]
    return float(match.group(1)) * scale


def _listen(text: str) -> str:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise typer.BadParameter(f"expected host:port, got {text!r}")
    return text


@app.command()
def serve(
    listen: Annotated[str, typer.Option(callback=_listen)] = "127.0.0.1:8080",
    jwt_secret: Secret = DEFAULT_SECRET,
    redis: Annotated[str | None, typer.Option(help="redis://… for deduplication")] = None,
    store: Annotated[str, typer.Option(help="Offline store URL (SQLite or PostgreSQL)")] = (
        "sqlite:///.imgateway/offline.db"
    ),
    enable_test_endpoints: Annotated[
        bool,
        typer.Option(
            help="Expose /test/latency, /test/failure-rate, /test/cache-miss, /test/reset"
        ),
    ] = False,
    ack_timeout: Annotated[str, typer.Option(help="Wait this long for a recipient's ACK")] = "5s",
    breaker_threshold: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Open the breaker by itself above this failure rate"),
    ] = 0.05,
    log_level: str = "warning",
) -> None:
    """Run the gateway: /ws, /health, /stats, /metrics, /admin/*."""
    settings = GatewaySettings(
        jwt_secret=jwt_secret,
        store_url=store,
        redis_url=redis,
        test_endpoints=enable_test_endpoints,
        ack_timeout=_seconds(ack_timeout),
        breaker_threshold=breaker_threshold,
    )
    host, _, port = listen.rpartition(":")
    uvicorn.run(
        create_gateway(settings),
        host=host,
        port=int(port),
        log_level=log_level,
        access_log=False,
        ws_max_queue=64,
    )


@app.command()
def token(
    user: Annotated[str, typer.Argument(help="User id (the token's sub)")],
    jwt_secret: Secret = DEFAULT_SECRET,
    lifetime: Annotated[str, typer.Option(help="e.g. 1m, 3600s")] = "3600s",
) -> None:
    """Print a client token for USER."""
    typer.echo(make_token(user, jwt_secret, int(_seconds(lifetime)), time.time()))


@app.command()
def load(
    url: Annotated[str, typer.Option(help="ws://host:port/ws")] = "ws://127.0.0.1:8080/ws",
    users: Annotated[int, typer.Option(min=2)] = 100,
    rate: Annotated[float, typer.Option(min=0.1, help="messages per second, all users")] = 100,
    duration: Annotated[str, typer.Option(help="e.g. 30s, 2m")] = "30s",
    jwt_secret: Secret = DEFAULT_SECRET,
    report: Annotated[Path | None, typer.Option(help="Write the report as JSON")] = None,
) -> None:
    """Simulated users send to random peers and ACK what they receive; then a report."""
    seconds = _seconds(duration)
    total = int(rate * seconds)
    with Progress(
        TextColumn("[bold]load"),
        BarColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("connecting", total=total)

        def update(sent: int, delivered: int, p99: float | None) -> None:
            p99_text = f"{p99:.1f} ms" if p99 is not None else "-"
            progress.update(
                task,
                completed=min(sent, total),
                description=f"sent {sent}  delivered {delivered}  p99 {p99_text}",
            )

        result = asyncio.run(run_load(url, users, rate, seconds, jwt_secret, update))
    table = Table(title="load report", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.to_json().items():
        if key != "latency_ms":
            table.add_row(key, str(value))
    for key, value in result.latency_ms.items():
        table.add_row(f"latency {key}", f"{value} ms")
    console.print(table)
    if report is not None:
        report.write_text(json.dumps(result.to_json(), indent=2))
    if result.lost or result.connection_errors:
        raise typer.Exit(1)
