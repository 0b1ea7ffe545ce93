"""One bad notification costs that notification only: the others in the same passes arrive
exactly once, and the bad ones end dead after their attempts instead of being re-sent on
every pass (the real dispatcher and channels, a real SMTP server and HTTP sinks)."""

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

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
from tests.support.paging import WEBHOOK_SECRET
from tests.support.standins import HttpStandIn, SmtpSink, webhook_sink

PAGES = 100
ATTEMPTS = 3


class Sinks:
    """A real SMTP server, a signed webhook sink, and an endpoint that always answers
    429 with `Retry-After: inf` (counting the requests it refused)."""

    def __init__(self) -> None:
        self.limited_requests = 0

        async def always_limited(_: Request) -> Response:
            self.limited_requests += 1
            return PlainTextResponse("slow down", status_code=429, headers={"Retry-After": "inf"})

        self.smtp = SmtpSink().start()
        self.hook = webhook_sink(WEBHOOK_SECRET).start()
        self.limited = HttpStandIn(always_limited, "/limited").start()

    def stop(self) -> None:
        self.hook.stop()
        self.limited.stop()
        self.smtp.stop()


@pytest.fixture
def sinks() -> Iterator[Sinks]:
    made = Sinks()
    yield made
    made.stop()


@pytest.fixture
def services(make_config: ConfigFactory, clock: ManualClock, sinks: Sinks) -> Iterator[Services]:
    fast = {"rate_per_second": 10_000, "burst": 10_000}
    config = make_config(
        channels=[
            {
                "id": "email",
                "type": "email",
                "host": "127.0.0.1",
                "port": sinks.smtp.port,
                "from": "gatewatch@im.example",
                "to": ["oncall@im.example"],
                **fast,
            },
            {
                "id": "hook",
                "type": "webhook",
                "url": sinks.hook.url,
                "secret": WEBHOOK_SECRET,
                **fast,
            },
            {"id": "limited", "type": "webhook", "url": sinks.limited.url, **fast},
        ],
        severities=[
            {"name": "critical", "channels": ["email", "hook"]},
            {"name": "warning", "channels": ["limited"]},
        ],
        delivery={"max_attempts": ATTEMPTS, "backoff_initial": "10ms", "backoff_max": "50ms"},
    )
    database = create_database_engine(config.database_url)
    migrate(database)
    yield build_services(config, database, clock)
    database.dispose()


def _alert(name: str, severity: str, summary: str) -> dict[str, Any]:
    return {
        "labels": {"alertname": name, "severity": severity},
        "annotations": {"summary": summary},
    }


async def _deliver(services: Services, clock: ManualClock, passes: int) -> None:
    config = services.config
    async with http_sender(timeout=5, connections=8) as http:
        dispatcher = Dispatcher(
            services.runtime,
            config.delivery,
            config.channels,
            build_channels(config.channels, config.delivery, http),
        )
        for _ in range(passes):
            while await dispatcher.run_once():
                pass
            # Past any backoff and the longest Retry-After a channel may ask for.
            clock.advance(timedelta(hours=2))


def test_poison_notifications_die_alone_and_the_rest_arrive_once(
    services: Services, clock: ManualClock, sinks: Sinks
) -> None:
    alerts = [_alert(f"Page{n}", "critical", f"page {n}") for n in range(PAGES)]
    alerts.append(_alert("Newline", "critical", "gateway down\nin eu-west"))
    alerts.append(_alert("Limited", "warning", "answered 429 Retry-After: inf"))
    result = services.incidents.ingest(to_batch(PostableAlerts.model_validate(alerts), clock.now()))
    assert len(result.opened) == PAGES + 2
    # A row no version of gatewatch could send: its message does not parse.
    run_transaction(
        services.runtime.database,
        lambda connection: outbox.enqueue(
            connection,
            [
                {
                    "incident_id": result.opened[0],
                    "channel": "hook",
                    "kind": "trigger",
                    "person": None,
                    "message": {"kind": "trigger"},
                    "dedup_key": "unreadable",
                }
            ],
            clock.now(),
        ),
    )

    asyncio.run(_deliver(services, clock, passes=ATTEMPTS + 2))

    subjects = [str(mail["Subject"]) for mail in sinks.smtp.messages]
    assert len(subjects) == PAGES + 1
    assert "[CRITICAL] gateway down in eu-west" in subjects
    hooked = [body["incident_id"] for body in sinks.hook.bodies()]
    assert sorted(hooked) == sorted(result.opened[: PAGES + 1])  # each exactly once
    assert sinks.limited_requests == ATTEMPTS

    with read_transaction(services.runtime.database) as connection:
        dead = outbox.list_notifications(connection, "dead", None, 100)
        unsent = [
            n
            for status in ("pending", "sending")
            for n in outbox.list_notifications(connection, status, None, 100)
        ]
    assert unsent == []
    assert sorted((n.channel, n.attempts) for n in dead) == [
        ("hook", ATTEMPTS),
        ("limited", ATTEMPTS),
    ]
    unreadable = next(n for n in dead if n.channel == "hook")
    assert unreadable.last_error is not None and "TypeError" in unreadable.last_error
    registry = services.runtime.metrics.registry
    errors = registry.get_sample_value("gatewatch_notification_errors_total", {"channel": "hook"})
    assert errors == ATTEMPTS
