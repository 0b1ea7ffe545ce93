"""Every panel of every shipped dashboard returns data on a running stack: `gatewatch up`
with traffic, a delivery fault, refused connections, an acknowledged and a resolved incident,
then `gatewatch dashboards --check` runs each panel's PromQL against its Prometheus."""

import asyncio
import contextlib
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from gatewatch.dashboards.catalogue import all_dashboards
from gatewatch.dashboards.queries import annotation_queries, panel_queries
from tests.support.stack import answers, stack_state
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


async def _refused_connections(ws_url: str, count: int) -> None:
    for _ in range(count):
        with contextlib.suppress(WebSocketException):
            async with connect(f"{ws_url}?token=not-a-token") as socket:
                await socket.recv()


FAILURES = (
    'im_gateway_messages_delivered_total{status="failed"}',
    'im_gateway_searches_total{index_type="messages",status="failed"}',
    'im_gateway_conversations_created_total{status="failed"}',
)


def _every_kind_failed(gateway: str) -> bool:
    """The delivery fault has failed a delivery, a search and a conversation at least once."""
    lines = httpx.get(f"{gateway}/metrics").text.splitlines()
    return all(any(line.startswith(f"{kind} ") for line in lines) for kind in FAILURES)


def _incidents(api: httpx.Client) -> list[dict[str, Any]]:
    response = api.get("/api/v1/incidents")
    response.raise_for_status()
    incidents: list[dict[str, Any]] = response.json()["items"]
    return incidents


def _check(out: Path, prometheus: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gatewatch", "dashboards", "--out", str(out), "--check", prometheus],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "400", "PATH": "/usr/bin:/bin"},
    )


def test_every_panel_returns_data_on_the_running_stack(tmp_path: Path) -> None:
    data = tmp_path / "data"
    command = [sys.executable, "-m", "gatewatch", "up", "--demo", "--free-ports"]
    with (tmp_path / "up.log").open("wb") as log:
        up = subprocess.Popen(
            [*command, "--time-scale", "60", "--data", str(data)], stdout=log, stderr=log
        )
    try:
        state = eventually(lambda: stack_state(data), timeout=90, what="stack up")
        gateway, prometheus = state["gateway"]["url"], state["prometheus"]["url"]
        eventually(lambda: answers(f"{prometheus}/-/ready"), timeout=60, what="Prometheus ready")
        token = (data / "admin.token").read_text().strip()
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=state["gatewatch"]["url"], headers=headers) as api:
            httpx.post(f"{gateway}/test/failure-rate", params={"rate": "0.3"}).raise_for_status()
            ws_url = gateway.replace("http://", "ws://") + "/ws"
            asyncio.run(_refused_connections(ws_url, 5))
            triggered = eventually(
                lambda: [i for i in _incidents(api) if i["status"] == "triggered"],
                timeout=180,
                what="an incident from the delivery fault",
            )
            api.post(f"/api/v1/incidents/{triggered[0]['id']}/ack", json={}).raise_for_status()
            eventually(lambda: _every_kind_failed(gateway), timeout=60, what="each kind failed")
            httpx.post(f"{gateway}/test/reset").raise_for_status()
            eventually(
                lambda: any(i["status"] == "resolved" for i in _incidents(api)),
                timeout=180,
                what="an incident resolved",
            )
        runs: list[subprocess.CompletedProcess[str]] = []

        def every_panel_answers() -> bool:
            runs.append(_check(tmp_path / "dashboards", prometheus))
            return runs[-1].returncode == 0

        try:
            eventually(every_panel_answers, timeout=180, what="every panel query answered")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the last check said:\n{runs[-1].stderr}") from None
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=60)
    queries = sum(len([*panel_queries(d), *annotation_queries(d)]) for d in all_dashboards())
    assert f"{queries} of {queries} queries answered with data" in runs[-1].stdout
