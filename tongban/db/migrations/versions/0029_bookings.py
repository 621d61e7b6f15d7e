"""Booked counter visits (预约办理): slots with their places, and the bookings that take them

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.db.types

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "booking_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_code", sa.String(length=32), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("starts_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "taken >= 0 AND taken <= capacity", name=op.f("ck_booking_slots_places")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_slots")),
        sa.UniqueConstraint(
            "hall_code", "item_code", "starts_at", name=op.f("uq_booking_slots_hall_code")
        ),
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("hall_code", sa.String(length=32), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("starts_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("application_number", sa.String(length=24), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "booked",
                "arrived",
                "cancelled",
                "no_show",
                name="bookingstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["accounts.id"], name=op.f("fk_bookings_person_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["booking_slots.id"], name=op.f("fk_bookings_slot_id_booking_slots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("code", name=op.f("uq_bookings_code")),
    )
    op.create_index(op.f("ix_bookings_person_id"), "bookings", ["person_id"], unique=False)
    op.create_index(op.f("ix_bookings_slot_id"), "bookings", ["slot_id"], unique=False)
    op.create_index(
        "ix_bookings_status_starts_at", "bookings", ["status", "starts_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_bookings_status_starts_at", table_name="bookings")
    op.drop_index(op.f("ix_bookings_slot_id"), table_name="bookings")
    op.drop_index(op.f("ix_bookings_person_id"), table_name="bookings")
    op.drop_table("bookings")
    op.drop_table("booking_slots")
