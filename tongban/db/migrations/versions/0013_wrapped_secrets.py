"""Secrets at rest: authenticator seeds, department systems' shared secrets and OIDC signing
keys are wrapped with the deployment's key ring (security.wrapped); existing plaintext rows are
wrapped here, so after this revision no secret is stored in plaintext.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 18:30:00
"""

import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from tongban.security import wrapped

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

accounts = sa.table(
    "accounts", sa.column("id"), sa.column("username"), sa.column("totp_secret", sa.String)
)
systems = sa.table(
    "department_systems", sa.column("id"), sa.column("code"), sa.column("secret", sa.String)
)
signing_keys = sa.table(
    "oidc_signing_keys", sa.column("id"), sa.column("kid"), sa.column("private_jwk", sa.JSON)
)


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.alter_column(
            "totp_secret", existing_type=sa.String(length=64), type_=sa.String(length=400)
        )
    with op.batch_alter_table("department_systems") as batch:
        batch.alter_column(
            "secret",
            existing_type=sa.String(length=128),
            type_=sa.String(length=1000),
            existing_nullable=False,
        )
    _convert(_wrap_text, _wrap_jwk)


def downgrade() -> None:
    _convert(_unwrap_text, _unwrap_jwk)
    with op.batch_alter_table("department_systems") as batch:
        batch.alter_column(
            "secret",
            existing_type=sa.String(length=1000),
            type_=sa.String(length=128),
            existing_nullable=False,
        )
    with op.batch_alter_table("accounts") as batch:
        batch.alter_column(
            "totp_secret", existing_type=sa.String(length=400), type_=sa.String(length=64)
        )


def _convert(
    text: Callable[[str, str], str | None],
    jwk: Callable[[dict[str, Any], str], dict[str, Any] | None],
) -> None:
    conn = op.get_bind()
    for row in conn.execute(sa.select(accounts).where(accounts.c.totp_secret.is_not(None))):
        new = text(row.totp_secret, wrapped.totp_owner(row.username))
        if new is not None:
            conn.execute(accounts.update().where(accounts.c.id == row.id).values(totp_secret=new))
    for row in conn.execute(sa.select(systems)):
        new = text(row.secret, wrapped.system_owner(row.code))
        if new is not None:
            conn.execute(systems.update().where(systems.c.id == row.id).values(secret=new))
    for row in conn.execute(sa.select(signing_keys)):
        stored = (
            row.private_jwk if isinstance(row.private_jwk, dict) else json.loads(row.private_jwk)
        )
        new_jwk = jwk(stored, wrapped.signing_key_owner(row.kid))
        if new_jwk is not None:
            conn.execute(
                signing_keys.update().where(signing_keys.c.id == row.id).values(private_jwk=new_jwk)
            )


# Each returns the new stored value, or None to leave the row as it is (already converted).


def _wrap_text(stored: str, owner: str) -> str | None:
    return None if wrapped.is_wrapped(stored) else wrapped.wrap(stored, owner=owner)


def _unwrap_text(stored: str, owner: str) -> str | None:
    return wrapped.unwrap(stored, owner=owner) if wrapped.is_wrapped(stored) else None


def _wrap_jwk(stored: dict[str, Any], owner: str) -> dict[str, Any] | None:
    if not stored or wrapped.SEALED in stored:
        return None
    return {wrapped.SEALED: wrapped.wrap(json.dumps(stored), owner=owner)}


def _unwrap_jwk(stored: dict[str, Any], owner: str) -> dict[str, Any] | None:
    if wrapped.SEALED not in stored:
        return None
    found: dict[str, Any] = json.loads(wrapped.unwrap(stored[wrapped.SEALED], owner=owner))
    return found
