"""The catalog's version: one row every change of the catalog raises, so each process knows
whether the copy it serves from memory is current

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-08 09:00:00.000000
"""

import secrets
import time
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "catalog_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("tag", sa.String(length=32), nullable=False),
        sa.Column("changed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_version")),
    )
    op.bulk_insert(
        table,
        [{"id": 1, "number": 1, "tag": secrets.token_hex(16), "changed_at": int(time.time())}],
    )


def downgrade() -> None:
    op.drop_table("catalog_version")
