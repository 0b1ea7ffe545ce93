"""The reference gateway, exercised by real WebSocket clients against a real process."""

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from imgateway.auth import make_token
from imgateway.loadgen import run_load
from tests.support.gateway import SECRET, Client, GatewayProcess
from tests.support.ports import free_port, wait_for_port
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[GatewayProcess]:
    process = GatewayProcess(tmp_path, "--enable-test-endpoints", "--ack-timeout", "500ms").start()
    yield process
    process.stop()


async def _refused(gateway: GatewayProcess, token: str | None) -> tuple[int, str]:
    url = gateway.ws_url + (f"?token={token}" if token else "")
    async with connect(url) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


def test_bad_tokens_are_refused_and_counted(gateway: GatewayProcess) -> None:
    expired = make_token("alice", SECRET, -10, time.time())
    forged = make_token("alice", "another-secret-0123456789abcdefghij", 600, time.time())
    assert asyncio.run(_refused(gateway, None)) == (4401, "missing_token")
    assert asyncio.run(_refused(gateway, expired)) == (4401, "expired_token")
    assert asyncio.run(_refused(gateway, forged)) == (4401, "invalid_token")
    for reason in ("missing_token", "expired_token", "invalid_token"):
        assert gateway.metric("im_gateway_connection_errors_total", f'{{reason="{reason}"}}') == 1


def test_private_and_group_delivery_with_sequences(gateway: GatewayProcess) -> None:
    async def scenario() -> None:
        alice, bob, carol = [await Client.open(gateway, u) for u in ("alice", "bob", "carol")]
        sent = await alice.send({"type": "send", "id": "m1", "to": "bob", "body": "hi"})
        assert sent == {"type": "sent", "id": "m1", "seq": 1}
        [message] = await bob.receive(1)
        assert (message["from"], message["body"], message["seq"]) == ("alice", "hi", 1)
        for client in (alice, bob, carol):
            assert (await client.send({"type": "join", "group": "ops"}))["type"] == "joined"
        await alice.send({"type": "send", "id": "g1", "group": "ops", "body": "all"})
        assert (await bob.receive(2))[1]["group"] == "ops"
        assert (await carol.receive(1))[0]["body"] == "all"
        assert (await alice.send({"type": "ping"})) == {"type": "pong"}
        for client in (alice, bob, carol):
            await client.close()

    asyncio.run(scenario())
    eventually(lambda: gateway.metric("im_gateway_acks_total") == 3, what="3 ACKs")
    assert gateway.metric("im_gateway_message_delivery_latency_seconds_count") == 3
    assert gateway.metric("im_gateway_messages_delivered_total", '{status="success"}') == 3


def test_bad_frames_get_an_error_and_the_connection_stays(gateway: GatewayProcess) -> None:
    async def scenario() -> None:
        alice = await Client.open(gateway, "alice")
        await alice.socket.send("{not json")
        assert (await alice.next())["code"] == "bad_json"
        assert (await alice.send({"type": "send", "id": "x", "body": "no target"}))[
            "code"
        ] == "bad_target"
        assert (await alice.send({"type": "warp"}))["code"] == "unknown_type"
        assert (await alice.send({"type": "ping"}))["type"] == "pong"
        await alice.close()

    asyncio.run(scenario())


def test_resent_id_is_delivered_once(gateway: GatewayProcess) -> None:
    async def scenario() -> None:
        alice, bob = await Client.open(gateway, "alice"), await Client.open(gateway, "bob")
        first = await alice.send({"type": "send", "id": "same", "to": "bob", "body": "1"})
        again = await alice.send({"type": "send", "id": "same", "to": "bob", "body": "1"})
        assert again == {"type": "sent", "id": "same", "seq": first["seq"], "duplicate": True}
        await bob.receive(1)
        with pytest.raises(TimeoutError):
            await bob.next(timeout=0.7)
        await alice.close()
        await bob.close()

    asyncio.run(scenario())
    assert gateway.metric("im_gateway_duplicate_messages_total") == 1
    assert gateway.metric("im_gateway_messages_received_total") == 2
    # bob's address was looked up once in the registry, then served from its cache.
    assert gateway.metric("im_gateway_registry_cache_misses_total") == 1
    assert gateway.metric("im_gateway_registry_cache_hits_total") == 0


def test_order_is_kept_per_conversation(gateway: GatewayProcess) -> None:
    async def scenario() -> list[int]:
        alice, bob = await Client.open(gateway, "alice"), await Client.open(gateway, "bob")
        for n in range(50):
            await alice.socket.send(f'{{"type": "send", "id": "o{n}", "to": "bob", "body": "{n}"}}')
        received = await bob.receive(50)
        await alice.close()
        await bob.close()
        return [m["seq"] for m in received]

    assert asyncio.run(scenario()) == list(range(1, 51))


@pytest.mark.parametrize(
    "store", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_unacked_message_goes_offline_and_arrives_on_reconnect(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = None
    if store == "postgresql":
        url = request.getfixturevalue("postgres_cluster").create_database("gateway_offline")
    gateway = GatewayProcess(tmp_path, "--ack-timeout", "500ms", store=url).start()
    request.addfinalizer(gateway.stop)

    async def scenario() -> None:
        alice, bob = await Client.open(gateway, "alice"), await Client.open(gateway, "bob")
        await alice.send({"type": "send", "id": "late", "to": "bob", "body": "ack me"})
        await bob.receive(1, ack=False)
        await asyncio.to_thread(
            eventually,
            lambda: gateway.metric("im_gateway_ack_timeouts_total") == 1,
            what="the 500 ms ACK time-out",
        )
        await bob.close()
        await alice.send({"type": "send", "id": "offline", "to": "bob", "body": "while away"})
        back = await Client.open(gateway, "bob")
        messages = await back.receive(2)
        assert [m["id"] for m in messages] == ["alice:late", "alice:offline"]
        await asyncio.to_thread(
            eventually,
            lambda: gateway.metric("im_gateway_offline_queue_size") == 0,
            what="the ACKs of the stored messages processed",
        )
        await alice.close()
        await back.close()

    asyncio.run(scenario())
    assert gateway.metric("im_gateway_ack_timeouts_total") == 1
    eventually(
        lambda: gateway.metric("im_gateway_offline_queue_size") == 0,
        what="offline store emptied by ACKs",
    )
    assert gateway.stats()["offline_queue_size"] == 0


def test_circuit_breaker_stops_loss_under_failures(gateway: GatewayProcess) -> None:
    assert gateway.post("/test/failure-rate", params={"rate": "1.0"}).status_code == 200

    async def send_batch(prefix: str, count: int) -> int:
        alice, bob = await Client.open(gateway, "alice"), await Client.open(gateway, "bob")
        for n in range(count):
            await alice.send({"type": "send", "id": f"{prefix}{n}", "to": "bob", "body": "x"})
        await asyncio.sleep(0.5)
        got = len(bob.messages)
        while True:
            try:
                await bob.next(timeout=0.5)
            except TimeoutError:
                break
        got = len(bob.messages)
        for message in bob.messages:
            await bob.socket.send(f'{{"type": "ack", "id": "{message["id"]}"}}')
        await asyncio.sleep(0.2)
        await alice.close()
        await bob.close()
        return got

    # Fewer than the breaker's minimum sample: it does not open by itself here.
    assert asyncio.run(send_batch("lost", 20)) == 0
    assert gateway.metric("im_gateway_messages_lost_total") == 20
    assert gateway.post("/admin/circuit-breaker", json={"state": "open"}).json() == {
        "state": "open"
    }
    assert gateway.metric("im_gateway_circuit_breaker_state") == 1
    assert asyncio.run(send_batch("kept", 20)) == 20
    assert gateway.metric("im_gateway_messages_lost_total") == 20
    assert gateway.post("/admin/circuit-breaker", json={"state": "half"}).status_code == 400


def test_drain_closes_everyone_and_refuses_newcomers(gateway: GatewayProcess) -> None:
    async def scenario() -> None:
        clients = [await Client.open(gateway, f"u{n}") for n in range(3)]
        response = await asyncio.to_thread(gateway.post, "/admin/drain")
        assert response.json()["drained"] is True
        for client in clients:
            with pytest.raises(ConnectionClosed) as closed:
                await client.next()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
        token = make_token("late", SECRET, 600, time.time())
        assert await _refused(gateway, token) == (1013, "draining")

    asyncio.run(scenario())
    assert gateway.metric("im_gateway_shutdown_duration_seconds_count") == 1
    assert gateway.metric("im_gateway_active_connections") == 0


def test_load_generator_agrees_with_the_server(gateway: GatewayProcess) -> None:
    report = asyncio.run(
        run_load(gateway.ws_url, users=20, rate=200, duration=2.0, secret=SECRET, grace=5.0)
    )
    stats = gateway.stats()
    assert report.connected == 20 and report.connection_errors == 0
    assert report.lost == 0 and report.duplicates_seen == 0
    assert report.accepted == report.sent == stats["messages_received"]
    eventually(
        lambda: gateway.stats()["delivered"] == report.delivered,
        what="server and client agree on deliveries",
    )
    assert report.latency_ms["p50"] > 0


def test_failure_rate_shows_as_loss_in_report_and_metrics(gateway: GatewayProcess) -> None:
    gateway.post("/test/failure-rate", params={"rate": "0.02"})
    report = asyncio.run(
        run_load(gateway.ws_url, users=20, rate=300, duration=2.0, secret=SECRET, grace=5.0)
    )
    assert report.lost > 0
    assert gateway.metric("im_gateway_messages_lost_total") == report.lost
    gateway.post("/test/reset")
    clean = asyncio.run(
        run_load(gateway.ws_url, users=20, rate=300, duration=1.0, secret=SECRET, grace=5.0)
    )
    assert clean.lost == 0


def test_redis_deduplication_with_a_real_redis(tmp_path: Path) -> None:
    port = free_port()
    redis = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        gateway = GatewayProcess(tmp_path, "--redis", f"redis://127.0.0.1:{port}/0").start()
        try:
            assert gateway.stats()["active_connections"] == 0

            async def twice() -> None:
                alice = await Client.open(gateway, "alice")
                first = await alice.send({"type": "send", "id": "r1", "to": "bob", "body": "x"})
                again = await alice.send({"type": "send", "id": "r1", "to": "bob", "body": "x"})
                assert again["duplicate"] and again["seq"] == first["seq"]
                await alice.close()

            asyncio.run(twice())
            assert gateway.metric("im_gateway_duplicate_messages_total") == 1
            keys = subprocess.run(
                ["redis-cli", "-p", str(port), "--scan", "--pattern", "imgw:dedup:*"],
                capture_output=True,
                text=True,
            ).stdout.split()
            assert keys == ["imgw:dedup:alice:r1"]
            ttl = int(
                subprocess.run(
                    ["redis-cli", "-p", str(port), "ttl", keys[0]], capture_output=True, text=True
                ).stdout
            )
            assert 7 * 24 * 3600 - 60 < ttl <= 7 * 24 * 3600
        finally:
            gateway.stop()
        redis.terminate()
        redis.wait(timeout=10)
        gateway = GatewayProcess(tmp_path, "--redis", f"redis://127.0.0.1:{port}/0").start()
        try:
            health = __import__("httpx").get(f"{gateway.url}/health")
            assert health.status_code == 503 and health.json()["failing"] == "redis"
        finally:
            gateway.stop()
    finally:
        if redis.poll() is None:
            redis.terminate()


def test_a_cold_cache_makes_every_registry_lookup_miss_until_reset(
    gateway: GatewayProcess,
) -> None:
    def lookups() -> tuple[float, float]:
        return (
            gateway.metric("im_gateway_registry_cache_hits_total"),
            gateway.metric("im_gateway_registry_cache_misses_total"),
        )

    def load() -> None:
        asyncio.run(
            run_load(gateway.ws_url, users=5, rate=100, duration=1.0, secret=SECRET, grace=5.0)
        )

    load()  # warms the cache: the same five users again and again
    hits, misses = lookups()
    assert hits > misses
    assert gateway.post("/test/cache-miss").json() == {"cold_cache": True}
    load()
    cold_hits, cold_misses = lookups()
    assert cold_hits == hits and cold_misses > misses
    gateway.post("/test/reset")
    load()
    assert lookups()[0] > cold_hits


def test_http_requests_are_timed_by_route_and_unknown_paths_share_one_label(
    gateway: GatewayProcess,
) -> None:
    for _ in range(3):
        httpx.get(f"{gateway.url}/health").raise_for_status()
    for path in ("/wp-admin", "/.env", "/random/123"):
        assert httpx.get(f"{gateway.url}{path}").status_code == 404
    count = "im_gateway_http_request_duration_seconds_count"
    assert gateway.metric(count, '{method="GET",route="/health"}') == 3
    assert gateway.metric(count, '{method="GET",route="other"}') == 3
    gateway.post("/test/reset")
    assert gateway.metric(count, '{method="POST",route="/test/reset"}') == 1
    scraped = httpx.get(f"{gateway.url}/metrics").text
    assert "wp-admin" not in scraped and '{method="GET",route="/metrics"}' in scraped


def test_conversations_are_opened_with_members_and_searched_by_their_members_only(
    gateway: GatewayProcess,
) -> None:
    async def scenario() -> None:
        alice, bob, eve = [await Client.open(gateway, u) for u in ("alice", "bob", "eve")]
        opened = {"type": "create", "group": "launch", "members": ["bob"]}
        assert await alice.send(opened) == {"type": "created", "group": "launch", "existed": False}
        assert (await bob.send(opened | {"members": ["carol"]}))["existed"] is True
        assert (await alice.send(opened | {"members": []}))["code"] == "bad_members"
        await alice.send({"type": "send", "id": "g1", "group": "launch", "body": "Go at NOON"})
        await alice.send({"type": "send", "id": "d1", "to": "bob", "body": "noon works?"})
        await bob.receive(2)
        found = await bob.send({"type": "search", "index": "messages", "query": "noon"})
        assert [(h["conversation"], h["id"]) for h in found["hits"]] == [
            ("dm:alice:bob", "alice:d1"),
            ("group:launch", "alice:g1"),
        ]
        names = await bob.send({"type": "search", "index": "conversations", "query": "LAUNCH"})
        assert names["hits"] == [{"conversation": "group:launch"}]
        assert (await eve.send({"type": "search", "index": "messages", "query": "noon"}))[
            "hits"
        ] == []
        refused = await eve.send({"type": "search", "index": "files", "query": "x"})
        assert refused["code"] == "bad_index"
        gateway.post("/test/failure-rate", params={"rate": "1"})
        assert (await bob.send({"type": "search", "index": "messages", "query": "x"}))[
            "code"
        ] == "search_failed"
        assert (await bob.send(opened))["code"] == "unavailable"
        gateway.post("/test/reset")
        for client in (alice, bob, eve):
            await client.close()

    asyncio.run(scenario())
    created = "im_gateway_conversations_created_total"
    assert [
        gateway.metric(created, f'{{status="{s}"}}') for s in ("success", "rejected", "failed")
    ] == [2, 1, 1]
    searches = "im_gateway_searches_total"
    assert gateway.metric(searches, '{index_type="messages",status="success"}') == 2
    assert gateway.metric(searches, '{index_type="messages",status="failed"}') == 1
    assert gateway.metric("im_gateway_search_latency_seconds_count", '{index_type="messages"}') == 3
