"""Lookups by a list of values (`OneOf`): the same rows on SQLite and PostgreSQL, through
the index."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from gatewatch.store.database import create_database_engine, migrate
from gatewatch.store.one_of import OneOf
from gatewatch.store.tables import alerts

NOW = datetime(2026, 12, 3, tzinfo=UTC)
_BY_FINGERPRINT = select(alerts.c.fingerprint).where(OneOf(alerts.c.fingerprint, "wanted"))


@pytest.fixture
def store(database_url: str) -> Iterator[Engine]:
    engine = _store(database_url)
    yield engine
    engine.dispose()


def _store(database_url: str) -> Engine:
    engine = create_database_engine(database_url)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(alerts),
            [
                {
                    "fingerprint": f"{n:016x}",
                    "alertname": "A",
                    "labels": {"n": str(n)},
                    "annotations": {},
                    "status": "firing",
                    "starts_at": NOW,
                    "generator_url": "",
                    "source": "test",
                    "first_seen": NOW,
                    "last_seen": NOW,
                    "receive_count": 1,
                }
                for n in range(50)
            ],
        )
    return engine


def test_finds_exactly_the_listed_rows(store: Engine) -> None:
    wanted = [f"{n:016x}" for n in (3, 7, 49)] + ["not-there", f"{7:016x}"]
    with store.connect() as connection:
        for listed in (wanted, wanted[:1], wanted[:2]):  # lists of several lengths
            rows = connection.execute(_BY_FINGERPRINT, {"wanted": listed})
            assert {row.fingerprint for row in rows} == set(listed) - {"not-there"}


def test_a_value_longer_than_the_column_matches_nothing(store: Engine) -> None:
    """Cut to the column's length it would equal a stored fingerprint."""
    with store.connect() as connection:
        rows = connection.execute(_BY_FINGERPRINT, {"wanted": [f"{3:016x}extra"]})
        assert list(rows) == []


def test_sqlite_looks_the_list_up_through_the_index(tmp_path: Path) -> None:
    """Not a full scan: rendered as a bare condition, never `… IN (…) = 1`."""
    engine = _store(f"sqlite:///{tmp_path / 'one_of.db'}")
    with engine.connect() as connection:
        ran = connection.execute(_BY_FINGERPRINT, {"wanted": ["a", "b"]}).context
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {ran.statement}", ran.parameters[0])
        details = [row.detail for row in plan]
    engine.dispose()
    assert [detail.split()[0] for detail in details] == ["SEARCH"], details  # never SCAN
