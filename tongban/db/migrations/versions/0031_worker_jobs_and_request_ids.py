"""Background jobs leased by `tongban worker` processes (``worker_jobs``), and the request id
of the web request that wrote an audit entry or an outbox message

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-08 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_jobs",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("holder", sa.String(length=80), nullable=True),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_jobs")),
    )
    for table in ("audit_journal", "audit_entries", "outbox_messages"):
        op.add_column(table, sa.Column("request_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    for table in ("audit_journal", "audit_entries", "outbox_messages"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("request_id")
    op.drop_table("worker_jobs")
