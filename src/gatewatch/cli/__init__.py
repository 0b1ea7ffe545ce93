"""The `gatewatch` command, one module per domain; `main` assembles them."""

from gatewatch.cli.main import app

__all__ = ["app"]
