"""Assemble a runnable server from a config: store, migrations, services, app, workers."""

import json
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine

from gatewatch.auth.roles import Role
from gatewatch.clock import Clock, FileClock, SystemClock
from gatewatch.config import GatewatchConfig, load_config
from gatewatch.config.auth import AuthConfig, TokenConfig
from gatewatch.rules.packs import tuning_problems
from gatewatch.store.database import check_schema, create_database_engine, migrate
from gatewatch.web.app import create_app
from gatewatch.wiring.services import build_services
from gatewatch.wiring.workers import worker_lifespan

log = logging.getLogger("gatewatch")
ADMIN_TOKEN_FILE = "admin.token"
# How `serve --workers N` hands its options to the worker processes uvicorn spawns.
SERVE_OPTIONS_ENV = "GATEWATCH_SERVE_OPTIONS"


def checked_config(path: Path | None, environ: Mapping[str, str]) -> GatewatchConfig:
    """gatewatch.yml with the environment, every check made (the rule packs' tuning too)."""
    return load_config(path, environ, checks=(tuning_problems,))


@dataclass(frozen=True)
class ServeOptions:
    """What `gatewatch serve` was asked for on its command line."""

    config: str | None = None
    listen: str | None = None
    clock_file: str | None = None

    def load(self, environ: Mapping[str, str]) -> tuple[GatewatchConfig, Clock]:
        """The validated config (the listen override and bootstrap token applied) and clock."""
        settings = checked_config(Path(self.config) if self.config else None, environ)
        if self.listen is not None:
            settings = settings.model_copy(update={"listen": self.listen})
        clock: Clock = FileClock(Path(self.clock_file)) if self.clock_file else SystemClock()
        return with_bootstrap_token(settings), clock

    def to_environment(self) -> dict[str, str]:
        return {SERVE_OPTIONS_ENV: json.dumps(asdict(self))}


def admin_token_path(data_dir: Path) -> Path:
    return data_dir / ADMIN_TOKEN_FILE


def with_bootstrap_token(config: GatewatchConfig) -> GatewatchConfig:
    """With no tokens configured, make (once) an admin token in the data dir, readable by owner.

    So `gatewatch serve` with no config is usable at once, and never open to anyone.
    """
    if config.auth.tokens:
        return config
    path = admin_token_path(config.data_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
    token = path.read_text().strip()
    log.warning("no auth.tokens configured: admin token is in %s", path)
    admin = TokenConfig(name="admin", role=Role.ADMIN, token=token)
    return config.model_copy(update={"auth": AuthConfig(tokens=[admin])})


def build_app(config: GatewatchConfig, clock: Clock, migrate_schema: bool = True) -> FastAPI:
    """Migrate the store (or only check its schema) and return the app, with its timer and
    delivery workers."""
    database = create_database_engine(config.database_url)
    _ready_schema(database, migrate_schema)
    services = build_services(config, database, clock)
    return create_app(services, lifespan=worker_lifespan(services))


def prepare_store(config: GatewatchConfig, migrate_schema: bool) -> None:
    """Migrate the store's schema, or check that it is current, once before worker
    processes start (they then only check it)."""
    database = create_database_engine(config.database_url)
    try:
        _ready_schema(database, migrate_schema)
    finally:
        database.dispose()


def _ready_schema(database: Engine, migrate_schema: bool) -> None:
    """Migrate the schema, or only check that it is current (raises SchemaMismatch)."""
    if migrate_schema:
        migrate(database)
    else:
        check_schema(database)


def worker_app() -> FastAPI:
    """uvicorn's app factory in each process of `serve --workers N`. Every process runs
    everything (API, timers, delivery) on the shared database, which is what coordinates
    them; spawned fresh, a process gets its options from the parent's environment."""
    options = ServeOptions(**json.loads(os.environ[SERVE_OPTIONS_ENV]))
    return build_app(*options.load(os.environ), migrate_schema=False)
