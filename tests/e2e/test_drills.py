"""Every shipped drill passes on the real binaries at time-scale 60, and a drill whose
expectation is wrong fails naming the step that missed."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.drills import REQUIRED

pytestmark = pytest.mark.slow

DRILL_TIMEOUT = 900


def _drill(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gatewatch", "drill", *args],
        capture_output=True,
        text=True,
        timeout=DRILL_TIMEOUT,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def _hop(drill: dict[str, Any], prefix: str) -> dict[str, Any]:
    return next(hop for hop in drill["hops"] if hop["step"].startswith(prefix))


def test_all_drills_pass_and_report_each_hop(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = _drill("--all", "--time-scale", "60", "--report", str(report), "--data", str(tmp_path))
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]
    drills = {d["name"]: d for d in json.loads(report.read_text())}
    assert list(drills) == REQUIRED
    for drill in drills.values():
        assert drill["passed"] and drill["error"] is None
        assert all(hop["ok"] and hop["at"] is not None for hop in drill["hops"])
    latency = drills["latency"]
    chain = ["Prometheus: HighMessageDeliveryLatency pending", "Prometheus: HighMessage"]
    assert [h["step"][: len(c)] for h, c in zip(latency["hops"][1:3], chain, strict=True)] == chain
    assert _hop(latency, "gatewatch: incident triggered")["detail"].endswith("P1, policy page-p1")
    loss = drills["loss"]
    assert _hop(loss, "gateway: circuit_breaker=open")["ok"]
    assert _hop(loss, "gateway: lost stays put")["ok"]
    escalation = drills["escalation"]
    alice, bob = _hop(escalation, "page: alice"), _hop(escalation, "page: bob")
    assert bob["at"] - alice["at"] >= 14  # the policy's second step: 15m / 60
    assert "acknowledged by bob" in _hop(escalation, "ack: bob")["detail"]
    assert "resolve on email, pagerduty, slack" in _hop(drills["gateway-down"], "notify")["detail"]
    assert "Drills" not in result.stderr and "drills" in result.stdout


WRONG = """\
name: wrong-severity
summary: expects the gateway-down page to be a P2, which it is not
alert: IMGatewayServiceDown
steps:
  - inject: {stop: gateway}
  - expect_alert: firing
  - expect_incident: {severity: P2}
  - clear: faults
"""


def test_a_wrong_expectation_fails_naming_the_step(tmp_path: Path) -> None:
    (tmp_path / "drills").mkdir()
    (tmp_path / "drills" / "wrong.yml").write_text(WRONG)
    result = _drill("--all", "--scenarios", str(tmp_path / "drills"), "--data", str(tmp_path / "s"))
    assert result.returncode == 1
    assert "✗" in result.stdout and "gatewatch: incident triggered (P2)" in result.stdout
    assert "drill wrong-severity: incident #" in result.stderr
    assert "critical, policy page-now; expected P2" in result.stderr
