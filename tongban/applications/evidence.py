"""Credibility grades of evidence (材料可信等级), as in the national guideline.

Every piece of evidence in an application carries a grade:

- A: issued and sealed by the issuing department (a value prefilled from a verified department
  source or the platform's master data and left unchanged; an electronic licence);
- B: checked at a counter against the original (the counter clerk's check);
- C: uploaded by the applicant;
- D: declared by the applicant (a value typed into the form).

A catalog item states the grade it needs for each material (``required_grade``, default C);
an application whose evidence is below it cannot be approved. This module is the vocabulary
and the one rule (``meets``); other domains (electronic licences) attach evidence with a grade
and ask here whether it is enough.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tongban.kit.i18n import LocalText


class Grade(enum.StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


# Strongest first.
ORDER: tuple[Grade, ...] = (Grade.A, Grade.B, Grade.C, Grade.D)
DEFAULT_REQUIRED = Grade.C
UPLOADED = Grade.C
DECLARED = Grade.D
CHECKED_AT_COUNTER = Grade.B
ISSUED = Grade.A

NAMES: dict[Grade, LocalText] = {
    Grade.A: LocalText("A（部门签发或核验数据）", "A (issued or verified by the department)"),
    Grade.B: LocalText("B（窗口核验原件）", "B (checked against the original at a counter)"),
    Grade.C: LocalText("C（申请人上传）", "C (uploaded by the applicant)"),
    Grade.D: LocalText("D（申请人声明）", "D (declared by the applicant)"),
}
# What the applicant does to reach a grade.
HOW_TO_REACH: dict[Grade, LocalText] = {
    Grade.A: LocalText(
        "需要签发部门出具的电子证照或核验数据", "needs an electronic licence or verified data"
    ),
    Grade.B: LocalText("请携带原件到任一综合窗口核验", "bring the original to a counter"),
    Grade.C: LocalText("请上传", "upload it"),
    Grade.D: LocalText("请填写", "fill it in"),
}


def parse(text: str | Grade) -> Grade:
    """The grade named by ``text`` (A, B, C or D); ValueError otherwise."""
    try:
        return Grade(str(text).strip().upper())
    except ValueError:
        raise ValueError(f"unknown grade {text!r}: use A, B, C or D") from None


def meets(grade: Grade | str | None, required: Grade | str) -> bool:
    """Whether evidence of ``grade`` (None: there is none) is good enough for ``required``."""
    if grade is None:
        return False
    return ORDER.index(parse(grade)) <= ORDER.index(parse(required))


def best(grades: list[Grade]) -> Grade | None:
    """The strongest of several pieces of evidence for one requirement."""
    return min(grades, key=ORDER.index) if grades else None


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence as shown to the applicant, the reviewer and the API."""

    kind: str  # "material" or "field"
    code: str  # the material requirement's code or the field's name
    name: LocalText
    grade: Grade | None  # None: not provided yet
    required: Grade | None  # None: no grade is required (declared values)

    @property
    def sufficient(self) -> bool:
        return self.required is None or meets(self.grade, self.required)

    @property
    def advice(self) -> LocalText | None:
        """What to do, e.g. "needs B: bring the original to a counter"; None when enough."""
        if self.sufficient or self.required is None:
            return None
        how = HOW_TO_REACH[self.required]
        return LocalText(
            f"需要{self.required.value}级：{how.zh}", f"needs {self.required.value}: {how.en}"
        )
