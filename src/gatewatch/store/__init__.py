"""Persistence: SQLAlchemy tables, connection setup, migrations and the queries over them."""
