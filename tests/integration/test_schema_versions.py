"""Replicas and schema versions: migrations run as their own step (`gatewatch migrate`), a
server started with --no-migrate only checks the schema, and no gatewatch runs on a database
that a newer gatewatch migrated (its writes could corrupt what the newer code expects)."""

from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from gatewatch.store.database import (
    SchemaMismatch,
    check_schema,
    create_database_engine,
    migrate,
)
from tests.support.cli import gatewatch


def test_a_schema_newer_than_the_code_is_refused_and_left_alone(database_url: str) -> None:
    engine = create_database_engine(database_url)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(SchemaMismatch, match="revision 0099, newer than this gatewatch"):
        migrate(engine)
    with pytest.raises(SchemaMismatch, match="newer than this gatewatch"):
        check_schema(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            "0099"
        )
    engine.dispose()


def test_a_schema_behind_the_code_is_refused_without_migrating(database_url: str) -> None:
    engine = create_database_engine(database_url)
    with pytest.raises(SchemaMismatch, match="revision none, this gatewatch needs"):
        check_schema(engine)
    migrate(engine)
    check_schema(engine)  # current: accepted
    engine.dispose()


def test_migrate_then_serve_without_migrating(tmp_path: Path) -> None:
    config = tmp_path / "gatewatch.yml"
    config.write_text(yaml.safe_dump({"storage": {"url": f"sqlite:///{tmp_path}/gw.db"}}))
    refused = gatewatch("serve", "--no-migrate", "--config", str(config), cwd=tmp_path)
    assert refused.returncode != 0
    assert "this gatewatch needs" in refused.stderr + refused.stdout
    assert "gatewatch migrate" in refused.stderr + refused.stdout
    migrated = gatewatch("migrate", "--config", str(config), cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert "up to date" in migrated.stdout
