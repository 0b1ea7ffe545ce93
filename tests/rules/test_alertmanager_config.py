"""The generated alertmanager.yml passes amtool and routes the way the seeds say."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gatewatch.rules.promtool import run_tool

TOKEN = "ingest-token-0123456789"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("am")
    config = folder / "gatewatch.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "external_url": "http://gatewatch.internal:8787",
                "auth": {"tokens": [{"name": "am", "role": "ingest", "token": TOKEN}]},
                "fallback": {
                    "email_to": ["oncall@im.example"],
                    "email_from": "alertmanager@im.example",
                    "smarthost": "smtp.im.example:587",
                    "pagerduty_routing_key": "R" * 32,
                },
            }
        )
    )
    out = folder / "alertmanager.yml"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gatewatch",
            "alertmanager-config",
            "--config",
            str(config),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env={**os.environ},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return out


def test_amtool_accepts_it(generated: Path) -> None:
    assert "SUCCESS" in run_tool("amtool", "check-config", str(generated))


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["alertname=IMGatewayServiceDown", "severity=critical"], "gatewatch-critical"),
        (["alertname=SLOBurn", "severity=critical", "slo=availability"], "gatewatch-slo"),
        (["alertname=HighMessageDeliveryLatency", "severity=P1"], "gatewatch-p1"),
        (["alertname=HighAckTimeoutRate", "severity=P2"], "gatewatch-warning"),
        (["alertname=LowCacheHitRate", "severity=warning"], "gatewatch-warning"),
        (
            ["alertname=HighDiskUsage", "team=infrastructure", "severity=info"],
            "gatewatch-infrastructure",
        ),
        (["alertname=DeploymentCompleted", "severity=info"], "gatewatch"),
        (["alertname=Watchdog", "severity=none"], "gatewatch-heartbeat"),
        # gatewatch cannot page about itself: its own outage bypasses it.
        (["alertname=GatewatchDown", "severity=critical"], "fallback"),
    ],
)
def test_routes_follow_the_seed_trees(generated: Path, labels: list[str], receiver: str) -> None:
    answer = run_tool("amtool", "config", "routes", "test", f"--config.file={generated}", *labels)
    assert answer.splitlines()[-1] == receiver


def test_timings_webhook_token_and_inhibition(generated: Path) -> None:
    config = yaml.safe_load(generated.read_text())
    route = config["route"]
    assert (
        route["group_by"],
        route["group_wait"],
        route["group_interval"],
        route["repeat_interval"],
    ) == (["alertname", "severity", "team"], "30s", "5m", "4h")
    critical = next(r for r in route["routes"] if r["receiver"] == "gatewatch-critical")
    assert (critical["group_wait"], critical["repeat_interval"]) == ("0s", "30m")
    webhook = config["receivers"][0]["webhook_configs"][0]
    assert webhook["url"] == "http://gatewatch.internal:8787/api/v1/webhooks/alertmanager"
    assert webhook["http_config"]["authorization"] == {"type": "Bearer", "credentials": TOKEN}
    assert webhook["send_resolved"] is True
    assert config["inhibit_rules"] == [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["alertname", "instance"],
        }
    ]
    assert stat.S_IMODE(generated.stat().st_mode) == 0o600


def test_without_an_ingest_token_it_says_how_to_fix_it(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gatewatch", "alertmanager-config"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 1
    assert "no ingest token" in result.stderr and "role ingest" in result.stderr


def test_the_fallback_receiver_pages_without_gatewatch(generated: Path) -> None:
    config = yaml.safe_load(generated.read_text())
    fallback = next(r for r in config["receivers"] if r["name"] == "fallback")
    assert "webhook_configs" not in fallback
    assert fallback["email_configs"][0]["to"] == "oncall@im.example"
    assert fallback["email_configs"][0]["smarthost"] == "smtp.im.example:587"
    assert fallback["pagerduty_configs"][0]["routing_key"] == "R" * 32
