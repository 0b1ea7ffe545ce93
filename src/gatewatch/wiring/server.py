"""Assemble a runnable server from a config: store, migrations, services, app, workers."""

import logging
import os
import secrets
from pathlib import Path

from fastapi import FastAPI

from gatewatch.auth.roles import Role
from gatewatch.clock import Clock
from gatewatch.config import GatewatchConfig
from gatewatch.config.auth import AuthConfig, TokenConfig
from gatewatch.store.database import create_database_engine, migrate
from gatewatch.web.app import create_app
from gatewatch.wiring.services import build_services
from gatewatch.wiring.workers import worker_lifespan

log = logging.getLogger("gatewatch")
ADMIN_TOKEN_FILE = "admin.token"


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


def build_app(config: GatewatchConfig, clock: Clock) -> FastAPI:
    """Migrate the store and return the app, with its timer and delivery workers."""
    database = create_database_engine(config.database_url)
    migrate(database)
    services = build_services(config, database, clock)
    return create_app(services, lifespan=worker_lifespan(services))
