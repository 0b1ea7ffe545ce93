"""timer claims: a pass marks the timers it will run, with a lease

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("timers", sa.Column("claim", sa.String(length=36), nullable=True))
    op.add_column("timers", sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("timers", "claimed_until")
    op.drop_column("timers", "claim")
