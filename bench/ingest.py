"""Ingest throughput and latency: gatewatch (SQLite, durable) against a real Alertmanager.

Both receive the same `POST /api/v2/alerts` batches in the same run, from the same client:
new alerts, repeats and resolutions over 10 000 distinct label sets. Run with
`make bench` or `.venv/bin/python -m bench.ingest [--batches N] [--concurrency N]`.
"""

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from tests.support.postgres import PostgresCluster
from tests.support.processes import AlertmanagerProcess, GatewatchProcess

TOKEN = "bench-ingest-token-0123456789"
console = Console()


@dataclass
class RunResult:
    target: str
    alerts: int
    seconds: float
    alerts_per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int


def workload(distinct: int, batch_size: int, batches: int) -> list[list[dict[str, Any]]]:
    """New alerts first, then a mix where every third batch resolves what it names."""
    now = datetime.now(UTC)
    bodies = []
    for index in range(batches):
        first = (index * batch_size) % distinct
        resolving = index >= distinct // batch_size and index % 3 == 2
        alerts = []
        for offset in range(batch_size):
            n = (first + offset) % distinct
            alert: dict[str, Any] = {
                "labels": {
                    "alertname": f"Bench{n % 50}",
                    "instance": f"gw-{n}:8080",
                    "severity": ("critical", "P1", "P2", "warning")[n % 4],
                    "service": "im-gateway",
                    "cluster": f"c{n % 7}",
                },
                "annotations": {"summary": f"bench alert {n}", "description": "load"},
                "startsAt": (now - timedelta(minutes=10)).isoformat(),
                "generatorURL": "http://prometheus:9090/graph",
            }
            if resolving:
                alert["endsAt"] = (now - timedelta(seconds=1)).isoformat()
            alerts.append(alert)
        bodies.append(alerts)
    return bodies


async def drive(
    target: str,
    url: str,
    headers: dict[str, str],
    bodies: list[list[dict[str, Any]]],
    concurrency: int,
) -> RunResult:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(json.dumps(body).encode())
    limits = httpx.Limits(max_connections=concurrency)
    headers = {**headers, "content-type": "application/json"}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"{target}", total=len(bodies))
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:

            async def worker() -> None:
                nonlocal errors
                while not queue.empty():
                    body = queue.get_nowait()
                    started = time.perf_counter()
                    response = await client.post(url, content=body, headers=headers)
                    latencies.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        errors += 1
                    progress.advance(task)

            began = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - began
    alerts = sum(len(b) for b in bodies)
    ordered = sorted(latencies)
    return RunResult(
        target=target,
        alerts=alerts,
        seconds=round(elapsed, 3),
        alerts_per_second=round(alerts / elapsed),
        errors=errors,
        p50_ms=round(statistics.median(ordered) * 1000, 2),
        p99_ms=round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
        max_ms=round(ordered[-1] * 1000, 2),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--distinct", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", type=int, default=1, help="gatewatch serve --workers")
    parser.add_argument("--out", type=Path, default=Path("bench/results/ingest.json"))
    args = parser.parse_args()
    bodies = workload(args.distinct, args.batch_size, args.batches)
    warmup = workload(200, args.batch_size, 4)

    with tempfile.TemporaryDirectory(prefix="gatewatch-bench-") as temp:
        workdir = Path(temp)
        alertmanager = AlertmanagerProcess(
            workdir,
            {
                "route": {"receiver": "null", "group_wait": "1h"},
                "receivers": [{"name": "null"}],
            },
        ).start()
        cluster = PostgresCluster(fsync=True).start() if args.database == "postgresql" else None
        storage = cluster.create_database("bench") if cluster else f"sqlite:///{workdir}/bench.db"
        gatewatch = GatewatchProcess(
            workdir,
            {
                "storage": {"url": storage},
                "auth": {"tokens": [{"name": "bench", "role": "ingest", "token": TOKEN}]},
            },
            workers=args.workers,
        ).start()
        try:
            targets = [
                ("alertmanager (memory)", f"{alertmanager.url}/api/v2/alerts", {}),
                (
                    f"gatewatch ({args.database}, fsync, {args.workers} worker(s))",
                    f"{gatewatch.url}/api/v2/alerts",
                    {"Authorization": f"Bearer {TOKEN}"},
                ),
            ]
            results = []
            for name, url, headers in targets:
                asyncio.run(drive(name, url, headers, warmup, args.concurrency))
                results.append(asyncio.run(drive(name, url, headers, bodies, args.concurrency)))
        finally:
            gatewatch.stop()
            alertmanager.stop()
            if cluster is not None:
                cluster.destroy()

    table = Table(
        title=f"ingest: {args.batches} batches x {args.batch_size} alerts, "
        f"{args.distinct} label sets, concurrency {args.concurrency}"
    )
    for column in ("target", "alerts/s", "p50 ms", "p99 ms", "max ms", "errors"):
        table.add_column(column, justify="right" if column != "target" else "left")
    for result in results:
        table.add_row(
            result.target,
            f"{result.alerts_per_second:,}",
            str(result.p50_ms),
            str(result.p99_ms),
            str(result.max_ms),
            str(result.errors),
        )
    console.print(table)
    ratio = results[1].alerts_per_second / results[0].alerts_per_second
    console.print(f"gatewatch / alertmanager throughput ratio: [bold]{ratio:.2f}[/]")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "args": vars(args) | {"out": str(args.out)},
                "results": [asdict(r) for r in results],
                "ratio": round(ratio, 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
