"""Payments of a case's fee through a payment provider, and their refunds

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-09 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.db.types

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "created",
                "started",
                "success",
                "failed",
                "timed_out",
                "refunded",
                name="paymentstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.String(length=80), nullable=True),
        sa.Column("next_url", sa.Text(), nullable=False),
        sa.Column("failure", sa.String(length=200), nullable=False),
        sa.Column("paid_at", tongban.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refunded_at", tongban.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refund_id", sa.String(length=80), nullable=True),
        sa.Column("refund_reason", sa.Text(), nullable=False),
        sa.Column("refunded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_payments_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_payments_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["accounts.id"], name=op.f("fk_payments_payer_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["refunded_by"], ["accounts.id"], name=op.f("fk_payments_refunded_by_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("reference", name=op.f("uq_payments_reference")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payments_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payments_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payments_number"), ["number"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_status"))
        batch_op.drop_index(batch_op.f("ix_payments_provider_id"))
        batch_op.drop_index(batch_op.f("ix_payments_number"))
        batch_op.drop_index(batch_op.f("ix_payments_department_id"))
        batch_op.drop_index(batch_op.f("ix_payments_application_id"))

    op.drop_table("payments")
