"""Labels and clearances: the grades file, the compact written form and the dominance lattice."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongban.security.errors import LabelInvalid, SecurityConfigInvalid
from tongban.security.labels import (
    Clearance,
    Grade,
    Label,
    Level,
    default_scheme,
    dominates,
    join,
    load_scheme,
    meet,
    parse_scheme,
)

SCHEME = default_scheme()
COMPARTMENTS = sorted(SCHEME.compartment_codes)

grades = st.sampled_from(SCHEME.grades)
compartment_sets = st.frozensets(st.sampled_from(COMPARTMENTS))
labels = st.builds(Label, grades, compartment_sets)
clearances = st.builds(Clearance, grades, compartment_sets)


class TestDefaultScheme:
    def test_grades_run_public_internal_important_core_with_both_names(self) -> None:
        assert [(g.code, g.name_zh) for g in SCHEME.grades] == [
            ("public", "公开"),
            ("internal", "一般"),
            ("important", "重要"),
            ("core", "核心"),
        ]
        assert all(g.name_en for g in SCHEME.grades)
        assert SCHEME.lowest.code == "public"
        assert SCHEME.highest.code == "core"

    def test_grades_are_ordered_by_their_place_in_the_file(self) -> None:
        public, internal, important, core = SCHEME.grades
        assert public < internal < important < core

    def test_has_the_compartments_the_platform_needs(self) -> None:
        for code in ("health", "tax", "household", "finance", "identity", "marriage"):
            assert code in SCHEME.compartment_codes


class TestParseScheme:
    def test_a_deployment_may_add_a_grade(self, tmp_path: Path) -> None:
        path = tmp_path / "grades.yaml"
        path.write_text(
            "grades:\n"
            "  - {code: open, name_zh: 开放, name_en: Open}\n"
            "  - {code: secret, name_zh: 秘密, name_en: Secret}\n"
            "compartments:\n"
            "  - {code: tax, name_zh: 税务, name_en: Tax}\n",
            encoding="utf-8",
        )
        scheme = load_scheme(path)
        assert scheme.parse_label("secret:tax").grade.rank == 1

    def test_a_grade_listed_twice_is_an_error(self) -> None:
        text = (
            "grades:\n"
            "  - {code: public, name_zh: 公开, name_en: Public}\n"
            "  - {code: public, name_zh: 公开, name_en: Public}\n"
        )
        with pytest.raises(SecurityConfigInvalid, match="listed twice"):
            parse_scheme(text)

    def test_an_unknown_key_is_an_error_not_ignored(self) -> None:
        text = "grades:\n  - {code: public, name_zh: 公开, name_en: Public, colour: red}\n"
        with pytest.raises(SecurityConfigInvalid, match="colour"):
            parse_scheme(text)

    def test_a_grade_without_an_english_name_is_an_error(self) -> None:
        with pytest.raises(SecurityConfigInvalid, match="name_en"):
            parse_scheme("grades:\n  - {code: public, name_zh: 公开}\n")

    def test_no_grades_at_all_is_an_error(self) -> None:
        with pytest.raises(SecurityConfigInvalid):
            parse_scheme("compartments: []\n")


class TestParseLabel:
    def test_reads_grade_and_compartments(self) -> None:
        label = SCHEME.parse_label("important:health,tax")
        assert label == Label(SCHEME.grade("important"), frozenset({"health", "tax"}))

    def test_a_grade_alone_has_no_compartments(self) -> None:
        assert SCHEME.parse_label("public") == SCHEME.public()

    def test_spaces_around_names_are_ignored(self) -> None:
        assert SCHEME.parse_label(" important : tax , health ") == SCHEME.label(
            "important", "health", "tax"
        )

    def test_writes_back_in_the_compact_form_with_sorted_compartments(self) -> None:
        assert str(SCHEME.parse_label("important:tax,health")) == "important:health,tax"
        assert str(SCHEME.parse_label("core")) == "core"

    @given(label=labels)
    def test_written_form_reads_back_to_the_same_label(self, label: Label) -> None:
        assert SCHEME.parse_label(str(label)) == label

    def test_an_unknown_grade_is_named_in_the_error(self) -> None:
        with pytest.raises(LabelInvalid, match="secret") as caught:
            SCHEME.parse_label("secret:health")
        assert caught.value.code == "label_invalid"

    def test_an_unknown_compartment_is_named_in_the_error(self) -> None:
        with pytest.raises(LabelInvalid, match="astrology"):
            SCHEME.parse_label("internal:health,astrology")

    @pytest.mark.parametrize("text", ["important:", "important:health,", "important:,tax", ""])
    def test_empty_names_are_errors(self, text: str) -> None:
        with pytest.raises(LabelInvalid):
            SCHEME.parse_label(text)

    def test_grade_names_are_case_sensitive_codes(self) -> None:
        with pytest.raises(LabelInvalid):
            SCHEME.parse_label("Important")


class TestParseClearance:
    def test_gives_a_clearance_not_a_label(self) -> None:
        clearance = SCHEME.parse_clearance("important:health")
        assert type(clearance) is Clearance
        # Same grade and compartments, but a clearance is not a label and never equals one.
        label: Level = SCHEME.parse_label("important:health")
        assert clearance != label


class TestCheck:
    def test_accepts_a_level_of_this_scheme(self) -> None:
        label = SCHEME.label("core", "tax")
        assert SCHEME.check(label) is label

    def test_refuses_a_grade_made_up_in_code(self) -> None:
        with pytest.raises(LabelInvalid):
            SCHEME.check(Label(Grade(9, "cosmic"), frozenset()))

    def test_refuses_an_unknown_compartment_made_up_in_code(self) -> None:
        with pytest.raises(LabelInvalid):
            SCHEME.check(Label(SCHEME.grade("public"), frozenset({"gossip"})))


class TestDominates:
    def test_needs_a_grade_at_least_as_high(self) -> None:
        assert dominates(SCHEME.clearance("important"), SCHEME.label("internal"))
        assert not dominates(SCHEME.clearance("internal"), SCHEME.label("important"))

    def test_needs_every_compartment(self) -> None:
        assert not dominates(SCHEME.clearance("core", "tax"), SCHEME.label("internal", "health"))
        assert dominates(
            SCHEME.clearance("internal", "health", "tax"), SCHEME.label("internal", "health")
        )

    def test_an_internal_clearance_does_not_dominate_important_health(self) -> None:
        assert not dominates(SCHEME.clearance("internal"), SCHEME.parse_label("important:health"))

    @given(level=labels | clearances)
    def test_is_reflexive(self, level: Level) -> None:
        assert dominates(level, level)

    @given(a=labels, b=labels, c=labels)
    def test_is_transitive(self, a: Label, b: Label, c: Label) -> None:
        if dominates(a, b) and dominates(b, c):
            assert dominates(a, c)

    @given(a=labels, b=labels)
    def test_is_antisymmetric(self, a: Label, b: Label) -> None:
        if dominates(a, b) and dominates(b, a):
            assert a == b

    @given(clearance=clearances, label=labels)
    def test_is_exactly_grade_at_least_and_compartments_superset(
        self, clearance: Clearance, label: Label
    ) -> None:
        expected = SCHEME.grades.index(clearance.grade) >= SCHEME.grades.index(label.grade) and set(
            clearance.compartments
        ).issuperset(label.compartments)
        assert dominates(clearance, label) is expected
        assert clearance.dominates(label) is expected

    @given(a=labels, b=labels)
    def test_orders_every_pair_only_when_grade_and_compartments_agree(
        self, a: Label, b: Label
    ) -> None:
        # A partial order: two labels with disjoint compartments are incomparable.
        if a.compartments and b.compartments and not (a.compartments & b.compartments):
            assert not dominates(a, b)
            assert not dominates(b, a)


class TestJoinAndMeet:
    @given(a=labels, b=labels, upper=labels)
    def test_join_is_the_least_upper_bound(self, a: Label, b: Label, upper: Label) -> None:
        j = join(a, b)
        assert dominates(j, a)
        assert dominates(j, b)
        if dominates(upper, a) and dominates(upper, b):
            assert dominates(upper, j)

    @given(a=labels, b=labels, lower=labels)
    def test_meet_is_the_greatest_lower_bound(self, a: Label, b: Label, lower: Label) -> None:
        m = meet(a, b)
        assert dominates(a, m)
        assert dominates(b, m)
        if dominates(a, lower) and dominates(b, lower):
            assert dominates(m, lower)

    def test_join_of_two_labels(self) -> None:
        joined = join(SCHEME.parse_label("important:health"), SCHEME.parse_label("internal:tax"))
        assert str(joined) == "important:health,tax"
