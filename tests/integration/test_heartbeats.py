"""A pipeline that goes quiet pages: a heartbeat (Prometheus's Watchdog) silent for longer
than its interval opens a critical HeartbeatMissed incident, routed and paged like any
other, once across replicas; it resolves when the heartbeat returns."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from gatewatch.config import GatewatchConfig
from gatewatch.ingest.alertmanager_webhook import WebhookPayload, to_batch
from gatewatch.store.database import create_database_engine, migrate, read_transaction
from gatewatch.store.incidents import IncidentFilter
from gatewatch.store.outbox import list_notifications
from gatewatch.web.deps import Services
from gatewatch.wiring.services import build_services
from tests.conftest import ConfigFactory
from tests.support.clock import ManualClock
from tests.support.payloads import webhook, webhook_alert

HEARTBEAT = {"name": "pipeline", "matchers": ['alertname="Watchdog"'], "interval": "2m"}


@pytest.fixture
def replicas(make_config: ConfigFactory, clock: ManualClock) -> Iterator[list[Services]]:
    config: GatewatchConfig = make_config(
        heartbeats=[HEARTBEAT],
        channels=[{"id": "hook", "type": "webhook", "url": "http://127.0.0.1:9/hook"}],
        severities=[{"name": "critical", "channels": ["hook"]}, {"name": "info"}],
        default_severity="info",
    )
    databases: list[Engine] = []
    for _ in range(2):
        database = create_database_engine(config.database_url)
        migrate(database)
        databases.append(database)
    yield [build_services(config, database, clock) for database in databases]
    for database in databases:
        database.dispose()


def _watchdog(services: Services, clock: ManualClock) -> Any:
    body = webhook([webhook_alert({"alertname": "Watchdog", "severity": "none"})], group_key="wd")
    return services.incidents.ingest(to_batch(WebhookPayload.model_validate(body), clock.now()))


def _incidents(services: Services) -> list[Any]:
    items, _ = services.incidents.list_incidents(IncidentFilter(), 50, 0)
    return items


def test_a_silent_heartbeat_pages_once_and_resolves_when_it_returns(
    replicas: list[Services], clock: ManualClock
) -> None:
    first, second = replicas
    assert first.heartbeats.check(first.incidents.ingest) == 0  # starts its first interval
    clock.advance(timedelta(seconds=30))
    accepted = _watchdog(first, clock)
    assert accepted.accepted == 1 and accepted.opened == []
    assert _incidents(first) == []  # a heartbeat is a signal, not an incident
    clock.advance(timedelta(minutes=1, seconds=59))
    assert first.heartbeats.check(first.incidents.ingest) == 0  # 1m59s of silence: fine

    clock.advance(timedelta(seconds=2))
    paged = first.heartbeats.check(first.incidents.ingest) + second.heartbeats.check(
        second.incidents.ingest
    )
    assert paged == 1
    [incident] = _incidents(first)
    assert (incident.title, incident.severity, incident.status.value) == (
        "Heartbeat pipeline missed: nothing for 2m",
        "critical",
        "triggered",
    )
    detail = first.incidents.detail(incident.id)
    assert detail.alerts[0].labels["alertname"] == "HeartbeatMissed"
    assert detail.alerts[0].labels["heartbeat"] == "pipeline"
    with read_transaction(first.runtime.database) as connection:
        pages = list_notifications(connection, None, incident.id, 10)
    assert [(n.channel, n.kind) for n in pages] == [("hook", "trigger")]
    clock.advance(timedelta(minutes=5))
    assert second.heartbeats.check(second.incidents.ingest) == 0  # still missed, paged once

    _watchdog(second, clock)
    assert first.heartbeats.check(first.incidents.ingest) == 1
    [after] = _incidents(first)
    assert after.status.value == "resolved"
    assert "Resolved: all alerts resolved at the source" in [
        e.message for e in first.incidents.detail(after.id).timeline
    ]
