"""A conflict between sources is closed by the authority's department: confirmed, corrected or
dismissed, with a note and who closed it

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-09 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("resource_conflicts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "resolution",
                sa.Enum(
                    "agreed",
                    "confirmed",
                    "corrected",
                    "dismissed",
                    name="conflictresolution",
                    native_enum=False,
                    length=24,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("note", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("closed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_resource_conflicts_closed_by_id_accounts"),
            "accounts",
            ["closed_by_id"],
            ["id"],
        )
    # Conflicts closed before decisions existed closed because the values agreed again.
    op.execute("UPDATE resource_conflicts SET resolution = 'agreed' WHERE status = 'resolved'")


def downgrade() -> None:
    with op.batch_alter_table("resource_conflicts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_resource_conflicts_closed_by_id_accounts"), type_="foreignkey"
        )
        batch_op.drop_column("closed_by_id")
        batch_op.drop_column("note")
        batch_op.drop_column("resolution")
