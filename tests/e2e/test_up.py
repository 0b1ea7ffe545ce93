"""`gatewatch up` brings the whole chain up on loopback, restarts what dies, stops it all."""

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.stack import answers, stack_state
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


def _healthy_targets(prometheus: str) -> list[dict[str, Any]] | None:
    """The scrape targets once all four are up, else None."""
    try:
        targets = httpx.get(f"{prometheus}/api/v1/targets", timeout=2).json()["data"][
            "activeTargets"
        ]
    except httpx.HTTPError:
        return None
    up = [t for t in targets if t["health"] == "up"]
    return up if len(up) == 4 else None


def _restarted_gateway(data: Path) -> dict[str, Any] | None:
    gateway: dict[str, Any] = stack_state(data).get("gateway", {})
    return gateway if gateway.get("restarts") == 1 else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_up_runs_supervises_and_stops_the_stack(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with (tmp_path / "up.log").open("wb") as log:
        up = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gatewatch",
                "up",
                "--free-ports",
                "--time-scale",
                "60",
                "--data",
                str(data),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        state = eventually(lambda: stack_state(data), timeout=90, what="stack up")
        assert set(state) == {"gateway", "gatewatch", "alertmanager", "prometheus"}
        prometheus = state["prometheus"]["url"]
        targets = eventually(
            lambda: _healthy_targets(prometheus), timeout=30, what="all four targets scraped"
        )
        assert {t["labels"]["job"] for t in targets} == {
            "im-gateway",
            "gatewatch",
            "alertmanager",
            "prometheus",
        }
        groups = httpx.get(f"{prometheus}/api/v1/rules").json()["data"]["groups"]
        assert any(g["name"] == "im-gateway" for g in groups)
        assert any(g["name"].startswith("slo-im-gateway") for g in groups)
        # Alertmanager's webhook points at this gatewatch with its ingest token.
        am_config = (data / "alertmanager.yml").read_text()
        assert state["gatewatch"]["url"] + "/api/v1/webhooks/alertmanager" in am_config

        first = state["gateway"]["pid"]
        os.kill(first, signal.SIGKILL)
        restarted = eventually(
            lambda: _restarted_gateway(data), timeout=30, what="gateway restarted"
        )
        assert restarted["pid"] != first
        eventually(
            lambda: answers(f"{restarted['url']}/health"), timeout=30, what="gateway healthy again"
        )
        pids = [c["pid"] for c in stack_state(data).values()]
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=60)
    assert up.returncode == 0
    assert not [pid for pid in pids if _alive(pid)], "components outlived `gatewatch up`"
    assert "stack stopped" in (tmp_path / "up.log").read_text()
