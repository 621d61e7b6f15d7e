"""Fewer materials: what replaces an upload, per catalog material (generated from the form, the
verified identity, a record fetched through the exchange), where each case material came from,
and which shared data items ask for the person's consent

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("material_requirements") as batch_op:
        batch_op.add_column(sa.Column("generated", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("satisfied_by_identity", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("satisfied_by_data", sa.String(length=40), nullable=True))
    with op.batch_alter_table("application_materials") as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=12), server_default="upload", nullable=False)
        )
        batch_op.add_column(
            sa.Column("source_ref", sa.String(length=80), server_default="", nullable=False)
        )
    with op.batch_alter_table("exchange_items") as batch_op:
        batch_op.add_column(
            sa.Column("consent", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("exchange_items") as batch_op:
        batch_op.drop_column("consent")
    with op.batch_alter_table("application_materials") as batch_op:
        batch_op.drop_column("source_ref")
        batch_op.drop_column("source")
    with op.batch_alter_table("material_requirements") as batch_op:
        batch_op.drop_column("satisfied_by_data")
        batch_op.drop_column("satisfied_by_identity")
        batch_op.drop_column("generated")
