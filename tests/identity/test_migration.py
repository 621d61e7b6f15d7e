"""Upgrading a deployment from before unified identity: officials keep acting on cases."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from tests.fixtures.db import fresh_database
from tongban.db.migrate import upgrade


def test_officials_from_before_roles_get_every_role_and_citizens_none(tmp_path: Path) -> None:
    with fresh_database(tmp_path, "0001") as engine:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO departments (id, code, name_zh, name_en, address_zh, address_en, "
                    "phone, created_at) VALUES (1, 'TST', '测试局', 'Test', '', '', '', :now)"
                ),
                {"now": "2026-01-01 00:00:00"},
            )
            for id_, kind, department in ((1, "official", 1), (2, "applicant", None)):
                conn.execute(
                    text(
                        "INSERT INTO accounts (id, username, display_name, kind, password_hash, "
                        "department_id, active, created_at) VALUES "
                        "(:id, :username, 'x', :kind, 'x', :department, :yes, :now)"
                    ),
                    {
                        "id": id_,
                        "username": f"old{id_}",
                        "kind": kind,
                        "department": department,
                        "yes": True,
                        "now": "2026-01-01 00:00:00",
                    },
                )

        upgrade(engine)

        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, roles, totp_enabled, totp_last_step FROM accounts ORDER BY id")
            ).all()
    roles = {
        row.id: row.roles if isinstance(row.roles, list) else json.loads(row.roles) for row in rows
    }
    assert roles == {1: ["clerk", "reviewer", "approver"], 2: []}
    assert all(not row.totp_enabled and row.totp_last_step is None for row in rows)
