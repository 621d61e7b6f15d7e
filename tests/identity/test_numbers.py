"""Subject numbers: resident ID numbers (GB 11643-1999: region, birth date, MOD 11-2 check
character; the old 15-digit form) and unified social credit codes (GB 32100-2015: alphabet without
I, O, Z, S, V; weighted MOD 31 check character)."""

from __future__ import annotations

import calendar
import re
import string
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum import numdb
from stdnum.cn import ric as stdnum_ric

from tongban.identity.numbers import (
    birth_date,
    normalize_resident_id,
    old_resident_id_problem,
    region,
    resident_id_check_character,
    resident_id_problem,
    upgrade_resident_id,
    uscc_check_character,
    uscc_problem,
)

# Published in GB 11643-1999, independent of the code under test.
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECKS = "10X98765432"
# The standard's own example number.
EXAMPLE = "11010519491231002X"

SHAPE = "17 digits"
REGION = "region code"
NO_SUCH_DATE = "does not exist"
OUT_OF_RANGE = "out of range"
TYPO = "check for a typo"
ABOLISHED = "abolished before the birth date"


def check_of(first17: str) -> str:
    return CHECKS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


digits = st.text(alphabet=string.digits, min_size=1, max_size=1)


def _table_periods() -> dict[str, list[tuple[int | None, int | None]]]:
    """Region codes straight from python-stdnum's table, each with the years its names were in
    use (None: open-ended, or the table gives no years)."""
    found: dict[str, list[tuple[int | None, int | None]]] = {}
    for _, province, _, _, counties in numdb.get("cn/loc").prefixes:
        for _, low, _, props, _ in counties:
            periods = []
            for name in props["county"].split(","):
                years = re.match(r"^\[(\d*)-(\d*)\]", name)
                start, end = (years[1], years[2]) if years else ("", "")
                periods.append((int(start) if start else None, int(end) if end else None))
            found[province + low] = periods
    return found


TABLE_PERIODS = _table_periods()
TABLE_CODES = sorted(TABLE_PERIODS)
ABOLISHED_CODES = [c for c in TABLE_CODES if all(end for _, end in TABLE_PERIODS[c])]
CURRENT_CODES = [c for c in TABLE_CODES if c not in ABOLISHED_CODES]
# Codes in use today: a number of anyone born any year may carry one.
regions = st.sampled_from(CURRENT_CODES)
TABLE_CODE_SET = frozenset(TABLE_CODES)
not_regions = st.text(alphabet=string.digits, min_size=6, max_size=6).filter(
    lambda code: code not in TABLE_CODE_SET
)
sequences = st.text(alphabet=string.digits, min_size=3, max_size=3)
# Numbers were first given in 1984, to living people, who live at most 122 years.
EARLIEST = date(1984 - 122, 1, 1)
birth_dates = st.dates(EARLIEST, date.today())


def with_check(first17: str) -> str:
    return first17 + check_of(first17)


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    first17 = draw(regions) + draw(birth_dates).strftime("%Y%m%d") + draw(sequences)
    return first17 + check_of(first17)


class TestResidentIdCheckCharacter:
    def test_gives_the_standards_example(self) -> None:
        assert resident_id_check_character(EXAMPLE[:17]) == "X"

    @given(number=resident_ids())
    def test_agrees_with_the_published_weights(self, number: str) -> None:
        assert resident_id_check_character(number[:17]) == number[17]


class TestResidentIdProblem:
    def test_the_standards_example_is_valid(self) -> None:
        assert resident_id_problem(EXAMPLE) is None

    @given(number=resident_ids())
    def test_every_well_formed_number_is_valid(self, number: str) -> None:
        assert resident_id_problem(number) is None

    @given(number=resident_ids())
    def test_a_lower_case_x_and_surrounding_spaces_are_forgiven(self, number: str) -> None:
        assert resident_id_problem(f" {number.lower()} ") is None

    @given(number=resident_ids(), data=st.data())
    def test_any_single_character_change_is_caught(self, number: str, data: st.DataObject) -> None:
        position = data.draw(st.integers(0, 17), label="position")
        replacement = data.draw(st.sampled_from(string.digits + "X"), label="replacement")
        assume(replacement != number[position])

        changed = number[:position] + replacement + number[position + 1 :]

        assert resident_id_problem(changed) is not None

    @given(number=resident_ids(), position=st.integers(0, 16))
    def test_any_adjacent_swap_is_caught(self, number: str, position: int) -> None:
        assume(number[position] != number[position + 1])
        swapped = (
            number[:position] + number[position + 1] + number[position] + number[position + 2 :]
        )
        assert resident_id_problem(swapped) is not None

    @given(number=resident_ids(), data=st.data())
    def test_a_wrong_check_character_asks_to_look_for_a_typo(
        self, number: str, data: st.DataObject
    ) -> None:
        wrong = data.draw(st.sampled_from([c for c in CHECKS if c != number[17]]))
        assert TYPO in (resident_id_problem(number[:17] + wrong) or "")

    @given(
        region=regions,
        year=st.integers(1900, 2020),
        month=st.integers(0, 99),
        day=st.integers(0, 99),
        sequence=sequences,
    )
    def test_a_birth_date_that_does_not_exist_is_named(
        self, region: str, year: int, month: int, day: int, sequence: str
    ) -> None:
        assume(not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]))
        first17 = f"{region}{year:04d}{month:02d}{day:02d}{sequence}"

        problem = resident_id_problem(first17 + check_of(first17))

        assert problem is not None
        assert NO_SUCH_DATE in problem

    @given(
        region=regions,
        born=st.dates(date(1000, 1, 1), EARLIEST - timedelta(days=1))
        | st.dates(date.today() + timedelta(days=2), date(9999, 12, 31)),
        sequence=sequences,
    )
    def test_a_birth_date_before_1862_or_in_the_future_is_out_of_range(
        self, region: str, born: date, sequence: str
    ) -> None:
        first17 = f"{region}{born.year:04d}{born.month:02d}{born.day:02d}{sequence}"

        problem = resident_id_problem(first17 + check_of(first17))

        assert problem is not None
        assert OUT_OF_RANGE in problem

    def test_february_29th_exists_only_in_leap_years(self) -> None:
        leap = "110105" + "20000229" + "001"
        plain = "110105" + "19000229" + "001"
        assert resident_id_problem(leap + check_of(leap)) is None
        assert NO_SUCH_DATE in (resident_id_problem(plain + check_of(plain)) or "")

    def test_full_width_digits_are_not_digits_here(self) -> None:
        # What a Chinese input method in full-width mode types. With the check character typed
        # in ASCII, the number would otherwise pass and, stored as typed, give the same person a
        # second account next to the ASCII spelling.
        number = "330102199003071230"
        full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)
        assert SHAPE in (resident_id_problem(full_width) or "")
        assert SHAPE in (resident_id_problem(full_width[:17] + number[17]) or "")

    @given(
        text=st.text(alphabet=string.digits + "Xx", max_size=25).filter(
            lambda t: len(t) != 18 and not (len(t) == 15 and t.isdigit())
        )
        | resident_ids().map(lambda n: n[:5] + "X" + n[6:])
        | resident_ids().map(lambda n: n[:17] + "Y")
        | st.text(min_size=18, max_size=18).filter(lambda t: not t.isascii())
    )
    def test_anything_not_shaped_like_an_id_number_says_so(self, text: str) -> None:
        assert SHAPE in (resident_id_problem(text) or "")


class TestRegionCodes:
    def test_the_whole_table_is_known_current_and_abolished_codes_alike(self) -> None:
        assert ABOLISHED_CODES, "the table marks codes no longer in use"
        assert all(region(code) is not None for code in TABLE_CODES)
        known = [region(code) for code in TABLE_CODES]
        assert {r.code for r in known if r is not None and r.abolished} == set(ABOLISHED_CODES)

    def test_an_abolished_code_keeps_its_last_name(self) -> None:
        chongwen = region("110103")  # Chongwen district, merged into Dongcheng in 2010
        assert chongwen is not None
        assert (chongwen.province, chongwen.name, chongwen.abolished) == ("北京市", "崇文区", True)

    @given(code=not_regions, born=birth_dates, sequence=sequences)
    def test_a_code_that_never_existed_is_refused(
        self, code: str, born: date, sequence: str
    ) -> None:
        first17 = f"{code}{born:%Y%m%d}{sequence}"
        assert REGION in (resident_id_problem(first17 + check_of(first17)) or "")

    @given(code=st.sampled_from(ABOLISHED_CODES), data=st.data(), sequence=sequences)
    def test_an_abolished_code_is_accepted_up_to_its_last_year_and_refused_after(
        self, code: str, data: st.DataObject, sequence: str
    ) -> None:
        last_year = max(end for _, end in TABLE_PERIODS[code] if end is not None)
        before = data.draw(st.dates(EARLIEST, date(last_year, 12, 31)), label="before")
        after = data.draw(st.dates(date(last_year + 1, 1, 1), date.today()), label="after")
        assert resident_id_problem(with_check(f"{code}{before:%Y%m%d}{sequence}")) is None
        problem = resident_id_problem(with_check(f"{code}{after:%Y%m%d}{sequence}"))
        assert ABOLISHED in (problem or "")

    @given(code=st.sampled_from(TABLE_CODES), born=birth_dates, sequence=sequences)
    def test_refuses_only_where_the_code_was_gone_before_birth_and_all_stdnum_accepts(
        self, code: str, born: date, sequence: str
    ) -> None:
        number = with_check(f"{code}{born:%Y%m%d}{sequence}")
        in_use_after_birth = any(end is None or end >= born.year for _, end in TABLE_PERIODS[code])
        assert (resident_id_problem(number) is None) == in_use_after_birth
        # What stdnum accepts (a code in use in the birth year itself) is accepted here too.
        if stdnum_ric.is_valid(number):
            assert resident_id_problem(number) is None

    def test_a_card_issued_after_birth_under_a_newer_code_is_accepted_where_stdnum_is_not(
        self,
    ) -> None:
        # Shangcheng district, Hangzhou, has had the code 330102 since 1983; someone born there in
        # 1960 was issued their card later, under that code.
        first17 = "330102" + "19600101" + "123"
        number = first17 + check_of(first17)
        assert not stdnum_ric.is_valid(number)
        assert resident_id_problem(number) is None


class TestStandardDecisions:
    """Each decision taken against GB 11643 (see tongban.identity.numbers), on a concrete number
    whose check character was worked out by hand from the standard's weights."""

    def test_a_code_abolished_before_birth_is_refused(self) -> None:
        # Chongwen district, Beijing (110103), in use until 2010: nobody born in 2011 was
        # registered under it.
        problem = resident_id_problem("110103201101010015")
        assert ABOLISHED in (problem or "")

    def test_a_code_abolished_in_the_birth_year_is_accepted(self) -> None:
        # Born on the last day of 2010: the table knows years only, so the code may have still
        # been in use when the child was registered.
        assert resident_id_problem("110103201012310016") is None

    def test_a_code_in_use_is_accepted(self) -> None:
        # Shangcheng district, Hangzhou (330102), born 2011.
        assert resident_id_problem("33010220110101001X") is None

    def test_a_birth_before_1900_is_accepted_down_to_1862(self) -> None:
        # The standard sets no floor; someone born in 1899 was 85 when numbers were first given.
        assert resident_id_problem("110105189901010017") is None
        assert resident_id_problem("110105186201010012") is None
        assert OUT_OF_RANGE in (resident_id_problem("110105186112310013") or "")

    def test_a_future_birth_date_is_refused(self) -> None:
        assert OUT_OF_RANGE in (resident_id_problem("110105209901010012") or "")
        # Two days ahead: the deployment's date may already be tomorrow.
        soon = with_check(f"110105{date.today() + timedelta(days=2):%Y%m%d}001")
        assert OUT_OF_RANGE in (resident_id_problem(soon) or "")

    def test_an_old_number_with_a_code_abolished_before_birth_is_refused(self) -> None:
        # Changping county, Beijing (110201), in use until 1982.
        assert old_resident_id_problem("110201820101001") is None
        assert ABOLISHED in (old_resident_id_problem("110201830101001") or "")


def old_ids() -> st.SearchStrategy[str]:
    born = st.dates(date(1900, 1, 1), date(1999, 12, 31))
    return st.builds(lambda r, b, s: f"{r}{b:%y%m%d}{s}", regions, born, sequences)


class TestOldResidentIds:
    @given(number=old_ids())
    def test_a_valid_old_number_passes_and_upgrades_to_a_valid_new_one(self, number: str) -> None:
        assert old_resident_id_problem(number) is None
        upgraded = upgrade_resident_id(number)
        assert upgraded[:6] == number[:6]
        assert upgraded[6:8] == "19"
        assert upgraded[8:17] == number[6:]
        assert upgraded[17] == check_of(upgraded[:17])
        assert resident_id_problem(upgraded) is None

    def test_the_standards_example_upgrades(self) -> None:
        assert upgrade_resident_id("110105491231002") == EXAMPLE

    @given(number=old_ids())
    def test_the_new_form_checker_asks_for_the_18_digit_number(self, number: str) -> None:
        assert "15-digit" in (resident_id_problem(number) or "")

    @given(number=old_ids())
    def test_normalizing_upgrades_old_numbers_and_keeps_new_ones(self, number: str) -> None:
        upgraded = normalize_resident_id(f" {number} ")
        assert upgraded == upgrade_resident_id(number)
        assert normalize_resident_id(upgraded.lower()) == upgraded

    @pytest.mark.parametrize(
        "number",
        [
            "11010549123100",
            "1101054912310021",
            "11010549123100X",
            "110105491331002",
            "119999491231002",
        ],
    )
    def test_a_malformed_old_number_is_refused(self, number: str) -> None:
        assert old_resident_id_problem(number) is not None
        with pytest.raises(ValueError, match=r"\w"):
            upgrade_resident_id(number)
        with pytest.raises(ValueError, match=r"\w"):
            normalize_resident_id(number)

    def test_the_birth_date_is_read_from_the_new_number(self) -> None:
        assert birth_date(EXAMPLE) == date(1949, 12, 31)


# --- unified social credit codes (GB 32100-2015) ---------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# weight of position i is 3**i mod 31 (GB 32100-2015, 5.2)
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
# Published examples: the standard's own and a real company's licence.
USCC_EXAMPLES = ["91350100M000100Y43", "91110000600037341L"]
USCC_SHAPE = "18 characters"
USCC_TYPO = "check for a typo"
ABOLISHED = "abolished before the birth date"


def uscc_check_of(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


uscc_chars = st.sampled_from(USCC_ALPHABET)


@st.composite
def usccs(draw: st.DrawFn) -> str:
    authority = draw(st.sampled_from("123456789ANY"))
    kind = draw(uscc_chars)
    region_code = draw(regions)
    organisation = "".join(draw(st.lists(uscc_chars, min_size=9, max_size=9)))
    first17 = f"{authority}{kind}{region_code}{organisation}"
    return first17 + uscc_check_of(first17)


class TestUscc:
    @pytest.mark.parametrize("code", USCC_EXAMPLES)
    def test_published_examples_are_valid(self, code: str) -> None:
        assert uscc_check_character(code[:17]) == code[17]
        assert uscc_problem(code) is None

    @given(code=usccs())
    def test_every_well_formed_code_is_valid(self, code: str) -> None:
        assert uscc_check_character(code[:17]) == code[17]
        assert uscc_problem(code) is None

    @given(code=usccs())
    def test_lower_case_and_surrounding_spaces_are_forgiven(self, code: str) -> None:
        assert uscc_problem(f" {code.lower()}  ") is None

    @given(code=usccs(), data=st.data())
    def test_any_single_character_change_is_caught(self, code: str, data: st.DataObject) -> None:
        position = data.draw(st.integers(0, 17), label="position")
        replacement = data.draw(
            st.sampled_from(string.digits + string.ascii_uppercase), label="replacement"
        )
        assume(replacement != code[position])

        changed = code[:position] + replacement + code[position + 1 :]

        assert uscc_problem(changed) is not None

    @given(code=usccs(), position=st.integers(0, 16))
    def test_any_adjacent_swap_is_caught(self, code: str, position: int) -> None:
        assume(code[position] != code[position + 1])
        swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
        assert uscc_problem(swapped) is not None

    @given(code=usccs(), position=st.integers(0, 17), letter=st.sampled_from("IOZSV"))
    def test_the_letters_left_out_of_the_alphabet_are_refused(
        self, code: str, position: int, letter: str
    ) -> None:
        changed = code[:position] + letter + code[position + 1 :]
        assert USCC_SHAPE in (uscc_problem(changed) or "")

    @given(code=usccs(), data=st.data())
    def test_a_wrong_check_character_asks_to_look_for_a_typo(
        self, code: str, data: st.DataObject
    ) -> None:
        wrong = data.draw(st.sampled_from([c for c in USCC_ALPHABET if c != code[17]]))
        assert USCC_TYPO in (uscc_problem(code[:17] + wrong) or "")

    @given(
        text=st.text(alphabet=USCC_ALPHABET, max_size=25).filter(lambda t: len(t) != 18)
        | st.text(min_size=18, max_size=18).filter(lambda t: not t.isascii())
    )
    def test_anything_not_shaped_like_a_code_says_so(self, text: str) -> None:
        assert USCC_SHAPE in (uscc_problem(text) or "")

    @given(code=usccs(), position=st.integers(2, 7), letter=st.sampled_from("ABCDEFGHJKLMN"))
    def test_the_region_part_must_be_digits(self, code: str, position: int, letter: str) -> None:
        changed = code[:position] + letter + code[position + 1 :]
        assert "region code" in (uscc_problem(changed) or "")
