"""The department systems' connectors kept in memory by version (``db.versions``, issue 19):
publishing an event no longer reads them on every write

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-08 00:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_versions = sa.table("data_versions", sa.column("name", sa.String), sa.column("version"))


def upgrade() -> None:
    op.bulk_insert(_versions, [{"name": "connectors", "version": 0}])


def downgrade() -> None:
    op.execute(_versions.delete().where(_versions.c.name == "connectors"))
