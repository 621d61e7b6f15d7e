"""Clearances, label overrides and their dual-controlled changes; the audit chain's suite;
every catalog form field labelled

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Fields loaded before labels existed get the highest packaged grade: nobody reads them until a
# catalog reload (or an administrator) labels them, which fails closed rather than open.
UNLABELLED = "core"


def upgrade() -> None:
    op.create_table(
        "security_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("clearance", "label", name="changekind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("target", sa.String(length=120), nullable=False),
        sa.Column("target_name", sa.String(length=120), nullable=False),
        sa.Column("value", sa.String(length=400), nullable=False),
        sa.Column("previous", sa.String(length=400), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "applied", "rejected", name="changestatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("proposed_by_name", sa.String(length=100), nullable=False),
        sa.Column("proposed_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=100), nullable=True),
        sa.Column("decided_at", tongban.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["accounts.id"],
            name=op.f("fk_security_changes_decided_by_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"],
            ["accounts.id"],
            name=op.f("fk_security_changes_proposed_by_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_changes")),
    )
    op.create_index(
        op.f("ix_security_changes_status"), "security_changes", ["status"], unique=False
    )
    op.create_index(
        op.f("ix_security_changes_target"), "security_changes", ["target"], unique=False
    )
    op.create_table(
        "security_clearances",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("clearance", sa.String(length=400), nullable=False),
        sa.Column("updated_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=True),
        sa.Column("created_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_security_clearances_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["security_changes.id"],
            name=op.f("fk_security_clearances_change_id_security_changes"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_security_clearances")),
    )
    op.create_table(
        "security_label_overrides",
        sa.Column("target", sa.String(length=120), nullable=False),
        sa.Column("label", sa.String(length=400), nullable=False),
        sa.Column("updated_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=True),
        sa.Column("created_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["security_changes.id"],
            name=op.f("fk_security_label_overrides_change_id_security_changes"),
        ),
        sa.PrimaryKeyConstraint("target", name=op.f("pk_security_label_overrides")),
    )
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("suite", sa.String(length=20), server_default="intl", nullable=False)
        )
    _label_existing_fields()


def _label_existing_fields() -> None:
    items = sa.table("service_items", sa.column("id", sa.Integer()), sa.column("fields", sa.JSON()))
    bind = op.get_bind()
    for item_id, fields in bind.execute(sa.select(items.c.id, items.c.fields)).all():
        if isinstance(fields, str):
            fields = json.loads(fields)
        if all("security_label" in f for f in fields):
            continue
        labelled = [{**f, "security_label": f.get("security_label", UNLABELLED)} for f in fields]
        bind.execute(items.update().where(items.c.id == item_id).values(fields=labelled))


def downgrade() -> None:
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.drop_column("suite")
    op.drop_table("security_label_overrides")
    op.drop_table("security_clearances")
    op.drop_index(op.f("ix_security_changes_target"), table_name="security_changes")
    op.drop_index(op.f("ix_security_changes_status"), table_name="security_changes")
    op.drop_table("security_changes")
