"""Engine setup (SQLite WAL with immediate write locks, or PostgreSQL) and schema migration."""

import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

import orjson
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url

from gatewatch.errors import GatewatchError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
T = TypeVar("T")
READ_ONLY = "gatewatch_read_only"


class DatabaseUnavailable(Exception):
    """The database cannot be reached or refused the work for a transient reason."""


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a transaction whose commit returned survives power loss too, not just a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Writers take the lock up front so two of them queue instead of deadlocking on
        # the read-to-write upgrade; readers (see read_transaction) never block anyone.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # psycopg prepares a statement after five runs, and PostgreSQL then soon plans it once
        # for any parameters: for the hot `fingerprint IN (…100 values…)` lookups that generic
        # plan was ~30 ms a call instead of under 1. Custom plans every time keep them fast
        # and keep the saved parsing.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_custom_plan")
        dbapi_connection.commit()


def _json_dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def create_database_engine(url: str) -> Engine:
    """An engine for a SQLAlchemy URL; SQLite files get their directory created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
            connect_args={"timeout": 10, "check_same_thread": False},
        )
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(
        parsed,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        pool_pre_ping=True,
        pool_size=10,
        connect_args={"connect_timeout": 5},
    )
    _configure_postgresql(engine)
    return engine


class SchemaMismatch(GatewatchError):
    """The database's schema is not the one this gatewatch was built for."""


def _alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def check_schema(engine: Engine, migrating: bool = False) -> None:
    """Refuse a database migrated by a newer gatewatch (its writes could corrupt what the
    newer code expects); unless `migrating`, refuse one that is behind too."""
    scripts = ScriptDirectory.from_config(_alembic_config())
    head = scripts.get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current is not None and current not in {s.revision for s in scripts.walk_revisions()}:
        raise SchemaMismatch(
            f"the database's schema is at revision {current}, newer than this gatewatch "
            f"knows (its newest is {head})",
            hint="run the gatewatch version that migrated it, or a newer one",
        )
    if not migrating and current != head:
        raise SchemaMismatch(
            f"the database's schema is at revision {current or 'none'}, this gatewatch "
            f"needs {head}",
            hint="run `gatewatch migrate` first (or start `gatewatch serve` with --migrate)",
        )


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration; refuse a schema newer than this code."""
    check_schema(engine, migrating=True)
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def is_transient(error: BaseException) -> bool:
    """Errors that mean "try again later" (outage, lock wait) rather than a bug."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (exc.OperationalError, exc.InterfaceError, exc.TimeoutError))


@contextmanager
def translate_outage() -> Iterator[None]:
    """Re-raise transient database errors as DatabaseUnavailable for the HTTP layer."""
    try:
        yield
    except exc.SQLAlchemyError as error:
        if is_transient(error):
            raise DatabaseUnavailable(str(error).splitlines()[0]) from error
        raise


_sqlite_write_locks: "weakref.WeakKeyDictionary[Engine, threading.Lock]" = (
    weakref.WeakKeyDictionary()
)
_sqlite_write_locks_guard = threading.Lock()


def write_gate(engine: Engine) -> AbstractContextManager[object]:
    """SQLite has one writer: queue threads on a lock rather than in SQLite's busy-sleep loop."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _sqlite_write_locks_guard:
        return _sqlite_write_locks.setdefault(engine, threading.Lock())


def run_transaction(engine: Engine, work: Callable[[Connection], T], attempts: int = 3) -> T:
    """Run `work` in one transaction, retrying when a concurrent writer won a unique-key race."""
    for attempt in range(1, attempts + 1):
        try:
            with write_gate(engine), translate_outage(), engine.begin() as connection:
                return work(connection)
        except exc.IntegrityError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A consistent snapshot for queries; on SQLite it takes no write lock."""
    with translate_outage(), engine.connect() as connection:
        connection = connection.execution_options(**{READ_ONLY: True})
        with connection.begin():
            yield connection


def ping(engine: Engine) -> None:
    """Raise DatabaseUnavailable unless a trivial query succeeds."""
    with translate_outage(), engine.connect() as connection:
        connection.execute(text("SELECT 1"))
