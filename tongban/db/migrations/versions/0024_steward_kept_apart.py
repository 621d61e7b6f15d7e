"""Pairs a steward kept apart by unlinking or undoing a link carry no score

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-09 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("resource_reviews", schema=None) as batch_op:
        batch_op.alter_column("match_probability", existing_type=sa.Float(), nullable=True)
        batch_op.alter_column("match_weight", existing_type=sa.Float(), nullable=True)


def downgrade() -> None:
    op.execute(
        "DELETE FROM resource_reviews WHERE match_probability IS NULL OR match_weight IS NULL"
    )
    with op.batch_alter_table("resource_reviews", schema=None) as batch_op:
        batch_op.alter_column("match_weight", existing_type=sa.Float(), nullable=False)
        batch_op.alter_column("match_probability", existing_type=sa.Float(), nullable=False)
