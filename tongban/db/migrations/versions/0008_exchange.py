"""Data sharing exchange: resource catalog, requests, grants, gateway calls; machine clients

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.db.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exchange_resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("description_zh", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=True),
        sa.Column("store", sa.String(length=40), nullable=True),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("update_frequency", sa.String(length=20), nullable=False),
        sa.Column("format", sa.String(length=40), nullable=False),
        sa.Column("open_data", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", tongban.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_exchange_resources_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["system_id"],
            ["department_systems.id"],
            name=op.f("fk_exchange_resources_system_id_department_systems"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_resources")),
        sa.UniqueConstraint("code", name=op.f("uq_exchange_resources_code")),
    )
    with op.batch_alter_table("exchange_resources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_resources_department_id"), ["department_id"], unique=False
        )

    op.create_table(
        "exchange_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("meaning_zh", sa.Text(), nullable=False),
        sa.Column("meaning_en", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("format", sa.String(length=200), nullable=False),
        sa.Column("element", sa.String(length=40), nullable=True),
        sa.Column("security_label", sa.String(length=400), nullable=False),
        sa.Column("semantic", sa.String(length=40), nullable=False),
        sa.Column("maintainer", sa.String(length=100), nullable=False),
        sa.Column(
            "sharing",
            sa.Enum(
                "unconditional",
                "conditional",
                "not_shared",
                name="sharing",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("condition_zh", sa.Text(), nullable=False),
        sa.Column("condition_en", sa.Text(), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("source_field", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["exchange_resources.id"],
            name=op.f("fk_exchange_items_resource_id_exchange_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_items")),
        sa.UniqueConstraint("resource_id", "code", name=op.f("uq_exchange_items_resource_id")),
    )
    with op.batch_alter_table("exchange_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_items_resource_id"), ["resource_id"], unique=False
        )

    op.create_table(
        "exchange_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("requester_department_id", sa.Integer(), nullable=False),
        sa.Column("requester_system_id", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=60), nullable=False),
        sa.Column("purpose_text", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "granted",
                "partial",
                "denied",
                name="requeststatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("pending_items", sa.JSON(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", tongban.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["accounts.id"],
            name=op.f("fk_exchange_requests_decided_by_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["accounts.id"],
            name=op.f("fk_exchange_requests_requested_by_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["requester_department_id"],
            ["departments.id"],
            name=op.f("fk_exchange_requests_requester_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["requester_system_id"],
            ["department_systems.id"],
            name=op.f("fk_exchange_requests_requester_system_id_department_systems"),
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["exchange_resources.id"],
            name=op.f("fk_exchange_requests_resource_id_exchange_resources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_requests")),
    )
    with op.batch_alter_table("exchange_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_requests_requester_department_id"),
            ["requester_department_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_requests_resource_id"), ["resource_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_exchange_requests_status"), ["status"], unique=False)

    op.create_table(
        "exchange_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=60), nullable=False),
        sa.Column("granted_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rate_per_minute", sa.Integer(), nullable=False),
        sa.Column("window_start", tongban.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("window_calls", sa.Integer(), nullable=False),
        sa.Column("revoked_at", tongban.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["exchange_requests.id"],
            name=op.f("fk_exchange_grants_request_id_exchange_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["exchange_resources.id"],
            name=op.f("fk_exchange_grants_resource_id_exchange_resources"),
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["accounts.id"],
            name=op.f("fk_exchange_grants_revoked_by_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["system_id"],
            ["department_systems.id"],
            name=op.f("fk_exchange_grants_system_id_department_systems"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_grants")),
    )
    with op.batch_alter_table("exchange_grants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exchange_grants_lookup", ["system_id", "resource_id", "purpose"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_grants_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "exchange_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=True),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=60), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("keys", sa.Integer(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["exchange_grants.id"],
            name=op.f("fk_exchange_calls_grant_id_exchange_grants"),
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["exchange_resources.id"],
            name=op.f("fk_exchange_calls_resource_id_exchange_resources"),
        ),
        sa.ForeignKeyConstraint(
            ["system_id"],
            ["department_systems.id"],
            name=op.f("fk_exchange_calls_system_id_department_systems"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_calls")),
    )
    with op.batch_alter_table("exchange_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_calls_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_exchange_calls_outcome"), ["outcome"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_exchange_calls_resource_id"), ["resource_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_calls_system_id"), ["system_id"], unique=False
        )

    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_oauth_clients_account_id_accounts"), "accounts", ["account_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_oauth_clients_account_id_accounts"), type_="foreignkey"
        )
        batch_op.drop_column("account_id")

    with op.batch_alter_table("exchange_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_calls_system_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_calls_resource_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_calls_outcome"))
        batch_op.drop_index(batch_op.f("ix_exchange_calls_at"))

    op.drop_table("exchange_calls")
    with op.batch_alter_table("exchange_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_grants_request_id"))
        batch_op.drop_index("ix_exchange_grants_lookup")

    op.drop_table("exchange_grants")
    with op.batch_alter_table("exchange_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_requests_status"))
        batch_op.drop_index(batch_op.f("ix_exchange_requests_resource_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_requests_requester_department_id"))

    op.drop_table("exchange_requests")
    with op.batch_alter_table("exchange_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_items_resource_id"))

    op.drop_table("exchange_items")
    with op.batch_alter_table("exchange_resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_resources_department_id"))

    op.drop_table("exchange_resources")
