"""A real Alertmanager delivers its webhook to a real gatewatch; incidents follow its alerts."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.auth import TOKEN_CONFIG, TOKENS
from tests.support.payloads import iso
from tests.support.processes import AlertmanagerProcess, GatewatchProcess, webhook_to_gatewatch
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

VIEWER = {"Authorization": f"Bearer {TOKENS['viewer']}"}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[AlertmanagerProcess, GatewatchProcess]]:
    gatewatch = GatewatchProcess(
        tmp_path,
        {
            "auth": {"tokens": TOKEN_CONFIG},
            "storage": {"url": f"sqlite:///{tmp_path}/gw.db"},
        },
    ).start()
    alertmanager = AlertmanagerProcess(
        tmp_path, webhook_to_gatewatch(gatewatch.url, ["alertname"])
    ).start()
    yield alertmanager, gatewatch
    alertmanager.stop()
    gatewatch.stop()


def _incidents(gatewatch: GatewatchProcess) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = httpx.get(
        f"{gatewatch.url}/api/v1/incidents", headers=VIEWER
    ).json()["items"]
    return items


def test_alertmanager_webhook_opens_and_resolves_an_incident(
    stack: tuple[AlertmanagerProcess, GatewatchProcess],
) -> None:
    alertmanager, gatewatch = stack
    labels = [
        {
            "alertname": "IMGatewayServiceDown",
            "severity": "critical",
            "service": "im-gateway",
            "instance": f"gw-{n}:8080",
        }
        for n in (1, 2)
    ]
    start = datetime.now(UTC) - timedelta(seconds=5)
    posted = httpx.post(
        f"{alertmanager.url}/api/v2/alerts",
        json=[
            {"labels": lab, "annotations": {"summary": "IM gateway down"}, "startsAt": iso(start)}
            for lab in labels
        ],
    )
    assert posted.status_code == 200

    [incident] = eventually(
        lambda: [
            i
            for i in _incidents(gatewatch)
            if len(
                httpx.get(f"{gatewatch.url}/api/v1/incidents/{i['id']}", headers=VIEWER).json()[
                    "alerts"
                ]
            )
            == 2
        ]
    )
    assert (incident["severity"], incident["title"], incident["status"]) == (
        "critical",
        "IM gateway down",
        "triggered",
    )
    assert incident["group_labels"] == {"alertname": "IMGatewayServiceDown"}

    # gatewatch's fingerprints are Alertmanager's own.
    am_fingerprints = {
        a["fingerprint"] for a in httpx.get(f"{alertmanager.url}/api/v2/alerts").json()
    }
    detail = httpx.get(f"{gatewatch.url}/api/v1/incidents/{incident['id']}", headers=VIEWER).json()
    assert {a["fingerprint"] for a in detail["alerts"]} == am_fingerprints

    ended = datetime.now(UTC)
    httpx.post(
        f"{alertmanager.url}/api/v2/alerts",
        json=[{"labels": lab, "startsAt": iso(start), "endsAt": iso(ended)} for lab in labels],
    ).raise_for_status()
    resolved = eventually(lambda: [i for i in _incidents(gatewatch) if i["status"] == "resolved"])
    assert resolved[0]["id"] == incident["id"]
    assert resolved[0]["resolved_by"] == "alertmanager"
