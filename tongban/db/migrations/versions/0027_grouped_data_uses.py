"""An official's uses of one case are one "who used my data" entry a day, counted

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-09 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.db.types

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("data_uses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_at", tongban.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("times", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("data_uses", schema=None) as batch_op:
        batch_op.drop_column("times")
        batch_op.drop_column("first_at")
