"""Several `gatewatch serve` replicas on one PostgreSQL, as in production: behind a
two-node Alertmanager cluster whose gossip has not converged (so both send every group),
with a replica killed while it holds work, and with PostgreSQL restarted under load."""

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.auth import TOKENS
from tests.support.paging import WEBHOOK_SECRET, step_of, step_storm_config
from tests.support.postgres import PostgresCluster
from tests.support.processes import AlertmanagerProcess, GatewatchProcess, webhook_to_gatewatch
from tests.support.standins import HttpStandIn, webhook_sink
from tests.support.waiting import eventually

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

INGEST = {"Authorization": f"Bearer {TOKENS['ingest']}"}


def _dir(tmp_path: Path, name: str) -> Path:
    workdir = tmp_path / name
    workdir.mkdir()
    return workdir


def _replica(tmp_path: Path, name: str, config: dict[str, Any]) -> GatewatchProcess:
    return GatewatchProcess(_dir(tmp_path, name), config)


def _deliveries(*sinks: HttpStandIn) -> dict[tuple[str, int], list[str]]:
    """Each (alert id, step) received, with the delivery id of every arrival."""
    found: dict[tuple[str, int], list[str]] = {}
    for sink in sinks:
        for received in list(sink.received):
            found.setdefault(step_of(received), []).append(
                received["headers"]["x-gatewatch-delivery"]
            )
    return found


# -- two Alertmanagers, each sending every group to its own replica ------------------------

GROUPS = 300
CLUSTER_STEPS = (0, 3)


def test_an_alertmanager_pair_storm_through_two_replicas_pages_each_step_once(
    tmp_path: Path, postgres_cluster: PostgresCluster
) -> None:
    sink = webhook_sink(WEBHOOK_SECRET).start()
    database = postgres_cluster.create_database(f"r_{uuid.uuid4().hex[:12]}")
    config = step_storm_config(database, sink.url, CLUSTER_STEPS)
    replicas = [_replica(tmp_path, name, config).start() for name in ("gw-a", "gw-b")]
    first = AlertmanagerProcess(
        _dir(tmp_path, "am-a"),
        webhook_to_gatewatch(replicas[0].url, ["id"]),
        peers=[],
        peer_timeout="0s",
    )
    second = AlertmanagerProcess(
        _dir(tmp_path, "am-b"),
        webhook_to_gatewatch(replicas[1].url, ["id"]),
        peers=[first.cluster_address],
        peer_timeout="0s",
    )
    alertmanagers = [first.start(), second.start()]
    try:
        eventually(
            lambda: all(am.cluster_peers() == 2 for am in alertmanagers), 30, "a two-node cluster"
        )
        # Like Prometheus, the storm goes to every Alertmanager of the cluster.
        alerts = [{"labels": {"alertname": "Storm", "id": f"i{n}"}} for n in range(GROUPS)]
        for alertmanager in alertmanagers:
            httpx.post(f"{alertmanager.url}/api/v2/alerts", json=alerts).raise_for_status()
        eventually(
            lambda: len(_deliveries(sink)) == GROUPS * len(CLUSTER_STEPS),
            90,
            "every step of every group at the receiver",
        )
        time.sleep(1)  # a second chance for a duplicate page to show up
        sent = [am.notifications_sent() for am in alertmanagers]
    finally:
        for process in [*alertmanagers, *replicas]:
            process.stop()
        sink.stop()
    assert all(sent) and sum(sent) > GROUPS, f"no duplicate senders, nothing proven: {sent}"
    deliveries = _deliveries(sink)
    assert set(deliveries) == {(f"i{n}", s) for n in range(GROUPS) for s in (0, 1)}
    assert all(len(ids) == 1 for ids in deliveries.values()), "a step was paged twice"


# -- a replica killed while it holds claimed work ------------------------------------------

INCIDENTS = 300
KILL_STEPS = (0, 3, 10)


def test_a_killed_replica_s_work_is_taken_over_and_done_once(
    tmp_path: Path, postgres_cluster: PostgresCluster
) -> None:
    """Each replica sends to a receiver of its own, so the receiver tells who sent what. The
    killed replica's receiver answers slowly: at the kill it has sends in flight and claimed
    rows. The survivor does all of that once its leases run out; a repeat is only a send
    that was in flight at the kill, and carries the same delivery id."""
    doomed_sink = webhook_sink(WEBHOOK_SECRET).start()
    doomed_sink.plan.delay = 1.0
    survivor_sink = webhook_sink(WEBHOOK_SECRET).start()
    database = postgres_cluster.create_database(f"k_{uuid.uuid4().hex[:12]}")

    def config(sink: HttpStandIn) -> dict[str, Any]:
        """Short leases: timers 2 s, sends 2 s + 2 s + 5 s of slack."""
        storm = step_storm_config(database, sink.url, KILL_STEPS, claim_lease="2s")
        return {**storm, "delivery": {"timeout": "2s"}}

    doomed = _replica(tmp_path, "doomed", config(doomed_sink)).start()
    survivor = _replica(tmp_path, "survivor", config(survivor_sink))
    try:
        alerts = [{"labels": {"alertname": "Storm", "id": f"i{n}"}} for n in range(INCIDENTS)]
        httpx.post(
            f"{doomed.url}/api/v2/alerts", json=alerts, headers=INGEST, timeout=30
        ).raise_for_status()

        def arrived(step: int) -> int:
            return sum(1 for key in _deliveries(doomed_sink, survivor_sink) if key[1] == step)

        # The doomed replica claims step 2 and starts its sends (32 at a time, 1 s each);
        # the survivor comes up while they are under way, then the doomed one is killed.
        eventually(
            lambda: any(r["body"]["step"] == 1 for r in list(doomed_sink.received)),
            30,
            "the doomed replica sending step 2",
        )
        survivor.start()
        doomed.kill()
        killed_at = time.time()
        assert doomed_sink.opened > len(doomed_sink.received), "no send was in flight at the kill"
        assert arrived(1) < INCIDENTS, "the kill came after step 2 was done"
        eventually(
            lambda: len(_deliveries(doomed_sink, survivor_sink)) == INCIDENTS * len(KILL_STEPS),
            90,
            "every step of every incident at the receivers",
        )
    finally:
        for replica in (survivor, doomed):
            replica.stop()
        doomed_sink.stop()
        survivor_sink.stop()
    deliveries = _deliveries(doomed_sink, survivor_sink)
    assert set(deliveries) == {(f"i{n}", s) for n in range(INCIDENTS) for s in range(3)}
    repeats = {key: ids for key, ids in deliveries.items() if len(ids) > 1}
    assert all(len(set(ids)) == 1 for ids in repeats.values()), "a repeat with a new delivery id"
    step_2_done = max(r["at"] for r in survivor_sink.received if r["body"]["step"] == 1)
    print(f"takeover: the killed replica's step 2 done {step_2_done - killed_at:.1f} s after")


# -- PostgreSQL restarted under load -------------------------------------------------------


def test_replicas_ride_out_a_postgresql_restart_under_load(tmp_path: Path) -> None:
    """Senders retry as Alertmanager does (on 503 and on connection errors). While the
    database is down the replicas answer 503 with Retry-After; after it is back they carry
    on, and every alert that got a 2xx opens its incident and is paged."""
    cluster = PostgresCluster().start()
    sink = webhook_sink(WEBHOOK_SECRET).start()
    config = step_storm_config(cluster.url(), sink.url, (0,))
    replicas = [_replica(tmp_path, name, config).start() for name in ("gw-a", "gw-b")]
    accepted: set[str] = set()
    refusals: list[httpx.Response] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sender(replica: GatewatchProcess, worker: int) -> None:
        with httpx.Client(base_url=replica.url, headers=INGEST, timeout=10) as client:
            batch = 0
            while not stop.is_set():
                ids = [f"w{worker}-b{batch}-a{i}" for i in range(10)]
                alerts = [{"labels": {"alertname": "Load", "id": i}} for i in ids]
                try:
                    response = client.post("/api/v2/alerts", json=alerts)
                except httpx.HTTPError:
                    time.sleep(0.2)
                    continue
                if response.status_code == 200:
                    with lock:
                        accepted.update(ids)
                    batch += 1
                else:
                    refusals.append(response)
                    time.sleep(0.2)

    threads = [
        threading.Thread(target=sender, args=(replica, n)) for n, replica in enumerate(replicas * 2)
    ]
    try:
        for thread in threads:
            thread.start()
        eventually(lambda: len(accepted) >= 200, 30, "load before the restart")
        cluster.stop()
        eventually(lambda: len(refusals) >= 4, 30, "refusals while the database is down")
        for replica in replicas:
            assert httpx.get(f"{replica.url}/readyz").status_code == 503
        cluster.start()
        during = len(accepted)
        eventually(lambda: len(accepted) >= during + 200, 60, "load after the restart")
        stop.set()
        for thread in threads:
            thread.join()
        eventually(
            lambda: {step_of(r)[0] for r in list(sink.received)} >= accepted,
            90,
            "a page for every accepted alert",
        )
    finally:
        stop.set()
        for replica in replicas:
            replica.stop()
        sink.stop()
        cluster.destroy()
    assert {(r.status_code, r.headers.get("retry-after")) for r in refusals} == {(503, "5")}
    assert all(len(ids) == 1 for ids in _deliveries(sink).values()), "a step was paged twice"
