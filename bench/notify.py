"""Ingest-to-notification latency and escalation-timer lateness, against Alertmanager.

1 000 alerts, each its own incident (and its own Alertmanager group), are pushed at once
to gatewatch and to a real Alertmanager; both deliver a webhook to the same local sink.
gatewatch's policy then has ten more steps per incident, due 20-29 s later, so 10 000
escalation timers are pending at once; their lateness (ran minus due) is read afterwards.
Run with `.venv/bin/python -m bench.notify`.
"""

import argparse
import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from tests.support.processes import AlertmanagerProcess, GatewatchProcess
from tests.support.standins import HttpStandIn

TOKEN = "bench-ingest-token-0123456789"
answered: dict[str, float] = {}
STEPS = 10
QUIET = 100
console = Console()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)]


class Sink:
    """Records when each alert's first notification arrived, per sender."""

    def __init__(self) -> None:
        self.arrivals: dict[str, dict[str, float]] = {"gw": {}, "am": {}}

        async def handle(request: Request) -> Response:
            arrived = time.time()
            body = json.loads(await request.body())
            if "alerts" in body:  # Alertmanager's webhook
                for alert in body["alerts"]:
                    self.arrivals["am"].setdefault(alert["labels"]["id"], arrived)
            else:
                self.arrivals["gw"].setdefault(body["labels"]["id"], arrived)
            return PlainTextResponse("ok")

        self.server = HttpStandIn(handle, "/hook").start()


async def push(
    url: str, headers: dict[str, str], count: int, batch: int, label: str
) -> dict[str, float]:
    """Send `count` alerts, `batch` per request, all requests at once."""
    sent: dict[str, float] = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(label, total=count)
        async with httpx.AsyncClient(timeout=120) as client:

            async def send(first: int) -> None:
                ids = [f"a{n}" for n in range(first, min(first + batch, count))]
                alerts = [
                    {
                        "labels": {"alertname": "BenchDown", "id": key, "severity": "critical"},
                        "annotations": {"summary": f"bench {key}"},
                    }
                    for key in ids
                ]
                started = time.time()
                sent.update(dict.fromkeys(ids, started))
                response = await client.post(url, json=alerts, headers=headers)
                response.raise_for_status()
                answered[label] = max(answered.get(label, 0.0), time.time() - started)
                progress.advance(task, len(ids))

            await asyncio.gather(*(send(first) for first in range(0, count, batch)))
    return sent


async def trickle(url: str, headers: dict[str, str], count: int) -> dict[str, float]:
    """One alert at a time, 50 ms apart: latency when nothing queues."""
    sent: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=30) as client:
        for n in range(count):
            key = f"t{n}"
            alert = [
                {
                    "labels": {"alertname": "BenchTrickle", "id": key, "severity": "critical"},
                    "annotations": {"summary": f"trickle {n}"},
                }
            ]
            sent[key] = time.time()
            (await client.post(url, json=alert, headers=headers)).raise_for_status()
            await asyncio.sleep(0.05)
    return sent


def wait_for(check: Any, timeout: float, label: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"{label}: not done within {timeout}s")
        time.sleep(0.2)


def gatewatch_config(workdir: Path, sink_url: str) -> dict[str, Any]:
    return {
        "storage": {"url": f"sqlite:///{workdir}/bench.db"},
        "auth": {"tokens": [{"name": "bench", "role": "ingest", "token": TOKEN}]},
        "people": [{"id": "alice", "name": "Alice"}],
        "channels": [
            {
                "id": "hook",
                "type": "webhook",
                "url": sink_url,
                "rate_per_second": 100000,
                "burst": 100000,
            }
        ],
        "severities": [{"name": "critical", "channels": ["hook"]}],
        "default_severity": "critical",
        "policies": {
            "bench": {
                "steps": [{"after": "0s", "targets": ["person:alice"]}]
                + [{"after": f"{20 + n}s", "targets": ["person:alice"]} for n in range(STEPS)]
            }
        },
        "routes": [
            {"name": "all", "matchers": [], "group_by": ["alertname", "id"], "policy": "bench"}
        ],
        "scheduler": {"poll_interval": "100ms"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100, help="alerts per request")
    parser.add_argument("--out", type=Path, default=Path("bench/results/notify.json"))
    parser.add_argument("--keep-log", type=Path, help="copy gatewatch's log here")
    args = parser.parse_args()
    sink = Sink()
    hook = sink.server.url
    with tempfile.TemporaryDirectory(prefix="gatewatch-bench-") as temp:
        workdir = Path(temp)
        alertmanager = AlertmanagerProcess(
            workdir,
            {
                "route": {
                    "receiver": "sink",
                    "group_by": ["alertname", "id"],
                    "group_wait": "0s",
                    "group_interval": "1s",
                    "repeat_interval": "1h",
                },
                "receivers": [
                    {"name": "sink", "webhook_configs": [{"url": hook, "send_resolved": False}]}
                ],
            },
        ).start()
        gatewatch = GatewatchProcess(workdir, gatewatch_config(workdir, hook)).start()
        try:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            am_quiet = asyncio.run(trickle(f"{alertmanager.url}/api/v2/alerts", {}, QUIET))
            gw_quiet = asyncio.run(trickle(f"{gatewatch.url}/api/v2/alerts", auth, QUIET))
            wait_for(lambda: len(sink.arrivals["gw"]) >= QUIET, 60, "gatewatch trickle")
            am_sent = asyncio.run(
                push(
                    f"{alertmanager.url}/api/v2/alerts",
                    {},
                    args.incidents,
                    args.batch,
                    "alertmanager",
                )
            )
            wait_for(lambda: len(sink.arrivals["am"]) >= args.incidents + QUIET, 60, "alertmanager")
            began = time.time()
            gw_sent = asyncio.run(
                push(
                    f"{gatewatch.url}/api/v2/alerts",
                    {"Authorization": f"Bearer {TOKEN}"},
                    args.incidents,
                    args.batch,
                    "gatewatch",
                )
            )
            wait_for(lambda: len(sink.arrivals["gw"]) >= args.incidents + QUIET, 60, "gatewatch")
            first_wave = time.time() - began
            database = sqlite3.connect(workdir / "bench.db")
            pending = database.execute(
                "SELECT count(*) FROM timers WHERE status = 'pending'"
            ).fetchone()[0]
            total = (args.incidents + QUIET) * (STEPS + 1)
            wait_for(
                lambda: (
                    database.execute(
                        "SELECT count(*) FROM notifications WHERE status = 'delivered'"
                    ).fetchone()[0]
                    >= total
                ),
                180,
                "escalation steps",
            )
            rows = database.execute(
                "SELECT due_at, done_at FROM timers WHERE status = 'done'"
            ).fetchall()
            lateness = [
                (datetime.fromisoformat(done) - datetime.fromisoformat(due)).total_seconds()
                for due, done in rows
            ]
            span = database.execute(
                "SELECT min(created_at), max(delivered_at) FROM notifications"
            ).fetchone()
            seconds = (
                datetime.fromisoformat(span[1]) - datetime.fromisoformat(span[0])
            ).total_seconds()
        finally:
            gatewatch.stop()
            alertmanager.stop()
            sink.server.stop()
            if args.keep_log:
                args.keep_log.write_bytes(gatewatch.log.read_bytes())

    def latencies(sent: dict[str, float], arrived: dict[str, float]) -> list[float]:
        return [(arrived[key] - sent[key]) * 1000 for key in sent if key in arrived]

    gw_ms = latencies(gw_sent, sink.arrivals["gw"])
    am_ms = latencies(am_sent, sink.arrivals["am"])
    quiet = {
        "am": latencies(am_quiet, sink.arrivals["am"]),
        "gw": latencies(gw_quiet, sink.arrivals["gw"]),
    }
    table = Table(title=f"ingest→notification, {args.batch} alerts per request")
    for column in ("target", "p50 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="left" if column == "target" else "right")
    rows = (
        (f"{QUIET} one at a time: alertmanager (group_wait 0s)", quiet["am"]),
        (f"{QUIET} one at a time: gatewatch", quiet["gw"]),
        (f"{args.incidents} at once: alertmanager (group_wait 0s)", am_ms),
        (f"{args.incidents} at once: gatewatch", gw_ms),
    )
    for name, values in rows:
        table.add_row(
            name,
            f"{statistics.median(values):.1f}",
            f"{percentile(values, 0.99):.1f}",
            f"{max(values):.1f}",
        )
    console.print(table)
    console.print(
        f"ingest→notification p99 ratio gatewatch/alertmanager: "
        f"[bold]{percentile(gw_ms, 0.99) / percentile(am_ms, 0.99):.2f}[/]"
    )
    console.print(
        f"first wave: {args.incidents} pages in {first_wave:.2f}s; {pending} timers pending at once"
    )
    console.print(f"all {total} notifications: {total / seconds:.0f} notifications/s")
    console.print(
        f"timer lateness: p50 {statistics.median(lateness) * 1000:.0f} ms, "
        f"p99 {percentile(lateness, 0.99) * 1000:.0f} ms, "
        f"max {max(lateness) * 1000:.0f} ms over {len(lateness)} timers"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(),
                "incidents": args.incidents,
                "quiet_gatewatch_ms": {
                    "p50": statistics.median(quiet["gw"]),
                    "p99": percentile(quiet["gw"], 0.99),
                },
                "quiet_alertmanager_ms": {
                    "p50": statistics.median(quiet["am"]),
                    "p99": percentile(quiet["am"], 0.99),
                },
                "gatewatch_ms": {"p50": statistics.median(gw_ms), "p99": percentile(gw_ms, 0.99)},
                "alertmanager_ms": {
                    "p50": statistics.median(am_ms),
                    "p99": percentile(am_ms, 0.99),
                },
                "timers_pending": pending,
                "notifications_per_second": total / seconds,
                "timer_lateness_s": {
                    "p50": statistics.median(lateness),
                    "p99": percentile(lateness, 0.99),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
