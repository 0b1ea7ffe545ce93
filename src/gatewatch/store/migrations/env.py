"""Alembic environment: runs on the connection gatewatch hands it (see store.database.migrate)."""

from alembic import context
from sqlalchemy import create_engine

from gatewatch.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    # `alembic` run by hand: use the URL from the ini file or -x url=...
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("alembic: pass the database with -x url=sqlite:///path/to.db")
    connection = create_engine(url).connect()

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
