"""Resident ID numbers (GB 11643-1999): shape, birth date and the MOD 11-2 check character."""

from __future__ import annotations

import calendar
import string
from datetime import date, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st

from tongban.identity.numbers import resident_id_check_character, resident_id_problem

# Published in GB 11643-1999, independent of the code under test.
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECKS = "10X98765432"
# The standard's own example number.
EXAMPLE = "11010519491231002X"

SHAPE = "17 digits"
NO_SUCH_DATE = "does not exist"
OUT_OF_RANGE = "out of range"
TYPO = "check for a typo"


def check_of(first17: str) -> str:
    return CHECKS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


digits = st.text(alphabet=string.digits, min_size=1, max_size=1)
regions = st.text(alphabet=string.digits, min_size=6, max_size=6)
sequences = st.text(alphabet=string.digits, min_size=3, max_size=3)
birth_dates = st.dates(date(1900, 1, 1), date.today())


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
        born=st.dates(date(1000, 1, 1), date(1899, 12, 31))
        | st.dates(date.today() + timedelta(days=2), date(9999, 12, 31)),
        sequence=sequences,
    )
    def test_a_birth_date_before_1900_or_in_the_future_is_out_of_range(
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
        text=st.text(alphabet=string.digits + "Xx", max_size=25).filter(lambda t: len(t) != 18)
        | resident_ids().map(lambda n: n[:5] + "X" + n[6:])
        | resident_ids().map(lambda n: n[:17] + "Y")
        | st.text(min_size=18, max_size=18).filter(lambda t: not t.isascii())
    )
    def test_anything_not_shaped_like_an_id_number_says_so(self, text: str) -> None:
        assert SHAPE in (resident_id_problem(text) or "")
