"""A parent node keeps its children's signed audit checkpoints as their witness

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.db.types

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "federation_witnessed_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node_code", sa.String(length=12), nullable=False),
        sa.Column("size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.Column("signed_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("suite", sa.String(length=8), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("received_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_witnessed_checkpoints")),
        sa.UniqueConstraint(
            "node_code", "size", name=op.f("uq_federation_witnessed_checkpoints_node_code")
        ),
    )


def downgrade() -> None:
    op.drop_table("federation_witnessed_checkpoints")
