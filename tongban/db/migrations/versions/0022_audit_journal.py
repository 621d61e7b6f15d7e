"""One audit journal for every entry: ``audit_journal`` holds entries written in their change's
transaction until the sequencer appends them to the chain (naming each entry's journal row);
the gateway's own journal (``exchange_calls.audit_seq``) goes, its calls still waiting moved to
the new journal, and a logged call may no longer change at all

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-09 10:00:00.000000
"""

import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CALL_COLUMNS = (
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
    op.create_table(
        "audit_journal",
        sa.Column("id", _BIG, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("target_type", sa.String(length=40), nullable=False),
        sa.Column("target_id", sa.String(length=80), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_journal")),
        # Ids only ever grow, the sequencer's deletes notwithstanding (SQLite would reuse them).
        sqlite_autoincrement=True,
    )
    # Added in place (SQLite too): rebuilding audit_entries would drop its append-only triggers.
    op.add_column("audit_entries", sa.Column("journal_id", _BIG, nullable=True))
    op.create_index(
        op.f("ix_audit_entries_journal_id"), "audit_entries", ["journal_id"], unique=True
    )
    _guard_journal()
    _move_waiting_calls()
    # The call log keeps no sequencing state: its triggers go before the column (on SQLite the
    # table is rebuilt), and come back refusing every change.
    _drop_call_triggers()
    with op.batch_alter_table("exchange_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_calls_unsequenced")
        batch_op.drop_column("audit_seq")
    _forbid_call_changes()


def _guard_journal() -> None:
    """A journal row is, until sequenced, the only record of what it says: it may not change,
    and it may go only once an audit entry names it."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION tongban_journal_sequence_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE'
                   AND EXISTS (SELECT 1 FROM audit_entries WHERE journal_id = OLD.id) THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'audit_journal rows go only into the audit chain';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_journal_sequence_only BEFORE UPDATE OR DELETE ON audit_journal "
            "FOR EACH ROW EXECUTE FUNCTION tongban_journal_sequence_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_journal_no_truncate BEFORE TRUNCATE ON audit_journal "
            "FOR EACH STATEMENT EXECUTE FUNCTION tongban_journal_sequence_only()"
        )
        return
    op.execute(
        "CREATE TRIGGER audit_journal_no_update BEFORE UPDATE ON audit_journal "
        "BEGIN SELECT RAISE(ABORT, 'audit_journal rows go only into the audit chain'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_journal_sequence_only BEFORE DELETE ON audit_journal "
        "WHEN NOT EXISTS (SELECT 1 FROM audit_entries WHERE journal_id = OLD.id) "
        "BEGIN SELECT RAISE(ABORT, 'audit_journal rows go only into the audit chain'); END"
    )


def _move_waiting_calls() -> None:
    """Calls the gateway's journal had not yet sequenced: their audit entries go to the audit
    journal and their "who used my data" rows are written, as that journal's sequencer did."""
    bind = op.get_bind()
    calls = bind.execute(
        sa.text(
            f"SELECT {', '.join(_CALL_COLUMNS)} FROM exchange_calls WHERE audit_seq IS NULL "
            "ORDER BY id"
        )
    ).mappings()
    systems = {
        row.id: row
        for row in bind.execute(sa.text("SELECT id, code, department_id FROM department_systems"))
    }
    entries: list[dict[str, Any]] = []
    uses: list[dict[str, Any]] = []
    for call in calls:
        items, subjects = _json(call["items"]), _json(call["subjects"])
        system = systems.get(call["system_id"])
        code = system.code if system is not None else ""
        if call["outcome"] == "ok":
            action = "exchange.gateway_call"
            details = {
                "system": code,
                "grant": call["grant_id"],
                "purpose": call["purpose"],
                "items": items,
                "subjects": subjects,
                "found": call["found"],
                "call": call["id"],
            }
            purpose_text = _purpose_text(call["grant_id"])
            uses.extend(
                {
                    "at": call["at"],
                    "subject_ref": subject,
                    "channel": "gateway",
                    "department_id": system.department_id if system is not None else None,
                    "system_id": call["system_id"],
                    "reader_id": call["account_id"],
                    "resource_id": call["resource_id"],
                    "service_item_id": None,
                    "items": json.dumps(items),
                    "purpose": call["purpose"],
                    "purpose_text": purpose_text,
                    "reference": "",
                }
                for subject in dict.fromkeys(subjects)
            )
        else:
            action = "exchange.gateway_refused"
            details = {
                "system": code,
                "purpose": call["purpose"],
                "error": call["outcome"],
                "call": call["id"],
            }
        entries.append(
            {
                "at": call["at"],
                "actor_id": call["account_id"],
                "actor": _username(call["account_id"]),
                "action": action,
                "target_type": "exchange_resource",
                "target_id": call["resource_code"],
                "details": json.dumps(details, ensure_ascii=False),
            }
        )
    if entries:
        bind.execute(
            sa.text(
                "INSERT INTO audit_journal (at, actor_id, actor, action, target_type, target_id, "
                "details) VALUES (:at, :actor_id, :actor, :action, :target_type, :target_id, "
                ":details)"
            ),
            entries,
        )
    if uses:
        bind.execute(
            sa.text(
                "INSERT INTO data_uses (at, subject_ref, channel, department_id, system_id, "
                "reader_id, resource_id, service_item_id, items, purpose, purpose_text, "
                "reference) VALUES (:at, :subject_ref, :channel, :department_id, :system_id, "
                ":reader_id, :resource_id, :service_item_id, :items, :purpose, :purpose_text, "
                ":reference)"
            ),
            uses,
        )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _username(account_id: int | None) -> str:
    if account_id is None:
        return "system"
    found = op.get_bind().execute(
        sa.text("SELECT username FROM accounts WHERE id = :id"), {"id": account_id}
    )
    return str(found.scalar_one_or_none() or "system")


def _purpose_text(grant_id: int | None) -> str:
    if grant_id is None:
        return ""
    found = op.get_bind().execute(
        sa.text(
            "SELECT r.purpose_text FROM exchange_grants g JOIN exchange_sharing_requests r "
            "ON r.id = g.request_id WHERE g.id = :id"
        ),
        {"id": grant_id},
    )
    return str(found.scalar_one_or_none() or "")


def _drop_call_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER exchange_calls_no_truncate ON exchange_calls")
        op.execute("DROP TRIGGER exchange_calls_sequence_only ON exchange_calls")
        op.execute("DROP FUNCTION tongban_calls_sequence_only()")
    else:
        op.execute("DROP TRIGGER exchange_calls_no_delete")
        op.execute("DROP TRIGGER exchange_calls_sequence_only")


def _forbid_call_changes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION tongban_calls_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'exchange_calls is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER exchange_calls_append_only BEFORE UPDATE OR DELETE ON exchange_calls "
            "FOR EACH ROW EXECUTE FUNCTION tongban_calls_append_only()"
        )
        op.execute(
            "CREATE TRIGGER exchange_calls_no_truncate BEFORE TRUNCATE ON exchange_calls "
            "FOR EACH STATEMENT EXECUTE FUNCTION tongban_calls_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER exchange_calls_no_{event.lower()} BEFORE {event} ON exchange_calls "
            "BEGIN SELECT RAISE(ABORT, 'exchange_calls is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER exchange_calls_no_truncate ON exchange_calls")
        op.execute("DROP TRIGGER exchange_calls_append_only ON exchange_calls")
        op.execute("DROP FUNCTION tongban_calls_append_only()")
    else:
        op.execute("DROP TRIGGER exchange_calls_no_update")
        op.execute("DROP TRIGGER exchange_calls_no_delete")
    with op.batch_alter_table("exchange_calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audit_seq", _BIG, nullable=True))
        batch_op.create_index(
            "ix_exchange_calls_unsequenced",
            ["id"],
            unique=False,
            sqlite_where=sa.text("audit_seq IS NULL"),
            postgresql_where=sa.text("audit_seq IS NULL"),
        )
    # Every call logged so far has its audit entry (in the chain or the journal).
    op.execute("UPDATE exchange_calls SET audit_seq = 0")
    _restore_call_sequencing()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_journal_no_truncate ON audit_journal")
        op.execute("DROP TRIGGER audit_journal_sequence_only ON audit_journal")
        op.execute("DROP FUNCTION tongban_journal_sequence_only()")
    else:
        op.execute("DROP TRIGGER audit_journal_no_update")
        op.execute("DROP TRIGGER audit_journal_sequence_only")
    op.drop_index(op.f("ix_audit_entries_journal_id"), table_name="audit_entries")
    op.drop_column("audit_entries", "journal_id")
    op.drop_table("audit_journal")


def _restore_call_sequencing() -> None:
    """0017's triggers, as they were."""
    spec = importlib.util.spec_from_file_location(
        "tongban_migration_0017", Path(__file__).with_name("0017_gateway_call_journal.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module._forbid_call_rewrites()
