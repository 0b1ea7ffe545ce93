"""overrides of one layer of a schedule

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("oncall_overrides", sa.Column("layer", sa.String(length=255), nullable=True))


def downgrade() -> None:
    op.drop_column("oncall_overrides", "layer")
