"""Alembic's migrations build exactly the schema the code declares, on both stores."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from gatewatch.store.database import create_database_engine, migrate
from gatewatch.store.tables import metadata


def test_migrations_match_the_declared_schema(database_url: str) -> None:
    engine = create_database_engine(database_url)
    migrate(engine)
    migrate(engine)  # a second run is a no-op
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert diff == []
