"""Applications filed for a legal person by its representative or agent

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("legal_person_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_applications_legal_person_id"), ["legal_person_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_applications_legal_person_id_legal_persons"),
            "legal_persons",
            ["legal_person_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_applications_legal_person_id_legal_persons"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_applications_legal_person_id"))
        batch_op.drop_column("legal_person_id")
