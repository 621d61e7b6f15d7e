"""Check characters (ISO 7064 MOD 1271-36) on numbers people read out and type in."""

from __future__ import annotations

import re
import string
from datetime import date

from hypothesis import assume, given
from hypothesis import strategies as st

from tongban.kit import ids

ALPHABET = string.digits + string.ascii_uppercase
CHECK_ALPHABET = ALPHABET

days = st.dates(date(2000, 1, 1), date(2099, 12, 31)).map(lambda d: d.strftime("%Y%m%d"))
prefixes = st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=4)
bodies = st.text(alphabet=ALPHABET, min_size=1, max_size=40)


@st.composite
def application_numbers(draw: st.DrawFn) -> str:
    """Numbers shaped like ``application_number`` makes: prefix, day, six digits, check."""
    body = (
        draw(prefixes) + draw(days) + draw(st.text(alphabet=string.digits, min_size=6, max_size=6))
    )
    return body + ids.check_characters(body)


numbers = application_numbers() | bodies.map(lambda body: body + ids.check_characters(body))


class TestCheckCharacter:
    @given(body=bodies)
    def test_is_two_letters_or_digits(self, body: str) -> None:
        check = ids.check_characters(body)
        assert len(check) == 2
        assert all(c in CHECK_ALPHABET for c in check)

    @given(number=numbers, data=st.data())
    def test_catches_every_single_character_substitution(
        self, number: str, data: st.DataObject
    ) -> None:
        position = data.draw(st.integers(0, len(number) - 1), label="position")
        alphabet = CHECK_ALPHABET if position == len(number) - 1 else ALPHABET
        replacement = data.draw(st.sampled_from(alphabet), label="replacement")
        assume(replacement != number[position])

        typo = number[:position] + replacement + number[position + 1 :]

        assert not ids.is_valid(typo)

    @given(number=numbers, data=st.data())
    def test_catches_every_adjacent_transposition(self, number: str, data: st.DataObject) -> None:
        position = data.draw(st.integers(0, len(number) - 2), label="position")
        assume(number[position] != number[position + 1])

        swapped = (
            number[:position] + number[position + 1] + number[position] + number[position + 2 :]
        )

        assert not ids.is_valid(swapped)

    def test_agrees_with_a_worked_example(self) -> None:
        # By hand: "A" is 10; 10 * 36**2 = 12960 = 250 (mod 1271); the check value v makes
        # 250 + v = 1 (mod 1271), so v = 1022 = 28 * 36 + 14, the characters "S" and "E".
        assert ids.check_characters("A") == "SE"


class TestIsValid:
    @given(number=numbers)
    def test_accepts_every_number_with_its_check_character(self, number: str) -> None:
        assert ids.is_valid(number)

    @given(number=numbers)
    def test_forgives_lower_case_and_surrounding_spaces(self, number: str) -> None:
        assert ids.is_valid(f"  {number.lower()}\t")

    @given(number=numbers, junk=st.sampled_from(list("-_ /.中")))
    def test_refuses_characters_outside_the_alphabet(self, number: str, junk: str) -> None:
        assert not ids.is_valid(number[:1] + junk + number[1:])

    def test_refuses_what_is_too_short_to_carry_a_check(self) -> None:
        assert not ids.is_valid("")
        assert not ids.is_valid("7")
        assert not ids.is_valid("   ")


class TestApplicationNumber:
    @given(day=days)
    def test_has_the_prefix_the_day_six_digits_and_two_check_characters(self, day: str) -> None:
        number = ids.application_number("TB", day)

        assert re.fullmatch(rf"TB{day}\d{{6}}[0-9A-Z]{{2}}", number)
        assert ids.is_valid(number)

    def test_numbers_are_not_sequential(self) -> None:
        made = {ids.application_number("TB", "20261126") for _ in range(50)}
        assert len(made) > 40
