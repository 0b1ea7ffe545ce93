"""SIGKILL the server mid-stream: every alert that got a 2xx is in the store after restart."""

import threading
from pathlib import Path

import httpx
import pytest

from gatewatch.client import GatewatchClient
from tests.support.auth import TOKEN_CONFIG, TOKENS
from tests.support.payloads import webhook, webhook_alert
from tests.support.processes import GatewatchProcess

pytestmark = pytest.mark.slow

ALERTS_PER_REQUEST = 20
SENDERS = 4


def test_every_acknowledged_alert_survives_sigkill(tmp_path: Path) -> None:
    server = GatewatchProcess(
        tmp_path,
        {"auth": {"tokens": TOKEN_CONFIG}, "storage": {"url": f"sqlite:///{tmp_path}/gw.db"}},
    ).start()
    accepted: set[str] = set()
    failures: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()
    stop = threading.Event()

    def sender(worker: int) -> None:
        headers = {"Authorization": f"Bearer {TOKENS['ingest']}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=5) as client:
            batch = 0
            while not stop.is_set():
                names = [f"w{worker}-b{batch}-a{i}" for i in range(ALERTS_PER_REQUEST)]
                body = webhook(
                    [webhook_alert({"alertname": "Load", "id": n}) for n in names],
                    group_key=f"w{worker}-b{batch}",
                )
                batch += 1
                try:
                    response = client.post("/api/v1/webhooks/alertmanager", json=body)
                except httpx.HTTPError as exc:
                    failures.append(type(exc).__name__)
                    continue
                if response.status_code == 200:
                    with lock:
                        accepted.update(names)
                        if len(accepted) >= 400 * ALERTS_PER_REQUEST // 10:
                            enough.set()

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    assert enough.wait(timeout=60), "the server accepted too little before the kill"
    server.kill()
    stop.set()
    for thread in threads:
        thread.join()
    assert failures, "requests were still in flight when the server was killed"

    server.start()
    try:
        with GatewatchClient(server.url, TOKENS["viewer"]) as client:
            found = client.alerts(['alertname="Load"'], "all")
        stored = {alert["labels"]["id"] for alert in found}
        assert accepted <= stored, f"{len(accepted - stored)} accepted alerts were lost"
        # Whole batches or nothing: every stored alert belongs to a complete batch.
        batches: dict[str, int] = {}
        for name in stored:
            key = name.rsplit("-", 1)[0]
            batches[key] = batches.get(key, 0) + 1
        assert set(batches.values()) == {ALERTS_PER_REQUEST}
    finally:
        server.stop()
