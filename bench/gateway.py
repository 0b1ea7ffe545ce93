"""How much one gateway process holds on this machine: idle connections and message rate.

1. Idle connections: a client process opens connections in steps until `--connections`;
   the gateway's resident memory is read from /proc before and after.
2. Message rate: `imgateway load` in a second process at rising rates; the highest rate
   whose client-side p99 stays under the seed SLO of 200 ms with no loss is reported.
Run with `.venv/bin/python -m bench.gateway`.
"""

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from tests.support.gateway import SECRET, GatewayProcess
from websockets.asyncio.client import ClientConnection, connect

from imgateway.auth import make_token

console = Console()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def hold_connections(url: str, count: int, pid: int) -> tuple[int, float]:
    """Open `count` idle connections; returns how many succeeded and the gateway's RSS."""
    sockets: list[ClientConnection] = []
    failures = 0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("idle connections", total=count)
        for first in range(0, count, 250):
            batch = range(first, min(first + 250, count))

            async def one(n: int) -> ClientConnection | None:
                token = make_token(f"idle-{n}", SECRET, 3600, time.time())
                try:
                    return await connect(
                        f"{url}?token={token}", open_timeout=30, ping_interval=None
                    )
                except (OSError, TimeoutError):
                    return None

            opened = await asyncio.gather(*(one(n) for n in batch))
            sockets += [s for s in opened if s is not None]
            failures += sum(1 for s in opened if s is None)
            progress.advance(task, len(batch))
    await asyncio.sleep(1)
    memory = rss_mib(pid)
    for socket in sockets:
        await socket.close()
    return len(sockets), memory


def run_rate(url: str, rate: int, users: int, seconds: int, report: Path) -> dict[str, object]:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "imgateway",
            "load",
            "--url",
            url,
            "--users",
            str(users),
            "--rate",
            str(rate),
            "--duration",
            f"{seconds}s",
            "--jwt-secret",
            SECRET,
            "--report",
            str(report),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        timeout=seconds * 6,
    )
    result: dict[str, object] = json.loads(report.read_text())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--rates", default="500,1000,2000,3000,4000,5000,6000")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("bench/results/gateway.json"))
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory(prefix="imgateway-bench-") as temp:
        gateway = GatewayProcess(Path(temp)).start()
        assert gateway.process is not None
        try:
            baseline = rss_mib(gateway.process.pid)
            held, memory = asyncio.run(
                hold_connections(gateway.ws_url, args.connections, gateway.process.pid)
            )
            per_connection_kib = (memory - baseline) * 1024 / max(held, 1)
            rates = []
            for rate in (int(r) for r in args.rates.split(",")):
                with console.status(f"{rate} msgs/s for {args.seconds}s"):
                    result = run_rate(
                        gateway.ws_url,
                        rate,
                        args.users,
                        args.seconds,
                        Path(temp) / f"rate-{rate}.json",
                    )
                latency = result["latency_ms"]
                assert isinstance(latency, dict)
                achieved = int(result["sent"]) / args.seconds  # type: ignore[call-overload]
                rates.append(
                    {
                        "target": rate,
                        "achieved": round(achieved),
                        "p99_ms": latency.get("p99"),
                        "lost": result["lost"],
                    }
                )
                if latency.get("p99", 1e9) > 200 or result["lost"]:
                    break
        finally:
            gateway.stop()
    table = Table(title="imgateway on this machine")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("idle connections held", f"{held:,} of {args.connections:,}")
    table.add_row("memory per idle connection", f"{per_connection_kib:.1f} KiB")
    table.add_row("gateway RSS with them", f"{memory:.0f} MiB (baseline {baseline:.0f})")
    for row in rates:
        table.add_row(
            f"load at {row['target']} msgs/s",
            f"achieved {row['achieved']}, p99 {row['p99_ms']} ms, lost {row['lost']}",
        )
    console.print(table)
    good = [r for r in rates if (r["p99_ms"] or 1e9) <= 200 and not r["lost"]]
    best = max((int(r["achieved"]) for r in good), default=0)
    console.print(f"highest rate with p99 <= 200 ms and no loss: [bold]{best}[/] msgs/s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "connections": held,
                "per_connection_kib": per_connection_kib,
                "rss_mib": memory,
                "rates": rates,
                "best": best,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
