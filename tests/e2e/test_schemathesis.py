"""Schemathesis against /openapi.json of a real `gatewatch serve`, on SQLite and PostgreSQL:
a few thousand generated requests (bounded, seeded), and not one may answer 5xx, an
undocumented status or media type, or a body that breaks the documented schema."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.auth import TOKEN_CONFIG, TOKENS, auth
from tests.support.payloads import webhook, webhook_alert
from tests.support.processes import GatewatchProcess

pytestmark = pytest.mark.slow
ST = Path(sys.executable).parent / "st"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    ]
)


@pytest.mark.parametrize(
    "store", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_the_api_keeps_its_documented_contract(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path}/gw.db"
    if store == "postgresql":
        url = request.getfixturevalue("postgres_cluster").create_database("schemathesis")
    config = {
        "storage": {"url": url},
        "auth": {"tokens": TOKEN_CONFIG},
        "slo": {"enabled": False},
        "people": [{"id": "alice"}],
        "schedules": [
            {
                "id": "primary",
                "layers": [{"rotation": ["alice"], "shift": "1w", "handoff": "2026-11-02T09:00"}],
            }
        ],
    }
    server = GatewatchProcess(tmp_path, config).start()
    try:
        # Something to read and act on besides 404s.
        body = webhook([webhook_alert({"alertname": "Seeded", "severity": "critical"})])
        seeded = httpx.post(
            f"{server.url}/api/v1/webhooks/alertmanager", json=body, headers=auth("ingest")
        )
        assert seeded.status_code == 200
        result = subprocess.run(
            [
                str(ST),
                "run",
                f"{server.url}/openapi.json",
                "-H",
                f"Authorization: Bearer {TOKENS['admin']}",
                "--checks",
                CHECKS,
                "--max-examples",
                "25",
                "--seed",
                "20261202",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        summary = result.stdout[-6000:]
        assert result.returncode == 0, summary + result.stderr[-2000:]
        assert " passed" in summary and "failures" not in summary.lower().split("test cases")[-1]
    finally:
        server.stop()
