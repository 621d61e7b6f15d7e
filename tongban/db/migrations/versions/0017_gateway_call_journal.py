"""The gateway's call log becomes its journal: each call names its acting account and, once
sequenced into the audit log, its audit entry; a row may not change or go, but for its
sequencing

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every column but audit_seq, which sequencing sets once.
_FIXED = (
    "id",
    "at",
    "system_id",
    "resource_id",
    "grant_id",
    "purpose",
    "items",
    "keys",
    "found",
    "outcome",
    "subjects",
    "resource_code",
    "account_id",
)


def upgrade() -> None:
    with op.batch_alter_table("exchange_calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("resource_code", sa.String(length=80), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "audit_seq",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_exchange_calls_account_id_accounts"), "accounts", ["account_id"], ["id"]
        )
        batch_op.create_index(
            "ix_exchange_calls_unsequenced",
            ["id"],
            unique=False,
            sqlite_where=sa.text("audit_seq IS NULL"),
            postgresql_where=sa.text("audit_seq IS NULL"),
        )
    # Calls logged so far were audited as they were served.
    op.execute(
        "UPDATE exchange_calls SET audit_seq = 0, resource_code = COALESCE((SELECT code FROM "
        "exchange_resources WHERE exchange_resources.id = exchange_calls.resource_id), '')"
    )
    _forbid_call_rewrites()


def _forbid_call_rewrites() -> None:
    """Between the call and its sequencing the journal row is the only record of the call, so
    the database itself keeps it as the audit log keeps its entries. The one change allowed is
    sequencing: setting ``audit_seq`` once, to an audit entry that names this call (so a call
    cannot be hidden from the audit log by marking it sequenced)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION tongban_calls_sequence_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND OLD.audit_seq IS NULL
                   AND to_jsonb(NEW) - 'audit_seq' = to_jsonb(OLD) - 'audit_seq'
                   AND EXISTS (SELECT 1 FROM audit_entries WHERE seq = NEW.audit_seq
                               AND (details->>'call')::bigint = NEW.id) THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'exchange_calls is append-only; sequencing sets audit_seq once';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER exchange_calls_sequence_only BEFORE UPDATE OR DELETE "
            "ON exchange_calls FOR EACH ROW EXECUTE FUNCTION tongban_calls_sequence_only()"
        )
        op.execute(
            "CREATE TRIGGER exchange_calls_no_truncate BEFORE TRUNCATE ON exchange_calls "
            "FOR EACH STATEMENT EXECUTE FUNCTION tongban_calls_sequence_only()"
        )
        return
    unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _FIXED)
    op.execute(
        "CREATE TRIGGER exchange_calls_sequence_only BEFORE UPDATE ON exchange_calls "
        f"WHEN NOT (OLD.audit_seq IS NULL AND {unchanged} AND EXISTS (SELECT 1 FROM "
        "audit_entries WHERE seq = NEW.audit_seq AND json_extract(details, '$.call') = NEW.id)) "
        "BEGIN SELECT RAISE(ABORT, 'exchange_calls is append-only; sequencing sets audit_seq "
        "once'); END"
    )
    op.execute(
        "CREATE TRIGGER exchange_calls_no_delete BEFORE DELETE ON exchange_calls "
        "BEGIN SELECT RAISE(ABORT, 'exchange_calls is append-only'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER exchange_calls_no_truncate ON exchange_calls")
        op.execute("DROP TRIGGER exchange_calls_sequence_only ON exchange_calls")
        op.execute("DROP FUNCTION tongban_calls_sequence_only()")
    else:
        op.execute("DROP TRIGGER exchange_calls_no_delete")
        op.execute("DROP TRIGGER exchange_calls_sequence_only")
    with op.batch_alter_table("exchange_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_calls_unsequenced")
        batch_op.drop_constraint(
            batch_op.f("fk_exchange_calls_account_id_accounts"), type_="foreignkey"
        )
        batch_op.drop_column("audit_seq")
        batch_op.drop_column("account_id")
        batch_op.drop_column("resource_code")
