"""The CLI against a running server: list, show, acknowledge; errors are one line plus a hint."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.auth import TOKEN_CONFIG, TOKENS
from tests.support.cli import gatewatch
from tests.support.payloads import LOSS_LABELS, webhook, webhook_alert
from tests.support.ports import free_port, wait_for_port
from tests.support.processes import GatewatchProcess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewatchProcess]:
    workdir = tmp_path_factory.mktemp("cli")
    process = GatewatchProcess(
        workdir,
        {"auth": {"tokens": TOKEN_CONFIG}, "storage": {"url": f"sqlite:///{workdir}/gw.db"}},
    ).start()
    body = webhook(
        [webhook_alert(LOSS_LABELS, annotations={"summary": "Message loss above 0.01%"})]
    )
    httpx.post(
        f"{process.url}/api/v1/webhooks/alertmanager",
        json=body,
        headers={"Authorization": f"Bearer {TOKENS['ingest']}"},
    ).raise_for_status()
    yield process
    process.stop()


def test_incidents_table_and_json(server: GatewatchProcess) -> None:
    table = gatewatch("incidents", "--url", server.url, token=TOKENS["viewer"])
    assert table.returncode == 0, table.stderr
    assert "Message loss above 0.01%" in table.stdout
    assert "triggered" in table.stdout
    as_json = gatewatch("incidents", "--json", "--url", server.url, token=TOKENS["viewer"])
    assert json.loads(as_json.stdout)["items"][0]["severity"] == "critical"


def test_alerts_lists_firing_alerts_by_severity(server: GatewatchProcess) -> None:
    result = gatewatch(
        "alerts", "--url", server.url, "--filter", 'severity="critical"', token=TOKENS["viewer"]
    )
    assert result.returncode == 0, result.stderr
    assert "HighMessageLossRate" in result.stdout
    assert "gw-1:8080" in result.stdout


def test_ack_changes_state_and_timeline_names_who(server: GatewatchProcess) -> None:
    incident_id = json.loads(
        gatewatch("incidents", "--json", "--url", server.url, token=TOKENS["viewer"]).stdout
    )["items"][0]["id"]
    acked = gatewatch(
        "ack",
        str(incident_id),
        "--note",
        "checking kafka",
        "--url",
        server.url,
        token=TOKENS["responder"],
    )
    assert acked.returncode == 0, acked.stderr
    assert f"incident #{incident_id} acknowledged by responder-alice" in acked.stdout
    detail = gatewatch("incident", str(incident_id), "--url", server.url, token=TOKENS["viewer"])
    assert "Acknowledged by responder-alice" in detail.stdout
    assert "checking kafka" in detail.stdout
    again = gatewatch("ack", str(incident_id), "--url", server.url, token=TOKENS["responder"])
    assert again.returncode == 1
    assert "HTTP 409" in again.stderr and "already acknowledged by responder-alice" in again.stderr


def test_bad_token_is_one_line_and_a_hint(server: GatewatchProcess) -> None:
    result = gatewatch("incidents", "--url", server.url, token="not-a-valid-token-at-all")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: HTTP 401: invalid bearer token",
        "hint: pass --token or set GATEWATCH_TOKEN",
    ]


def test_unreachable_server_says_how_to_fix_it(tmp_path: Path) -> None:
    result = gatewatch("incidents", "--url", "http://127.0.0.1:9", token="x", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach gatewatch at http://127.0.0.1:9")
    assert "hint: start it with `gatewatch serve`" in result.stderr


def test_config_check_reports_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "gatewatch.yml"
    config.write_text("routes:\n  - name: p1\n    matchers: ['severity=P1']\n    policy: ghost\n")
    result = gatewatch("config", "check", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert f"{config}:4: routes[0].policy: unknown policy 'ghost'" in result.stderr
    example = Path(__file__).parents[2] / "deploy" / "gatewatch.example.yml"
    ok = subprocess.run(
        [sys.executable, "-m", "gatewatch", "config", "check", str(example)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "GATEWATCH_INGEST_TOKEN": "i" * 20},
    )
    assert ok.returncode == 0, ok.stderr
    assert "5 routes" in ok.stdout


def test_serve_with_a_bad_config_exits_with_the_error(tmp_path: Path) -> None:
    config = tmp_path / "gatewatch.yml"
    config.write_text("listen: nowhere\n")
    result = gatewatch("serve", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert f"{config}:1: listen: expected host:port, got 'nowhere'" in result.stderr


def test_serve_without_config_makes_a_private_admin_token(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gatewatch", "serve", "--listen", f"127.0.0.1:{port}"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        token_file = tmp_path / ".gatewatch" / "admin.token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert (tmp_path / ".gatewatch" / "gatewatch.db").exists()
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/api/v1/incidents").status_code == 401
        # The CLI falls back to the token file in the working directory.
        listed = gatewatch("incidents", "--url", url, cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        assert "0 incidents" in listed.stdout
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_postmortem_and_report(server: GatewatchProcess, tmp_path: Path) -> None:
    labels = {"alertname": "IMGatewayServiceDown", "severity": "critical", "service": "im-gw"}
    opened = httpx.post(
        f"{server.url}/api/v1/webhooks/alertmanager",
        json=webhook([webhook_alert(labels)], group_key="down"),
        headers={"Authorization": f"Bearer {TOKENS['ingest']}"},
    ).json()["incidents_opened"][0]
    httpx.post(
        f"{server.url}/api/v1/incidents/{opened}/ack",
        headers={"Authorization": f"Bearer {TOKENS['responder']}"},
    ).raise_for_status()
    out_file = tmp_path / "review.md"
    written = gatewatch(
        "postmortem",
        str(opened),
        "--out",
        str(out_file),
        "--url",
        server.url,
        token=TOKENS["viewer"],
    )
    assert written.returncode == 0, written.stderr
    review = out_file.read_text()
    assert review.startswith(f"# Post-incident review: #{opened}")
    assert "by responder-alice" in review and "## Action items" in review
    printed = gatewatch("postmortem", str(opened), "--url", server.url, token=TOKENS["viewer"])
    assert printed.stdout == review
    report = gatewatch("report", "--since", "30d", "--url", server.url, token=TOKENS["viewer"])
    assert report.returncode == 0, report.stderr
    row = next(line for line in report.stdout.splitlines() if "im-gw" in line)
    assert row.split("│")[1].strip() == "critical" and row.split("│")[4].strip() == "1"
    as_json = json.loads(
        gatewatch("report", "--json", "--url", server.url, token=TOKENS["viewer"]).stdout
    )
    assert any(r["service"] == "im-gw" and r["acknowledged"] == 1 for r in as_json)
    missing = gatewatch("postmortem", "99999", "--url", server.url, token=TOKENS["viewer"])
    assert missing.returncode == 1 and "incident 99999 does not exist" in missing.stderr


def test_escalate_says_what_it_did_or_why_not(server: GatewatchProcess) -> None:
    """The server has no policy with steps: escalation refuses with the reason and a hint."""
    body = webhook([webhook_alert({"alertname": "Escalate", "severity": "P1"})], group_key="e")
    opened = httpx.post(
        f"{server.url}/api/v1/webhooks/alertmanager",
        json=body,
        headers={"Authorization": f"Bearer {TOKENS['ingest']}"},
    )
    incident_id = opened.json()["incidents_opened"][0]
    result = gatewatch("escalate", str(incident_id), "--url", server.url, token=TOKENS["responder"])
    assert result.returncode == 1
    assert "HTTP 409" in result.stderr and "no further step" in result.stderr


def test_ack_takes_several_ids(server: GatewatchProcess) -> None:
    for n in range(3):
        httpx.post(
            f"{server.url}/api/v1/webhooks/alertmanager",
            json=webhook([webhook_alert({"alertname": f"Many{n}"})], group_key=f"many{n}"),
            headers={"Authorization": f"Bearer {TOKENS['ingest']}"},
        ).raise_for_status()
    opened = json.loads(
        gatewatch("incidents", "--json", "--url", server.url, token=TOKENS["viewer"]).stdout
    )["items"]
    ids = [str(item["id"]) for item in opened if item["title"].startswith("Many")]
    assert len(ids) == 3
    acked = gatewatch("ack", *ids, "--url", server.url, token=TOKENS["responder"])
    assert acked.returncode == 0, acked.stderr
    assert "3 incidents acknowledged" in acked.stdout
