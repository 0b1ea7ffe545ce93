"""Nothing stale is sent: a page still queued (waiting for a retry, or throttled) when its
incident is resolved or acknowledged is cancelled, on the timeline, and the vendor never
sees a trigger after the resolve (the real dispatcher and channels, a PagerDuty stand-in that
checks the Events API v2 contract, a Slack stand-in, a clock moved by hand)."""

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest

from gatewatch.ingest.prometheus_push import PostableAlerts, to_batch
from gatewatch.notify.dispatcher import Dispatcher, build_channels
from gatewatch.notify.http import http_sender
from gatewatch.store import outbox
from gatewatch.store.database import (
    create_database_engine,
    migrate,
    read_transaction,
    run_transaction,
)
from gatewatch.web.deps import Services
from gatewatch.wiring.services import build_services
from tests.conftest import ConfigFactory
from tests.support.clock import ManualClock
from tests.support.standins import HttpStandIn, pagerduty_standin, slack_standin

KEY = "R0123456789abcdef0123456789abcde"


@pytest.fixture
def vendors() -> Iterator[tuple[HttpStandIn, HttpStandIn]]:
    pagerduty, slack = pagerduty_standin().start(), slack_standin().start()
    yield pagerduty, slack
    pagerduty.stop()
    slack.stop()


@pytest.fixture
def services(
    make_config: ConfigFactory, clock: ManualClock, vendors: tuple[HttpStandIn, HttpStandIn]
) -> Iterator[Services]:
    pagerduty, slack = vendors
    config = make_config(
        people=[{"id": p, "slack_user_id": f"U{p.upper()}"} for p in ("alice", "bob", "carol")],
        channels=[
            {"id": "pagerduty", "type": "pagerduty", "routing_key": KEY, "url": pagerduty.url},
            # One page a second, no burst: a step paging three people is throttled.
            {
                "id": "slack",
                "type": "slack",
                "webhook_url": slack.url,
                "rate_per_second": 1,
                "burst": 1,
            },
        ],
        severities=[
            {"name": "critical", "channels": ["pagerduty"]},
            {"name": "warning", "channels": ["slack"]},
        ],
        policies={
            "everyone": {
                "steps": [
                    {"after": "0s", "targets": ["person:alice", "person:bob", "person:carol"]}
                ]
            }
        },
        routes=[{"name": "warning", "matchers": ['severity="warning"'], "policy": "everyone"}],
        delivery={"backoff_initial": "1s", "backoff_max": "10s"},
    )
    database = create_database_engine(config.database_url)
    migrate(database)
    yield build_services(config, database, clock)
    database.dispose()


def _fire(services: Services, clock: ManualClock, severity: str) -> int:
    alerts = [{"labels": {"alertname": f"Down-{severity}", "severity": severity}}]
    batch = to_batch(PostableAlerts.model_validate(alerts), clock.now())
    return services.incidents.ingest(batch).opened[0]


async def _passes(services: Services, clock: ManualClock, steps: list[float]) -> None:
    config = services.config
    async with http_sender(timeout=5, connections=8) as http:
        dispatcher = Dispatcher(
            services.runtime,
            config.delivery,
            config.channels,
            build_channels(config.channels, config.delivery, http),
        )
        for seconds in steps:
            clock.advance(timedelta(seconds=seconds))
            await dispatcher.run_once()


def _statuses(services: Services, incident_id: int) -> list[tuple[str, str, str]]:
    with read_transaction(services.runtime.database) as connection:
        found = outbox.list_notifications(connection, None, incident_id, 100)
    return sorted((n.kind, n.channel, n.status) for n in found)


def test_resolve_while_a_trigger_waits_for_a_retry(
    services: Services, clock: ManualClock, vendors: tuple[HttpStandIn, HttpStandIn]
) -> None:
    pagerduty, _ = vendors
    pagerduty.plan.statuses, pagerduty.plan.retry_after = [503], "8"
    incident_id = _fire(services, clock, "critical")
    asyncio.run(_passes(services, clock, [0]))  # the trigger meets a 503, retry in 8 s
    clock.advance(timedelta(seconds=2))
    services.incidents.resolve(incident_id, "alice", None)
    asyncio.run(_passes(services, clock, [0, 10, 10, 60]))

    assert [b["event_action"] for b in pagerduty.bodies()] == ["resolve"]  # nothing after
    assert pagerduty.rejected == []
    assert _statuses(services, incident_id) == [
        ("resolve", "pagerduty", "delivered"),
        ("trigger", "pagerduty", "cancelled"),
    ]
    timeline = [e.message for e in services.incidents.detail(incident_id).timeline]
    assert "1 queued page cancelled: resolved by alice" in timeline


def test_ack_during_a_throttled_step_stops_the_rest_of_its_pages(
    services: Services, clock: ManualClock, vendors: tuple[HttpStandIn, HttpStandIn]
) -> None:
    _, slack = vendors
    incident_id = _fire(services, clock, "warning")
    asyncio.run(_passes(services, clock, [0]))  # alice now; bob and carol wait for the bucket
    services.incidents.acknowledge(incident_id, "alice", None)
    asyncio.run(_passes(services, clock, [1, 1, 5, 60]))

    texts = [str(body) for body in slack.bodies()]
    assert sum("UALICE" in t for t in texts) == 1
    assert not any("UBOB" in t or "UCAROL" in t for t in texts)
    timeline = [e.message for e in services.incidents.detail(incident_id).timeline]
    assert "2 queued pages cancelled: acknowledged by alice" in timeline


def test_an_acknowledgement_waits_for_the_page_in_flight(
    services: Services, clock: ManualClock, vendors: tuple[HttpStandIn, HttpStandIn]
) -> None:
    """A page being sent when the incident is acknowledged finishes first; the vendor sees
    trigger, then acknowledge, never the other way round."""
    pagerduty, _ = vendors
    incident_id = _fire(services, clock, "critical")
    with read_transaction(services.runtime.database) as connection:
        [trigger] = outbox.list_notifications(connection, None, incident_id, 10)
    lease = clock.now() + timedelta(seconds=30)
    claimed = run_transaction(
        services.runtime.database,
        lambda connection: outbox.claim_due(connection, clock.now(), lease, 10),
    )
    assert [n.id for n in claimed] == [trigger.id]  # as another replica's pass would hold it
    services.incidents.acknowledge(incident_id, "alice", None)
    asyncio.run(_passes(services, clock, [0, 1]))
    assert pagerduty.bodies() == []  # the acknowledge waits behind the trigger in flight
    asyncio.run(_passes(services, clock, [60]))  # the holder died: its lease ran out
    assert [b["event_action"] for b in pagerduty.bodies()] == ["acknowledge"]
    assert ("trigger", "pagerduty", "cancelled") in _statuses(services, incident_id)


def test_throttled_pages_leave_in_the_order_of_the_plan(
    services: Services, clock: ManualClock, vendors: tuple[HttpStandIn, HttpStandIn]
) -> None:
    _, slack = vendors
    _fire(services, clock, "warning")
    asyncio.run(_passes(services, clock, [0, 0.5, 0.5, 0.5, 0.5, 1, 1, 1]))
    order = [
        person
        for body in slack.bodies()
        for person in ("UALICE", "UBOB", "UCAROL")
        if person in str(body)
    ]
    assert order == ["UALICE", "UBOB", "UCAROL"]
