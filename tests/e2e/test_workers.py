"""`gatewatch serve --workers 2` on PostgreSQL: two processes on one address, each running
ingest, timers and delivery against the same database, page every step of every incident
exactly once."""

import uuid
from pathlib import Path

import httpx
import pytest

from tests.support.auth import TOKENS
from tests.support.paging import WEBHOOK_SECRET, step_of, step_storm_config
from tests.support.postgres import PostgresCluster
from tests.support.processes import GatewatchProcess
from tests.support.standins import webhook_sink
from tests.support.waiting import eventually

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

INCIDENTS = 200
STEP_AFTER = (0, 2)


def test_two_worker_processes_page_each_step_once(
    tmp_path: Path, postgres_cluster: PostgresCluster
) -> None:
    sink = webhook_sink(WEBHOOK_SECRET).start()
    database = postgres_cluster.create_database(f"w_{uuid.uuid4().hex[:12]}")
    config = step_storm_config(database, sink.url, STEP_AFTER)
    server = GatewatchProcess(tmp_path, config, workers=2).start()
    try:
        assert server.process is not None
        eventually(lambda: len(_children(server.process.pid)) == 2, 30, "two worker processes")
        headers = {"Authorization": f"Bearer {TOKENS['ingest']}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            for first in range(0, INCIDENTS, 20):  # 10 requests, spread over both processes
                alerts = [
                    {"labels": {"alertname": "Storm", "id": f"i{n}"}}
                    for n in range(first, first + 20)
                ]
                client.post("/api/v2/alerts", json=alerts).raise_for_status()
        eventually(
            lambda: len({step_of(r) for r in list(sink.received)}) == 2 * INCIDENTS,
            60,
            "every step of every incident at the receiver",
        )
    finally:
        server.stop()
        sink.stop()
    steps = [step_of(received) for received in sink.received]
    assert sorted(steps) == sorted({(f"i{n}", s) for n in range(INCIDENTS) for s in (0, 1)})


def _children(pid: int) -> list[int]:
    """uvicorn's worker processes: spawned children of `pid` (not its resource tracker)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            is_child = f"PPid:\t{pid}" in status.read_text().splitlines()
            command = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if is_child and b"spawn_main" in command:
            found.append(int(status.parent.name))
    return found
