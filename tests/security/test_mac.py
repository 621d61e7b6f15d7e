"""Mandatory access control on records. The adversary is the issue's: an official cleared
``internal`` trying every in-memory read path for an ``important:health`` field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongban.security import mac
from tongban.security.errors import FieldNotUsable, UnlabelledField, WriteDownRefused
from tongban.security.labels import Clearance, Label, default_scheme
from tongban.security.mac import LabelledField, Schema
from tongban.security.masking import REDACTED, Masker, parse_policy

SCHEME = default_scheme()
IDENTITY = SCHEME.label("important", "identity")
HEALTH = SCHEME.parse_label("important:health")

SCHEMA = Schema.of(
    {
        "application_no": LabelledField(SCHEME.public(), "other"),
        "status": LabelledField(SCHEME.label("internal"), "other"),
        "name": LabelledField(IDENTITY, "name"),
        "id_number": LabelledField(IDENTITY, "id_number"),
        "phone": LabelledField(IDENTITY, "phone"),
        "diagnosis": LabelledField(HEALTH, "other"),
        "hospital_phone": LabelledField(HEALTH, "phone"),
        "bank_account": LabelledField(SCHEME.label("core", "finance"), "id_number"),
    }
)
DIAGNOSES = ["糖尿病", "高血压", "哮喘"]


def _records() -> list[dict[str, Any]]:
    return [
        {
            "application_no": f"TB2026112600000{i}X",
            "status": ["submitted", "accepted", "decided"][i % 3],
            "name": ["张三", "李四", "王五"][i % 3],
            "id_number": f"11010119900307{i:04d}",
            "phone": f"138{i:08d}",
            "diagnosis": DIAGNOSES[i % 3],
            "hospital_phone": f"0571{i:07d}",
            "bank_account": f"6222{i:012d}",
        }
        for i in range(9)
    ]


def _raw_health_values(records: list[dict[str, Any]]) -> set[str]:
    return {str(r[k]) for r in records for k in ("diagnosis", "hospital_phone")}


def _everything_shown(records: list[dict[str, Any]]) -> str:
    return repr(records)


INTERNAL = SCHEME.clearance("internal")
HEALTH_OFFICER = SCHEME.clearance("important", "health", "identity")


class TestEnforce:
    def test_an_internal_official_gets_nothing_of_an_important_health_field(self) -> None:
        records = _records()
        shown = mac.enforce(INTERNAL, records, SCHEMA)
        assert [r["diagnosis"] for r in shown] == [REDACTED] * len(records)
        text = _everything_shown(shown)
        for diagnosis in DIAGNOSES:
            assert diagnosis not in text
        # The hospital phone is a phone: partly shown, its middle never.
        for record, row in zip(records, shown, strict=True):
            assert row["hospital_phone"] != record["hospital_phone"]
            assert row["hospital_phone"][3:-4] == "*" * (len(record["hospital_phone"]) - 7)

    def test_masks_identity_fields_as_the_policy_says(self) -> None:
        row = mac.enforce(INTERNAL, _records()[:1], SCHEMA)[0]
        assert row["name"] == "张*"
        assert row["id_number"] == "110***********0000"
        assert row["phone"] == "138****0000"

    def test_a_core_field_is_redacted_for_everyone_below_core(self) -> None:
        for clearance in (INTERNAL, HEALTH_OFFICER):
            assert {r["bank_account"] for r in mac.enforce(clearance, _records(), SCHEMA)} == {
                REDACTED
            }

    def test_fields_the_reader_may_read_are_shown_as_they_are(self) -> None:
        records = _records()
        shown = mac.enforce(HEALTH_OFFICER, records, SCHEMA)
        for record, row in zip(records, shown, strict=True):
            for name in ("application_no", "status", "name", "id_number", "diagnosis"):
                assert row[name] == record[name]

    def test_a_full_clearance_sees_every_record_as_it_is(self) -> None:
        records = _records()
        everything = SCHEME.clearance("core", *SCHEME.compartment_codes)
        assert mac.enforce(everything, records, SCHEMA) == records

    def test_never_changes_the_records_it_is_given(self) -> None:
        records = _records()
        before = copy.deepcopy(records)
        shown = mac.enforce(INTERNAL, records, SCHEMA)
        assert records == before
        assert all(a is not b for a, b in zip(records, shown, strict=True))

    def test_the_number_of_records_never_depends_on_the_clearance(self) -> None:
        records = _records()
        for clearance in (SCHEME.clearance("public"), INTERNAL, HEALTH_OFFICER):
            assert len(mac.enforce(clearance, records, SCHEMA)) == len(records)

    def test_a_field_the_schema_does_not_label_refuses_the_read(self) -> None:
        records = _records()
        records[4]["blood_type"] = "AB"
        for clearance in (INTERNAL, SCHEME.clearance("core", *SCHEME.compartment_codes)):
            with pytest.raises(UnlabelledField) as caught:
                mac.enforce(clearance, records, SCHEMA)
            assert caught.value.field == "blood_type"
            assert "AB" not in str(caught.value)

    def test_a_record_missing_a_field_stays_without_it(self) -> None:
        record = _records()[0]
        del record["phone"]
        row = mac.enforce(INTERNAL, [record], SCHEMA)[0]
        assert "phone" not in row

    def test_a_redacted_field_shows_the_same_whether_the_value_is_there_or_not(self) -> None:
        record = _records()[0]
        del record["diagnosis"]
        assert mac.enforce(INTERNAL, [record], SCHEMA)[0]["diagnosis"] == REDACTED

    def test_a_dropped_field_is_absent(self) -> None:
        masker = Masker(
            parse_policy(
                "semantic_types:\n  other: {function: redact}\ngrades:\n  core: {function: drop}\n"
            )
        )
        rows = mac.enforce(INTERNAL, _records(), SCHEMA, masker=masker)
        assert all("bank_account" not in row for row in rows)
        assert "bank_account" not in mac.plan(INTERNAL, SCHEMA, masker=masker).columns

    def test_accepts_a_plain_mapping_as_schema(self) -> None:
        schema = {"diagnosis": (HEALTH, "other"), "status": (SCHEME.label("internal"), "other")}
        rows = mac.enforce(INTERNAL, [{"diagnosis": "哮喘", "status": "new"}], schema)
        assert rows == [{"diagnosis": REDACTED, "status": "new"}]

    @given(
        clearance=st.builds(
            Clearance,
            st.sampled_from(SCHEME.grades),
            st.frozensets(st.sampled_from(sorted(SCHEME.compartment_codes))),
        )
    )
    def test_no_raw_value_of_an_undominated_field_ever_shows(self, clearance: Clearance) -> None:
        records = _records()
        shown = mac.enforce(clearance, records, SCHEMA)
        for name, (label, _semantic) in SCHEMA.fields:
            if clearance.dominates(label):
                continue
            for record, row in zip(records, shown, strict=True):
                assert row.get(name) != record[name]


class TestPlan:
    def test_is_decided_once_per_clearance_and_schema(self) -> None:
        first = mac.plan(INTERNAL, SCHEMA)
        assert mac.plan(SCHEME.clearance("internal"), SCHEMA) is first
        assert mac.plan(HEALTH_OFFICER, SCHEMA) is not first

    def test_readable_masked_and_redacted_fields(self) -> None:
        plan = mac.plan(INTERNAL, SCHEMA)
        assert plan.readable == {"application_no", "status"}
        assert set(plan.constants) == {"diagnosis", "bank_account"}
        assert {name for name, _ in plan.functions} == {
            "name",
            "id_number",
            "phone",
            "hospital_phone",
        }
        assert plan.columns == tuple(name for name, _ in SCHEMA.fields)


class TestReadableFields:
    def test_are_the_fields_the_clearance_dominates(self) -> None:
        assert mac.readable_fields(INTERNAL, SCHEMA) == {"application_no", "status"}
        assert "diagnosis" in mac.readable_fields(HEALTH_OFFICER, SCHEMA)
        assert "bank_account" not in mac.readable_fields(HEALTH_OFFICER, SCHEMA)


class TestQuery:
    def test_filtering_by_a_hidden_field_is_refused(self) -> None:
        with pytest.raises(FieldNotUsable):
            mac.query(INTERNAL, _records(), SCHEMA, where={"diagnosis": "糖尿病"})

    def test_sorting_by_a_hidden_field_is_refused(self) -> None:
        with pytest.raises(FieldNotUsable):
            mac.query(INTERNAL, _records(), SCHEMA, order_by=["diagnosis"])

    def test_sorting_by_a_masked_field_is_refused_too(self) -> None:
        # The masked phone shows its ends, but sorting by the whole number would order by the
        # hidden middle.
        with pytest.raises(FieldNotUsable):
            mac.query(INTERNAL, _records(), SCHEMA, order_by=["phone"])

    def test_the_refusal_is_the_same_for_a_hidden_field_and_a_field_that_does_not_exist(
        self,
    ) -> None:
        errors = []
        for name in ("diagnosis", "no_such_field"):
            with pytest.raises(FieldNotUsable) as caught:
                mac.query(INTERNAL, _records(), SCHEMA, where={name: "糖尿病"})
            errors.append(caught.value)
        hidden, missing = errors
        assert (hidden.code, hidden.status_code, hidden.message) == (
            missing.code,
            missing.status_code,
            missing.message,
        )

    def test_the_refusal_reveals_no_value(self) -> None:
        records = _records()
        with pytest.raises(FieldNotUsable) as caught:
            mac.query(INTERNAL, records, SCHEMA, where={"diagnosis": "x"}, order_by=["phone"])
        text = f"{caught.value} {caught.value.params} {caught.value.field}"
        for value in _raw_health_values(records) | {str(r["phone"]) for r in records}:
            assert value not in text

    def test_filter_and_sort_by_readable_fields_then_mask(self) -> None:
        rows = mac.query(
            INTERNAL, _records(), SCHEMA, where={"status": "accepted"}, order_by=["application_no"]
        )
        assert [r["application_no"] for r in rows] == sorted(r["application_no"] for r in rows)
        assert {r["status"] for r in rows} == {"accepted"}
        assert {r["diagnosis"] for r in rows} == {REDACTED}

    def test_counts_depend_only_on_readable_fields(self) -> None:
        records = _records()
        # Change every hidden value: an internal reader's counts and order must not move.
        altered = copy.deepcopy(records)
        for record in altered:
            record["diagnosis"] = "癌症"
            record["hospital_phone"] = "0000000000"
        for where in ({}, {"status": "submitted"}, {"status": "nothing"}):
            before = mac.query(INTERNAL, records, SCHEMA, where=where, order_by=["status"])
            after = mac.query(INTERNAL, altered, SCHEMA, where=where, order_by=["status"])
            assert len(before) == len(after)
            assert [r["application_no"] for r in before] == [r["application_no"] for r in after]
            assert [r["diagnosis"] for r in before] == [r["diagnosis"] for r in after]

    def test_sort_puts_missing_values_last(self) -> None:
        records = _records()[:3]
        records[0]["status"] = None
        rows = mac.query(HEALTH_OFFICER, records, SCHEMA, order_by=["status"])
        assert rows[-1]["status"] is None


class TestMayWrite:
    def test_derived_data_may_be_written_at_the_join_of_its_sources_or_above(self) -> None:
        officer = SCHEME.clearance("core", "health", "tax")
        sources = [HEALTH, SCHEME.parse_label("internal:tax")]
        assert mac.may_write(officer, sources, SCHEME.parse_label("important:health,tax"))
        assert mac.may_write(officer, sources, SCHEME.parse_label("core:health,tax"))

    def test_writing_down_is_refused(self) -> None:
        officer = SCHEME.clearance("core", "health", "tax")
        sources = [HEALTH, SCHEME.parse_label("internal:tax")]
        for target in ("internal:health,tax", "important:health", "public"):
            assert not mac.may_write(officer, sources, SCHEME.parse_label(target))
        with pytest.raises(WriteDownRefused):
            mac.require_write(officer, sources, SCHEME.parse_label("public"))

    def test_with_the_rule_off_any_target_is_allowed(self) -> None:
        officer = SCHEME.clearance("core", "health")
        assert mac.may_write(officer, [HEALTH], SCHEME.public(), no_write_down=False)

    def test_nobody_derives_from_what_they_may_not_read_rule_on_or_off(self) -> None:
        for rule in (True, False):
            assert not mac.may_write(INTERNAL, [HEALTH], HEALTH, no_write_down=rule)

    def test_writing_up_is_allowed(self) -> None:
        assert mac.may_write(INTERNAL, [SCHEME.label("internal")], SCHEME.parse_label("core:tax"))

    @given(
        sources=st.lists(
            st.builds(
                Label,
                st.sampled_from(SCHEME.grades),
                st.frozensets(st.sampled_from(sorted(SCHEME.compartment_codes))),
            ),
            min_size=1,
            max_size=4,
        ),
        target=st.builds(
            Label,
            st.sampled_from(SCHEME.grades),
            st.frozensets(st.sampled_from(sorted(SCHEME.compartment_codes))),
        ),
    )
    def test_allowed_targets_dominate_every_source(
        self, sources: list[Label], target: Label
    ) -> None:
        everything = SCHEME.clearance("core", *SCHEME.compartment_codes)
        allowed = mac.may_write(everything, sources, target)
        assert allowed == all(target.dominates(source) for source in sources)
