"""Hand-off announcements: when a schedule's on-call people change (rotation or override),
its channel gets one message saying who is on call and until when, once per change, however
many replicas look."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from gatewatch.config import ConfigError, parse_config
from gatewatch.notify.message import Kind, Message
from gatewatch.notify.slack import slack_payload
from gatewatch.store import outbox
from gatewatch.store.database import create_database_engine, migrate, read_transaction
from gatewatch.web.deps import Services
from gatewatch.wiring.services import build_services
from tests.conftest import ConfigFactory
from tests.support.clock import ManualClock

# The manual clock starts at 2026-11-22 12:00 UTC; the rotation hands off daily at 09:00.
SCHEDULE = {
    "id": "primary",
    "announce": "chat",
    "layers": [{"rotation": ["alice", "bob"], "shift": "1d", "handoff": "2026-11-01T09:00:00"}],
}


@pytest.fixture
def replicas(make_config: ConfigFactory, clock: ManualClock) -> Iterator[list[Services]]:
    config = make_config(
        people=[{"id": "alice", "name": "Alice"}, {"id": "bob", "name": "Bob"}],
        schedules=[SCHEDULE],
        channels=[{"id": "chat", "type": "webhook", "url": "http://127.0.0.1:9/chat"}],
    )
    databases: list[Engine] = []
    for _ in range(2):
        database = create_database_engine(config.database_url)
        migrate(database)
        databases.append(database)
    yield [build_services(config, database, clock) for database in databases]
    for database in databases:
        database.dispose()


def _announced(services: Services) -> list[str]:
    with read_transaction(services.runtime.database) as connection:
        found = outbox.list_notifications(connection, None, None, 100)
    return [str(n.message["title"]) for n in reversed(found) if n.kind == "handoff"]


def test_each_change_is_announced_once_across_replicas(
    replicas: list[Services], clock: ManualClock
) -> None:
    first, second = replicas
    assert first.handoffs.announce() + second.handoffs.announce() == 1
    assert first.handoffs.announce() == 0  # nothing changed
    clock.advance(timedelta(hours=22))  # past tomorrow's 09:00 hand-off
    assert second.handoffs.announce() + first.handoffs.announce() == 1
    start = clock.now()
    first.oncall.add_override("primary", "bob", start, start + timedelta(hours=2), "alice")
    assert first.handoffs.announce() == 1
    announced = _announced(first)
    assert len(announced) == 3
    assert announced[1] != announced[0]
    assert announced[2] == "On call for primary: Bob (override)"
    with read_transaction(first.runtime.database) as connection:
        [latest] = [n for n in outbox.list_notifications(connection, None, None, 1)]
    assert latest.channel == "chat" and latest.incident_id is None
    assert latest.message["text"].startswith("Until ")


def test_the_announcement_reads_well_in_slack() -> None:
    message = Message(
        kind=Kind.HANDOFF,
        incident_id=0,
        title="On call for primary: <!here> Alice",
        text="Until 2026-11-23 09:00 UTC, then Bob.",
        severity="info",
        status="on call",
        service=None,
        incident_url="http://gw/ui/oncall",
        runbook_url=None,
        labels={},
        triggered_at="2026-11-22T12:00:00+00:00",
    )
    payload = slack_payload(message)
    assert "<!here>" not in str(payload) and "then Bob" in str(payload)
    assert "gatewatch_ack" not in str(payload)  # no incident buttons on an announcement


def test_only_a_chat_channel_can_announce() -> None:
    text = (
        "channels:\n  - {id: pd, type: pagerduty, routing_key: RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR}\n"
        "people: [{id: alice}]\n"
        "schedules:\n  - id: s\n    announce: pd\n"
        "    layers: [{rotation: [alice], shift: 1d, handoff: '2026-11-01T09:00:00'}]\n"
    )
    with pytest.raises(ConfigError, match=r"gatewatch.yml:6: schedules\[0\].announce: no slack"):
        parse_config(text, "gatewatch.yml", {})
