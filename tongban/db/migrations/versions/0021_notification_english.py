"""In-app messages kept in English too, shown in the language the reader chose

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 14:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("subject_en", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("body_en", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("body_en")
        batch_op.drop_column("subject_en")
