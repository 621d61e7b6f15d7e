"""Bundle departments: an application covering several items of one department (a bundle's
department application), and claim codes for accounts opened at the counter

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 18:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.db.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "application_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("item_version", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_items_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["service_items.id"],
            name=op.f("fk_application_items_item_id_service_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_items")),
    )
    with op.batch_alter_table("application_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_items_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "account_claim_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("created_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", tongban.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_claim_codes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_claim_codes")),
    )
    with op.batch_alter_table("account_claim_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_claim_codes_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("account_claim_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_claim_codes_account_id"))
    op.drop_table("account_claim_codes")
    with op.batch_alter_table("application_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_items_application_id"))
    op.drop_table("application_items")
