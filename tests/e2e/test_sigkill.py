"""SIGKILL the server mid-stream: every alert that got a 2xx is in the store after restart."""

import threading
from pathlib import Path

import httpx
import pytest

from gatewatch.client import GatewatchClient
from tests.support.auth import TOKEN_CONFIG, TOKENS
from tests.support.paging import WEBHOOK_SECRET, step_of, step_storm_config
from tests.support.payloads import webhook, webhook_alert
from tests.support.processes import GatewatchProcess
from tests.support.standins import webhook_sink
from tests.support.waiting import eventually

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


# -- a kill in the middle of a timer batch and of deliveries -------------------------------

INCIDENTS = 300
STEP_AFTER = (0, 3, 12)  # seconds; the lease (2 s) lets a restarted server take over between


def test_a_kill_mid_timer_batch_pages_every_step_once(tmp_path: Path) -> None:
    """SIGKILL while step 2 of 300 incidents is being run and delivered: after a restart,
    every step of every incident reaches the receiver; a repeat is only a send that was in
    flight at the kill, and then it carries the same delivery id (the receiver can drop it)."""
    sink = webhook_sink(WEBHOOK_SECRET).start()
    config = step_storm_config(
        f"sqlite:///{tmp_path}/gw.db", sink.url, STEP_AFTER, claim_lease="2s"
    )
    server = GatewatchProcess(tmp_path, config).start()
    try:
        alerts = [{"labels": {"alertname": "Storm", "id": f"i{n}"}} for n in range(INCIDENTS)]
        headers = {"Authorization": f"Bearer {TOKENS['ingest']}"}
        for first in range(0, INCIDENTS, 100):
            httpx.post(
                f"{server.url}/api/v2/alerts",
                json=alerts[first : first + 100],
                headers=headers,
                timeout=30,
            ).raise_for_status()

        def steps_arrived(step: int) -> int:
            return sum(1 for r in list(sink.received) if r["body"]["step"] == step)

        eventually(lambda: steps_arrived(1) > 0, 30, "the first page of step 2")
        server.kill()
        assert steps_arrived(1) < INCIDENTS, "the kill came after step 2 was done"
        server.start()
        eventually(
            lambda: len({step_of(r) for r in list(sink.received)}) == 3 * INCIDENTS,
            60,
            "every step of every incident at the receiver",
        )
    finally:
        server.stop()
        sink.stop()
    deliveries: dict[tuple[str, int], set[str]] = {}
    for received in sink.received:
        deliveries.setdefault(step_of(received), set()).add(
            received["headers"]["x-gatewatch-delivery"]
        )
    expected = {(f"i{n}", step) for n in range(INCIDENTS) for step in range(3)}
    assert set(deliveries) == expected
    assert all(len(ids) == 1 for ids in deliveries.values()), "a step was paged twice"
