"""Codes that open an account registered online: nothing else is kept until the code comes back

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.db.types

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registration_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("display_name", sa.String(length=50), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("created_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", tongban.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_codes")),
    )
    with op.batch_alter_table("registration_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registration_codes_id_number"), ["id_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_registration_codes_phone"), ["phone"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("registration_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registration_codes_phone"))
        batch_op.drop_index(batch_op.f("ix_registration_codes_id_number"))
    op.drop_table("registration_codes")
