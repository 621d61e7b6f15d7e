"""Federated identity and data exchange: child nodes as relying parties of their parent's
sign-on; sharing requests across nodes (mirrored at the requester, linked at the provider)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.db.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("node_code", sa.String(length=12), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_oauth_clients_node_code"), ["node_code"])

    op.create_table(
        "federation_upstream_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_code", sa.String(length=12), nullable=False),
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("sealed_secret", sa.Text(), nullable=False),
        sa.Column("registered_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_upstream_clients")),
        sa.UniqueConstraint("parent_code", name=op.f("uq_federation_upstream_clients_parent_code")),
    )
    op.create_table(
        "federation_upstream_sign_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=100), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("next_path", sa.Text(), nullable=False),
        sa.Column("created_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_upstream_sign_ins")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_federation_upstream_sign_ins_state_hash")),
    )
    op.create_table(
        "federation_data_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=36), nullable=False),
        sa.Column("provider_code", sa.String(length=12), nullable=False),
        sa.Column("resource", sa.String(length=40), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("granted_items", sa.JSON(), nullable=False),
        sa.Column("expires_at", tongban.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["accounts.id"],
            name=op.f("fk_federation_data_requests_requested_by_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["system_id"],
            ["department_systems.id"],
            name=op.f("fk_federation_data_requests_system_id_department_systems"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_data_requests")),
        sa.UniqueConstraint("ref", name=op.f("uq_federation_data_requests_ref")),
    )
    with op.batch_alter_table("federation_data_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_federation_data_requests_provider_code"), ["provider_code"]
        )
        batch_op.create_index(batch_op.f("ix_federation_data_requests_system_id"), ["system_id"])
    op.create_table(
        "federation_provided_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester_code", sa.String(length=12), nullable=False),
        sa.Column("ref", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("reported", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["exchange_requests.id"],
            name=op.f("fk_federation_provided_requests_request_id_exchange_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["system_id"],
            ["department_systems.id"],
            name=op.f("fk_federation_provided_requests_system_id_department_systems"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_provided_requests")),
        sa.UniqueConstraint(
            "requester_code", "ref", name=op.f("uq_federation_provided_requests_requester_code")
        ),
    )


def downgrade() -> None:
    op.drop_table("federation_provided_requests")
    op.drop_table("federation_data_requests")
    op.drop_table("federation_upstream_sign_ins")
    op.drop_table("federation_upstream_clients")
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_oauth_clients_node_code"), type_="unique")
        batch_op.drop_column("node_code")
