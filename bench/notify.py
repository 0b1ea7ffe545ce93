"""The storm, escalation lateness and delivery rate, side by side with a real Alertmanager.

Every figure is read at the receiving end: a webhook sink in a process of its own
(`bench/sink.py`) stamps each arrival. The phases:
1. the sink's own capacity (so the delivery figure is not the sink's limit);
2. 100 alerts one at a time, 50 ms apart, to both: latency when nothing queues;
3. the storm: 1 000 alerts at once (10 requests of 100), each its own incident and its own
   Alertmanager group: time from the first request until the last first page arrives;
4. escalation: each incident has ten more steps due 20-29 s after it opened (10 000 steps
   due within 10 s): lateness at the sink, arrival minus the step's due time;
5. delivery: incidents that page ten people each at once: notifications per second;
6. with `--pending N`, N more timers left pending (steps an hour away): the server's memory
   before and after.
Run with `.venv/bin/python -m bench.notify [--database postgresql] [--workers N]`.
"""

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from rich.console import Console
from rich.table import Table
from tests.support.postgres import PostgresCluster
from tests.support.processes import AlertmanagerProcess, GatewatchProcess, LoopbackProcess

TOKEN = "bench-ingest-token-0123456789"
STEPS = 10
FIRST_STEP_AFTER = 20  # seconds; step n (1..10) is due 19 + n seconds after the incident
QUIET = 100
FANOUT_PEOPLE = 10
console = Console()


class SinkProcess(LoopbackProcess):
    log_name = "sink.log"

    def command(self) -> list[str]:
        return [sys.executable, str(Path(__file__).with_name("sink.py")), str(self.port)]

    def arrivals(self) -> list[list[Any]]:
        return list(httpx.get(f"{self.url}/arrivals", timeout=30).json())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)]


def alerts(prefix: str, first: int, count: int, alertname: str) -> list[dict[str, Any]]:
    return [
        {
            "labels": {"alertname": alertname, "id": f"{prefix}{n}", "severity": "critical"},
            "annotations": {"summary": f"bench {prefix}{n}"},
        }
        for n in range(first, first + count)
    ]


async def push(
    url: str, headers: dict[str, str], bodies: list[list[dict[str, Any]]]
) -> tuple[float, float]:
    """Send all bodies at once; return when the first left and when the last was answered."""
    async with httpx.AsyncClient(timeout=300) as client:
        began = time.time()
        responses = await asyncio.gather(
            *(client.post(url, json=body, headers=headers) for body in bodies)
        )
        answered = time.time()
    for response in responses:
        response.raise_for_status()
    return began, answered


async def trickle(url: str, headers: dict[str, str], prefix: str) -> dict[str, float]:
    """One alert at a time, 50 ms apart: latency when nothing queues."""
    sent: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=30) as client:
        for n in range(QUIET):
            sent[f"{prefix}{n}"] = time.time()
            body = alerts(prefix, n, 1, "BenchTrickle")
            (await client.post(url, json=body, headers=headers)).raise_for_status()
            await asyncio.sleep(0.05)
    return sent


async def sink_capacity(url: str, requests: int = 5000, in_flight: int = 64) -> float:
    body = json.dumps(alerts("c", 0, 1, "Capacity")[0]).encode()
    limit = asyncio.Semaphore(in_flight)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight)) as session:

        async def one() -> None:
            async with limit, session.post(url, data=body) as response:
                await response.read()

        began = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(requests)))
        return requests / (time.perf_counter() - began)


def wait_until(check: Any, timeout: float, label: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"{label}: not done within {timeout}s")
        time.sleep(0.5)


def rss_mib(process: GatewatchProcess) -> float:
    assert process.process is not None
    status = Path(f"/proc/{process.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def timers_pending(process: GatewatchProcess) -> int:
    metrics = httpx.get(f"{process.url}/metrics", timeout=30).text
    line = next(
        line for line in metrics.splitlines() if line.startswith("gatewatch_timers_pending")
    )
    return int(float(line.split()[-1]))


def gatewatch_config(storage: str, sink_url: str) -> dict[str, Any]:
    people = [{"id": f"p{n}", "name": f"Person {n}"} for n in range(FANOUT_PEOPLE)]
    steps_later = [
        {"after": f"{FIRST_STEP_AFTER - 1 + n}s", "targets": ["person:p0"]}
        for n in range(1, STEPS + 1)
    ]
    return {
        "storage": {"url": storage},
        "auth": {"tokens": [{"name": "bench", "role": "ingest", "token": TOKEN}]},
        "people": people,
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
            "bench": {"steps": [{"after": "0s", "targets": ["person:p0"]}, *steps_later]},
            "fanout": {
                "steps": [{"after": "0s", "targets": [f"person:{p['id']}" for p in people]}]
            },
            "quiet": {
                "steps": [{"after": f"{n + 1}h", "targets": ["person:p0"]} for n in range(STEPS)]
            },
        },
        "routes": [
            {
                "name": "fanout",
                "matchers": ['alertname="BenchFanout"'],
                "group_by": ["alertname", "id"],
                "policy": "fanout",
            },
            {
                "name": "quiet",
                "matchers": ['alertname="BenchQuiet"'],
                "group_by": ["alertname", "id"],
                "policy": "quiet",
            },
            {"name": "all", "matchers": [], "group_by": ["alertname", "id"], "policy": "bench"},
        ],
        "scheduler": {"poll_interval": "100ms"},
    }


@contextmanager
def storage_url(database: str, workdir: Path) -> Iterator[str]:
    if database == "sqlite":
        yield f"sqlite:///{workdir}/bench.db"
        return
    cluster = PostgresCluster(fsync=True).start()
    try:
        yield cluster.create_database("bench")
    finally:
        cluster.destroy()


def by_sender(arrivals: list[list[Any]], sender: str, prefix: str) -> list[list[Any]]:
    return [a for a in arrivals if a[0] == sender and a[1].startswith(prefix)]


def first_arrivals(arrivals: list[list[Any]]) -> dict[str, float]:
    first: dict[str, float] = {}
    for arrival in arrivals:
        first[arrival[1]] = min(first.get(arrival[1], arrival[5]), arrival[5])
    return first


def step_lateness(arrivals: list[list[Any]]) -> list[float]:
    """Arrival minus due time for every escalation step (not the first page)."""
    late = []
    for _, _, step, triggered_at, _, arrived in arrivals:
        if step:
            due = datetime.fromisoformat(triggered_at).timestamp() + FIRST_STEP_AFTER - 1 + step
            late.append(arrived - due)
    return late


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100, help="alerts per request")
    parser.add_argument("--fanout", type=int, default=500, help="incidents paging ten people")
    parser.add_argument("--pending", type=int, default=0, help="extra timers left pending")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", type=int, default=1, help="gatewatch serve --workers")
    parser.add_argument("--out", type=Path, default=Path("bench/results/notify.json"))
    parser.add_argument("--keep-log", type=Path, help="copy gatewatch's log here")
    args = parser.parse_args()
    results: dict[str, Any] = {"when": datetime.now(UTC).isoformat(), "args": vars(args)}
    results["args"] = {k: str(v) for k, v in vars(args).items()}
    with tempfile.TemporaryDirectory(prefix="gatewatch-bench-") as temp:
        workdir = Path(temp)
        sink = SinkProcess(workdir).start()
        hook = f"{sink.url}/hook"
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
        with storage_url(args.database, workdir) as storage:
            gatewatch = GatewatchProcess(
                workdir, gatewatch_config(storage, hook), workers=args.workers
            ).start()
            try:
                run(args, results, sink, alertmanager, gatewatch)
            finally:
                gatewatch.stop()
                alertmanager.stop()
                sink.stop()
                if args.keep_log:
                    args.keep_log.write_bytes(gatewatch.log.read_bytes())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))


def run(
    args: argparse.Namespace,
    results: dict[str, Any],
    sink: SinkProcess,
    alertmanager: AlertmanagerProcess,
    gatewatch: GatewatchProcess,
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    am_url, gw_url = f"{alertmanager.url}/api/v2/alerts", f"{gatewatch.url}/api/v2/alerts"
    with console.status("sink capacity"):
        results["sink_capacity_per_s"] = asyncio.run(sink_capacity(f"{sink.url}/capacity"))
    with console.status("one at a time"):
        quiet_am = asyncio.run(trickle(am_url, {}, "qa"))
        quiet_gw = asyncio.run(trickle(gw_url, auth, "qg"))
        wait_until(lambda: len(by_sender(sink.arrivals(), "gw", "qg")) >= QUIET, 60, "trickle")
    storm = [
        alerts("s", first, min(args.batch, args.incidents - first), "BenchDown")
        for first in range(0, args.incidents, args.batch)
    ]
    with console.status("storm: alertmanager"):
        am_began, am_answered = asyncio.run(push(am_url, {}, storm))
        wait_until(lambda: len(by_sender(sink.arrivals(), "am", "s")) >= args.incidents, 60, "am")
    with console.status("storm: gatewatch"):
        gw_began, gw_answered = asyncio.run(push(gw_url, auth, storm))
        wait_until(lambda: len(by_sender(sink.arrivals(), "gw", "s")) >= args.incidents, 120, "gw")
    results["storm_all_answered_s"] = {"am": am_answered - am_began, "gw": gw_answered - gw_began}
    results["timers_pending_after_storm"] = timers_pending(gatewatch)
    expected = (args.incidents + QUIET) * (STEPS + 1)
    with console.status(f"escalation: {args.incidents * STEPS} steps due within 10 s"):
        wait_until(
            lambda: (
                len(by_sender(sink.arrivals(), "gw", "s"))
                + len(by_sender(sink.arrivals(), "gw", "qg"))
                >= expected
            ),
            240,
            "escalation steps",
        )
    fanout = [
        alerts("f", first, min(args.batch, args.fanout - first), "BenchFanout")
        for first in range(0, args.fanout, args.batch)
    ]
    with console.status(f"delivery: {args.fanout * FANOUT_PEOPLE} notifications"):
        asyncio.run(push(gw_url, auth, fanout))
        total = args.fanout * FANOUT_PEOPLE
        wait_until(lambda: len(by_sender(sink.arrivals(), "gw", "f")) >= total, 240, "fanout")
    arrivals = sink.arrivals()
    if args.pending:
        results["rss_mib_before_pending"] = rss_mib(gatewatch)
        quiet = [
            alerts("p", first, min(args.batch, args.pending // STEPS - first), "BenchQuiet")
            for first in range(0, args.pending // STEPS, args.batch)
        ]
        with console.status(f"{args.pending} more timers pending"):
            for chunk in range(0, len(quiet), 10):
                asyncio.run(push(gw_url, auth, quiet[chunk : chunk + 10]))
        results["timers_pending_most"] = timers_pending(gatewatch)
        results["rss_mib_with_pending"] = rss_mib(gatewatch)
        time.sleep(10)
        results["rss_mib_10s_later"] = rss_mib(gatewatch)
    report(args, results, arrivals, quiet_am, quiet_gw, am_began, gw_began)


def report(
    args: argparse.Namespace,
    results: dict[str, Any],
    arrivals: list[list[Any]],
    quiet_am: dict[str, float],
    quiet_gw: dict[str, float],
    am_began: float,
    gw_began: float,
) -> None:
    def latencies(sent: dict[str, float], prefix: str, sender: str) -> list[float]:
        first = first_arrivals(by_sender(arrivals, sender, prefix))
        return [(first[key] - sent[key]) * 1000 for key in sent]

    quiet = {"am": latencies(quiet_am, "qa", "am"), "gw": latencies(quiet_gw, "qg", "gw")}
    storm = {
        "am": max(first_arrivals(by_sender(arrivals, "am", "s")).values()) - am_began,
        "gw": max(first_arrivals(by_sender(arrivals, "gw", "s")).values()) - gw_began,
    }
    late = step_lateness(by_sender(arrivals, "gw", "s"))
    fan = [a[5] for a in by_sender(arrivals, "gw", "f")]
    rate = (len(fan) - 1) / (max(fan) - min(fan))
    deliveries = [a[4] for a in by_sender(arrivals, "gw", "")]
    results |= {
        "quiet_ms": {
            k: {"p50": statistics.median(v), "p99": percentile(v, 0.99)} for k, v in quiet.items()
        },
        "storm_last_first_page_s": storm,
        "storm_ratio": storm["gw"] / storm["am"],
        "step_lateness_s": {
            "p50": statistics.median(late),
            "p99": percentile(late, 0.99),
            "max": max(late),
        },
        "notifications_per_s": rate,
        "repeated_deliveries": len(deliveries) - len(set(deliveries)),
    }
    table = Table(
        title=f"storm, escalation and delivery ({args.database}, {args.workers} worker(s))"
    )
    table.add_column("measure")
    table.add_column("alertmanager", justify="right")
    table.add_column("gatewatch", justify="right")
    table.add_column("ratio gw/am", justify="right")
    table.add_row(
        f"{QUIET} alerts one at a time: p50 / p99 ms",
        f"{statistics.median(quiet['am']):.1f} / {percentile(quiet['am'], 0.99):.1f}",
        f"{statistics.median(quiet['gw']):.1f} / {percentile(quiet['gw'], 0.99):.1f}",
        "",
    )
    table.add_row(
        f"storm: {args.incidents} at once, last first page (s)",
        f"{storm['am']:.2f}",
        f"{storm['gw']:.2f}",
        f"{storm['gw'] / storm['am']:.2f}",
    )
    answered = results["storm_all_answered_s"]
    table.add_row(
        "storm: all 10 requests answered (s)",
        f"{answered['am']:.2f}",
        f"{answered['gw']:.2f}",
        f"{answered['gw'] / answered['am']:.2f}",
    )
    table.add_row(
        f"{len(late)} steps due within 10 s: lateness at the sink p50 / p99 / max (ms)",
        "",
        f"{statistics.median(late) * 1000:.0f} / {percentile(late, 0.99) * 1000:.0f} / "
        f"{max(late) * 1000:.0f}",
        "",
    )
    table.add_row(
        f"delivery: {len(fan)} notifications, per second",
        "",
        f"{rate:.0f}",
        f"sink: {results['sink_capacity_per_s']:.0f}/s",
    )
    table.add_row(
        "timers pending after the storm", "", str(results["timers_pending_after_storm"]), ""
    )
    if "rss_mib_with_pending" in results:
        table.add_row(
            f"memory (RSS MiB): before / {results['timers_pending_most']} pending / 10 s later",
            "",
            f"{results['rss_mib_before_pending']:.0f} / {results['rss_mib_with_pending']:.0f} / "
            f"{results['rss_mib_10s_later']:.0f}",
            "",
        )
    table.add_row("deliveries received twice", "", str(results["repeated_deliveries"]), "")
    console.print(table)


if __name__ == "__main__":
    main()
