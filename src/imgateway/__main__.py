"""`python -m imgateway` runs the CLI."""

from imgateway.cli import app

app()
