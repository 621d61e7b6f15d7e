"""The masking functions, on the issue's examples, and the masking policy as data."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongban.security.crypto import get_suite
from tongban.security.errors import LabelInvalid, SecurityConfigInvalid
from tongban.security.labels import default_scheme
from tongban.security.masking import (
    REDACTED,
    Masker,
    MaskRule,
    default_masker,
    generalise_district,
    generalise_year,
    keyed_hash,
    parse_policy,
    partial_mask,
    redact,
)

SCHEME = default_scheme()
KEY = b"k" * 32


class TestPartialMask:
    def test_id_number_keeps_the_first_three_and_last_four(self) -> None:
        assert partial_mask("110101199003071234", 3, 4) == "110***********1234"

    def test_name_keeps_the_first_character(self) -> None:
        assert partial_mask("张三", 1, 0) == "张*"
        assert partial_mask("欧阳修", 1, 0) == "欧**"

    def test_phone_keeps_the_first_three_and_last_four(self) -> None:
        assert partial_mask("13812345678", 3, 4) == "138****5678"

    def test_a_value_too_short_to_hide_anything_is_starred_out_whole(self) -> None:
        assert partial_mask("1234567", 3, 4) == "*******"
        assert partial_mask("张", 1, 0) == "*"

    def test_a_number_is_masked_as_its_digits(self) -> None:
        assert partial_mask(13812345678, 3, 4) == "138****5678"

    def test_none_stays_none(self) -> None:
        assert partial_mask(None, 3, 4) is None

    @given(text=st.text(min_size=1, max_size=40), start=st.integers(0, 5), end=st.integers(0, 5))
    def test_keeps_the_length_and_never_shows_the_middle(
        self, text: str, start: int, end: int
    ) -> None:
        masked = partial_mask(text, start, end)
        assert masked is not None
        assert len(masked) == len(text)
        hidden = len(text) - start - end
        if hidden > 0:
            assert masked[start : start + hidden] == "*" * hidden
        else:
            assert masked == "*" * len(text)


class TestRedact:
    def test_is_the_same_constant_whatever_the_value(self) -> None:
        assert {redact(v) for v in ("糖尿病", "", None, 12345, "x" * 1000)} == {REDACTED}


class TestGeneraliseYear:
    @pytest.mark.parametrize(
        "value", [date(1990, 3, 7), datetime(1990, 3, 7, 8, 0), "1990-03-07", "19900307"]
    )
    def test_a_birth_date_becomes_its_year(self, value: object) -> None:
        assert generalise_year(value) == "1990"

    def test_text_that_is_no_date_is_redacted(self) -> None:
        assert generalise_year("March 1990") == REDACTED
        assert generalise_year("１９９０-03-07") == REDACTED  # full-width digits

    def test_none_stays_none(self) -> None:
        assert generalise_year(None) is None


class TestGeneraliseDistrict:
    @pytest.mark.parametrize(
        ("address", "district"),
        [
            ("浙江省杭州市西湖区文三路90号", "浙江省杭州市西湖区"),
            ("北京市朝阳区建国路88号", "北京市朝阳区"),
            ("上海市浦东新区世纪大道100号", "上海市浦东新区"),
            ("浙江省金华市义乌市稠城街道", "浙江省金华市义乌市"),
            ("浙江省杭州市桐庐县城南街道", "浙江省杭州市桐庐县"),
            ("内蒙古自治区鄂尔多斯市鄂托克旗乌兰镇", "内蒙古自治区鄂尔多斯市鄂托克旗"),
            ("四川省凉山彝族自治州西昌市长安路", "四川省凉山彝族自治州西昌市"),
            ("新疆维吾尔自治区阿克苏地区阿克苏市", "新疆维吾尔自治区阿克苏地区阿克苏市"),
            ("西湖区文三路90号", "西湖区"),
            ("浙江省 杭州市 西湖区 文三路 90 号", "浙江省杭州市西湖区"),
        ],
    )
    def test_cuts_after_the_county_level_unit(self, address: str, district: str) -> None:
        assert generalise_district(address) == district

    def test_a_province_word_in_the_street_does_not_carry_the_street_along(self) -> None:
        assert generalise_district("杭州市西湖区省道12号某小区") == "杭州市西湖区"

    def test_a_city_without_a_district_is_kept_to_the_city(self) -> None:
        assert generalise_district("义乌市稠城街道") == "义乌市"

    @pytest.mark.parametrize(
        "address",
        ["文三路90号", "123 Main Street", "某小区3栋", "阳光社区", "某大学紫金港校区", ""],
    )
    def test_an_address_without_a_recognisable_unit_is_redacted_whole(self, address: str) -> None:
        assert generalise_district(address) == REDACTED

    def test_none_stays_none(self) -> None:
        assert generalise_district(None) is None

    @given(
        units=st.lists(
            st.sampled_from(["浙江省", "杭州市", "西湖区", "义乌市", "桐庐县", "某小区", "省道"]),
            max_size=4,
        ),
        street=st.text(alphabet="文三路号栋90街道小区省市县", max_size=12),
    )
    def test_keeps_a_prefix_that_ends_at_a_unit_and_holds_no_digit(
        self, units: list[str], street: str
    ) -> None:
        address = "".join(units) + street
        kept = generalise_district(address)
        assert kept is not None
        if kept != REDACTED:
            assert address.startswith(kept)
            assert kept.endswith(("省", "区", "市", "县", "旗", "州", "盟"))
            assert not any(c.isdigit() for c in kept)
            assert not kept.endswith(("小区", "社区"))


class TestKeyedHash:
    @pytest.mark.parametrize("suite_name", ["intl", "sm"])
    def test_equal_values_give_equal_hashes_and_different_values_do_not(
        self, suite_name: str
    ) -> None:
        suite = get_suite(suite_name)
        first = keyed_hash("110101199003071234", key=KEY, suite=suite)
        assert first == keyed_hash("110101199003071234", key=KEY, suite=suite)
        assert first != keyed_hash("110101199003071235", key=KEY, suite=suite)
        assert first is not None
        assert len(first) == 32
        int(first, 16)  # hex digits only: nothing of the value shows

    def test_is_the_suites_hmac_so_without_the_key_it_cannot_be_recomputed(self) -> None:
        suite = get_suite("sm")
        value = "110101199003071234"
        expected = suite.hmac(KEY, value.encode())[:16].hex()
        assert keyed_hash(value, key=KEY, suite=suite) == expected
        assert keyed_hash(value, key=b"other key" * 4, suite=suite) != expected
        assert keyed_hash(value, key=KEY, suite=get_suite("intl")) != expected


class TestDefaultPolicy:
    def test_each_semantic_type_has_the_issues_function(self) -> None:
        masker = default_masker()
        label = SCHEME.label("important", "identity")
        cases = {
            "id_number": ("110101199003071234", "110***********1234"),
            "name": ("张三", "张*"),
            "phone": ("13812345678", "138****5678"),
            "birth_date": ("1990-03-07", "1990"),
            "address": ("浙江省杭州市西湖区文三路90号", "浙江省杭州市西湖区"),
        }
        for semantic, (value, expected) in cases.items():
            action = masker.action_for(label, semantic)
            assert action.kind == "apply"
            assert action.fn is not None
            assert action.fn(value) == expected, semantic

    def test_other_types_are_redacted(self) -> None:
        action = default_masker().action_for(SCHEME.label("important", "health"), "other")
        assert (action.kind, action.constant) == ("constant", REDACTED)

    def test_a_core_field_is_redacted_even_where_its_type_would_be_partly_shown(self) -> None:
        action = default_masker().action_for(SCHEME.label("core", "identity"), "id_number")
        assert (action.kind, action.constant) == ("constant", REDACTED)

    def test_a_type_the_policy_does_not_name_gets_the_rule_for_other(self) -> None:
        action = default_masker().action_for(SCHEME.label("important"), "email")
        assert (action.kind, action.constant) == ("constant", REDACTED)


class TestParsePolicy:
    def test_a_grade_rule_applies_at_that_grade_and_above(self) -> None:
        policy = parse_policy(
            "semantic_types:\n"
            "  other: {function: redact}\n"
            "  id_number: {function: partial, keep_start: 3, keep_end: 4}\n"
            "grades:\n"
            "  important: {function: hash}\n"
            "  core: {function: drop}\n"
        )
        id_number = "id_number"
        assert policy.rule_for(SCHEME.label("internal"), id_number).function == "partial"
        assert policy.rule_for(SCHEME.label("important"), id_number) == MaskRule("hash")
        assert policy.rule_for(SCHEME.label("core"), id_number) == MaskRule("drop")

    def test_a_policy_that_hashes_needs_a_key(self) -> None:
        policy = parse_policy("semantic_types:\n  other: {function: hash}\n")
        with pytest.raises(SecurityConfigInvalid, match="hash key"):
            Masker(policy)
        masker = Masker(policy, hash_key=KEY, suite=get_suite("intl"))
        action = masker.action_for(SCHEME.label("core"), "other")
        assert action.fn is not None
        assert action.fn("x") == keyed_hash("x", key=KEY, suite=get_suite("intl"))

    def test_the_hash_key_is_not_in_the_repr(self) -> None:
        policy = parse_policy("semantic_types:\n  other: {function: hash}\n")
        masker = Masker(policy, hash_key=b"very secret masking key!", suite=get_suite("intl"))
        assert "very secret" not in repr(masker)

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            ("semantic_types:\n  name: {function: redact}\n", "other"),
            ("semantic_types:\n  other: {function: partial}\n", "keep_start"),
            ("semantic_types:\n  other: {function: generalise}\n", "year or district"),
            ("semantic_types:\n  other: {function: redact, keep_start: 1}\n", "partial"),
            ("semantic_types:\n  other: {function: shuffle}\n", "function"),
            ("semantic_types:\n  other: {function: redact}\ncolour: red\n", "colour"),
        ],
    )
    def test_a_bad_rule_is_an_error_at_load_time(self, text: str, problem: str) -> None:
        with pytest.raises(SecurityConfigInvalid, match=problem):
            parse_policy(text)

    def test_a_grade_not_in_the_scheme_is_an_error_at_load_time(self) -> None:
        with pytest.raises(LabelInvalid, match="secret"):
            parse_policy(
                "semantic_types:\n  other: {function: redact}\n"
                "grades:\n  secret: {function: drop}\n"
            )
