"""Migrations: one head, and the models match what the migrations build (no drift)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from tests.fixtures.db import fresh_database
from tongban.db.migrate import alembic_config, upgrade
from tongban.db.models import Base


def test_single_head(engine: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config(engine))
    assert len(script.get_heads()) == 1


def test_revision_files_are_numbered_in_order(engine: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config(engine))
    revisions = [r.revision for r in script.walk_revisions()][::-1]
    assert revisions == [f"{n:04d}" for n in range(1, len(revisions) + 1)]


def test_models_match_the_migrated_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrade_keeps_existing_rows(tmp_path: Path) -> None:
    """A deployment with data upgrades from the first revision to head without losing rows."""
    with fresh_database(tmp_path, "0001") as engine:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO departments (id, code, name_zh, name_en, address_zh, address_en, "
                    "phone, created_at) VALUES (1, 'TST', '测试局', 'Test', '', '', '', :now)"
                ),
                {"now": "2026-01-01 00:00:00"},
            )
            conn.execute(
                text(
                    "INSERT INTO accounts (id, username, display_name, kind, password_hash, "
                    "department_id, active, created_at) VALUES "
                    "(1, 'old', '老用户', 'official', 'x', 1, :yes, :now)"
                ),
                {"now": "2026-01-01 00:00:00", "yes": True},
            )
        upgrade(engine)
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT username, failed_logins, totp_enabled FROM accounts WHERE id = 1")
            ).one()
        assert row.username == "old"
        assert row.failed_logins == 0
        assert not row.totp_enabled
        with engine.connect() as conn:
            context = MigrationContext.configure(conn)
            assert (
                context.get_current_revision()
                == ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
            )


def test_upgrade_turns_past_gateway_calls_into_data_use_entries(tmp_path: Path) -> None:
    """Calls the gateway served before "who used my data" existed show up in it, per subject."""
    with fresh_database(tmp_path, "0010") as engine:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO exchange_calls (id, at, purpose, items, keys, found, outcome, "
                    "subjects) VALUES (1, :at, 'housing_subsidy_review', :items, 2, 1, 'ok', "
                    ":subjects), (2, :at, 'x', '[]', 1, 0, 'no_grant', '[]')"
                ),
                {
                    "at": "2026-01-01 00:00:00",
                    "items": '["spouse_name"]',
                    "subjects": '["r1","r2"]',
                },
            )
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT subject_ref, channel, purpose FROM data_uses ORDER BY subject_ref")
            ).all()
        assert [tuple(r) for r in rows] == [
            ("r1", "gateway", "housing_subsidy_review"),
            ("r2", "gateway", "housing_subsidy_review"),
        ]
