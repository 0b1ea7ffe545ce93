"""Fixtures: a real store (SQLite file or a throw-away PostgreSQL), the app over it, tokens."""

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gatewatch.config import GatewatchConfig
from gatewatch.store.database import create_database_engine, migrate
from gatewatch.web.app import create_app
from gatewatch.wiring.services import build_services
from tests.support.auth import TOKEN_CONFIG
from tests.support.clock import ManualClock
from tests.support.postgres import PostgresCluster


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()
    yield cluster
    cluster.destroy()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gatewatch.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


ConfigFactory = Callable[..., GatewatchConfig]


@pytest.fixture
def make_config(database_url: str, tmp_path: Path) -> ConfigFactory:
    def factory(**overrides: Any) -> GatewatchConfig:
        data: dict[str, Any] = {
            "data_dir": str(tmp_path / "data"),
            "storage": {"url": database_url},
            "auth": {"tokens": TOKEN_CONFIG},
            **overrides,
        }
        return GatewatchConfig.model_validate(data)

    return factory


ApiFactory = Callable[..., TestClient]


@pytest.fixture
def make_api(make_config: ConfigFactory, clock: ManualClock) -> Iterator[ApiFactory]:
    engines = []

    def factory(**overrides: Any) -> TestClient:
        config = make_config(**overrides)
        database = create_database_engine(config.database_url)
        migrate(database)
        engines.append(database)
        return TestClient(create_app(build_services(config, database, clock)))

    yield factory
    for database in engines:
        database.dispose()


@pytest.fixture
def api(make_api: ApiFactory) -> TestClient:
    return make_api()
