"""The halls data file: checked when read, with the line of the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from tongban.bookings import halls
from tongban.bookings.errors import HallFileInvalid, HallNotFound

GOOD = """rules: {days_ahead: 7, max_open: 2, grace_minutes: 10, no_show_limit: 2, no_show_days: 30}
halls:
  - code: TEST-HALL
    name_zh: 测试大厅
    name_en: Test hall
    address_zh: 某路1号
    address_en: No. 1 Some Road
    departments: [SAMR]
    hours:
      - {opens: "09:00", closes: "12:00"}
      - {opens: "%s", closes: "17:00"}
    slot_minutes: 30
    capacity: 2
"""


def test_the_packaged_halls_are_valid() -> None:
    assert halls.current().hall("GSC-HALL").places("SAMR-0001") == 4
    with pytest.raises(HallNotFound):
        halls.current().hall("NOWHERE")


def test_overlapping_hours_are_refused_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "halls.yaml"
    path.write_text(GOOD % "13:30", encoding="utf-8")
    assert halls.load(path).halls[0].hours[1].opens == "13:30"
    path.write_text(GOOD % "11:00", encoding="utf-8")
    with pytest.raises(HallFileInvalid, match="do not overlap|not overlap"):
        halls.load(path)


def test_an_unquoted_time_is_refused_rather_than_read_as_a_number(tmp_path: Path) -> None:
    path = tmp_path / "halls.yaml"
    path.write_text(GOOD.replace('"%s"', "13:30"), encoding="utf-8")
    with pytest.raises(HallFileInvalid, match="line 11"):
        halls.load(path)
