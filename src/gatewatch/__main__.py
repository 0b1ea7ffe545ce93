"""`python -m gatewatch` runs the CLI."""

from gatewatch.cli import app

app()
