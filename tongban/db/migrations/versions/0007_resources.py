"""Master data: persons, companies, identifiers, department records, entity resolution
reviews and link history, data elements with authoritative sources, values and conflicts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.db.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "master_companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cid", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_master_companies")),
        sa.UniqueConstraint("cid", name=op.f("uq_master_companies_cid")),
    )
    op.create_table(
        "master_persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pid", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("birth_date", sa.String(length=10), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_master_persons")),
        sa.UniqueConstraint("pid", name=op.f("uq_master_persons_pid")),
    )
    op.create_table(
        "resource_elements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("authority", sa.String(length=40), nullable=False),
        sa.Column("subscribers", sa.JSON(), nullable=False),
        sa.Column("meaning_zh", sa.Text(), nullable=False),
        sa.Column("meaning_en", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=200), nullable=False),
        sa.Column("security_label", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_elements")),
        sa.UniqueConstraint("code", name=op.f("uq_resource_elements_code")),
    )
    op.create_table(
        "company_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column(
            "scheme",
            sa.Enum(
                "uscc",
                "registration_number",
                "organisation_code",
                name="companyscheme",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("problem", sa.String(length=200), nullable=False),
        sa.Column("created_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["master_companies.id"],
            name=op.f("fk_company_identifiers_company_id_master_companies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_identifiers")),
        sa.UniqueConstraint(
            "company_id", "scheme", "value", name=op.f("uq_company_identifiers_company_id")
        ),
    )
    with op.batch_alter_table("company_identifiers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_company_identifiers_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index("ix_company_identifiers_lookup", ["scheme", "value"], unique=False)

    op.create_table(
        "resource_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("element", sa.String(length=40), nullable=False),
        sa.Column("authority", sa.String(length=40), nullable=False),
        sa.Column("authority_value", sa.String(length=300), nullable=True),
        sa.Column("other_source", sa.String(length=40), nullable=False),
        sa.Column("other_value", sa.String(length=300), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "resolved", name="conflictstatus", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("created_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", tongban.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["master_persons.id"],
            name=op.f("fk_resource_conflicts_person_id_master_persons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_conflicts")),
        sa.UniqueConstraint(
            "person_id", "element", "other_source", name=op.f("uq_resource_conflicts_person_id")
        ),
    )
    with op.batch_alter_table("resource_conflicts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resource_conflicts_authority"), ["authority"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_resource_conflicts_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_resource_conflicts_status"), ["status"], unique=False)

    op.create_table(
        "resource_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("local_id", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("birth_date", sa.String(length=10), nullable=True),
        sa.Column("id_number", sa.String(length=40), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("id_problem", sa.String(length=200), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("received_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checked_at", tongban.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["master_persons.id"],
            name=op.f("fk_resource_records_person_id_master_persons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_records")),
        sa.UniqueConstraint("source", "local_id", name=op.f("uq_resource_records_source")),
    )
    with op.batch_alter_table("resource_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resource_records_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_resource_records_source"), ["source"], unique=False)

    op.create_table(
        "resource_value_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("element", sa.String(length=40), nullable=False),
        sa.Column("old_value", sa.String(length=300), nullable=True),
        sa.Column("new_value", sa.String(length=300), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["master_persons.id"],
            name=op.f("fk_resource_value_changes_person_id_master_persons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_value_changes")),
    )
    with op.batch_alter_table("resource_value_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resource_value_changes_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "resource_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("element", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("updated_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["master_persons.id"],
            name=op.f("fk_resource_values_person_id_master_persons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_values")),
        sa.UniqueConstraint("person_id", "element", name=op.f("uq_resource_values_person_id")),
    )
    with op.batch_alter_table("resource_values", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resource_values_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "person_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "scheme",
            sa.Enum(
                "resident_id",
                "old_resident_id",
                "passport",
                "hk_macao_permit",
                "taiwan_permit",
                "social_security",
                "department_local",
                name="personscheme",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.String(length=40), nullable=False),
        sa.Column("problem", sa.String(length=200), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("created_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["master_persons.id"],
            name=op.f("fk_person_identifiers_person_id_master_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["resource_records.id"],
            name=op.f("fk_person_identifiers_record_id_resource_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_identifiers")),
    )
    with op.batch_alter_table("person_identifiers", schema=None) as batch_op:
        batch_op.create_index("ix_person_identifiers_lookup", ["scheme", "value"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_person_identifiers_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_person_identifiers_record_id"), ["record_id"], unique=False
        )

    op.create_table(
        "resource_link_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("from_person_id", sa.Integer(), nullable=True),
        sa.Column("to_person_id", sa.Integer(), nullable=True),
        sa.Column(
            "reason",
            sa.Enum("auto", "steward", "undo", name="linkreason", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("match_probability", sa.Double(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("undone_at", tongban.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["accounts.id"], name=op.f("fk_resource_link_events_actor_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["from_person_id"],
            ["master_persons.id"],
            name=op.f("fk_resource_link_events_from_person_id_master_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["resource_records.id"],
            name=op.f("fk_resource_link_events_record_id_resource_records"),
        ),
        sa.ForeignKeyConstraint(
            ["to_person_id"],
            ["master_persons.id"],
            name=op.f("fk_resource_link_events_to_person_id_master_persons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_link_events")),
    )
    with op.batch_alter_table("resource_link_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resource_link_events_record_id"), ["record_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_resource_link_events_to_person_id"), ["to_person_id"], unique=False
        )

    op.create_table(
        "resource_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_a_id", sa.Integer(), nullable=False),
        sa.Column("record_b_id", sa.Integer(), nullable=False),
        sa.Column("match_probability", sa.Double(), nullable=False),
        sa.Column("match_weight", sa.Double(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "same", "distinct", name="reviewstatus", native_enum=False, length=24
            ),
            nullable=False,
        ),
        sa.Column("created_at", tongban.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", tongban.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["accounts.id"],
            name=op.f("fk_resource_reviews_decided_by_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["record_a_id"],
            ["resource_records.id"],
            name=op.f("fk_resource_reviews_record_a_id_resource_records"),
        ),
        sa.ForeignKeyConstraint(
            ["record_b_id"],
            ["resource_records.id"],
            name=op.f("fk_resource_reviews_record_b_id_resource_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_reviews")),
        sa.UniqueConstraint(
            "record_a_id", "record_b_id", name=op.f("uq_resource_reviews_record_a_id")
        ),
    )
    with op.batch_alter_table("resource_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resource_reviews_record_a_id"), ["record_a_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_resource_reviews_record_b_id"), ["record_b_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_resource_reviews_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("resource_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_reviews_status"))
        batch_op.drop_index(batch_op.f("ix_resource_reviews_record_b_id"))
        batch_op.drop_index(batch_op.f("ix_resource_reviews_record_a_id"))

    op.drop_table("resource_reviews")
    with op.batch_alter_table("resource_link_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_link_events_to_person_id"))
        batch_op.drop_index(batch_op.f("ix_resource_link_events_record_id"))

    op.drop_table("resource_link_events")
    with op.batch_alter_table("person_identifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_identifiers_record_id"))
        batch_op.drop_index(batch_op.f("ix_person_identifiers_person_id"))
        batch_op.drop_index("ix_person_identifiers_lookup")

    op.drop_table("person_identifiers")
    with op.batch_alter_table("resource_values", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_values_person_id"))

    op.drop_table("resource_values")
    with op.batch_alter_table("resource_value_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_value_changes_person_id"))

    op.drop_table("resource_value_changes")
    with op.batch_alter_table("resource_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_records_source"))
        batch_op.drop_index(batch_op.f("ix_resource_records_person_id"))

    op.drop_table("resource_records")
    with op.batch_alter_table("resource_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_conflicts_status"))
        batch_op.drop_index(batch_op.f("ix_resource_conflicts_person_id"))
        batch_op.drop_index(batch_op.f("ix_resource_conflicts_authority"))

    op.drop_table("resource_conflicts")
    with op.batch_alter_table("company_identifiers", schema=None) as batch_op:
        batch_op.drop_index("ix_company_identifiers_lookup")
        batch_op.drop_index(batch_op.f("ix_company_identifiers_company_id"))

    op.drop_table("company_identifiers")
    op.drop_table("resource_elements")
    op.drop_table("master_persons")
    op.drop_table("master_companies")
