"""Labels and clearances: a grade plus a set of compartments, ordered by dominance.

A label sits on a piece of data; a clearance on a subject. ``a`` dominates ``b`` when ``a``'s
grade is at least ``b``'s and ``a``'s compartments include all of ``b``'s: the classic lattice of
mandatory access control (Bell–LaPadula levels with need-to-know categories). Grades and
compartments are data (``data/grades.yaml``, or a deployment's own file), so a deployment may add
a grade or a compartment without a code change.

The compact written form is ``grade`` or ``grade:compartment,compartment`` — e.g.
``important:health,tax`` — and is what data files and administrators write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import ValidationError

from tongban.security.errors import LabelInvalid, SecurityConfigInvalid
from tongban.security.schemas import GradesFile


@dataclass(frozen=True, order=True)
class Grade:
    # Ordered by rank alone: the rank is the grade's place in the grades file, lowest first.
    rank: int
    code: str = field(compare=False)
    name_zh: str = field(compare=False, default="")
    name_en: str = field(compare=False, default="")

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True)
class Compartment:
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Level:
    """A grade and a set of compartment codes: what labels and clearances have in common."""

    grade: Grade
    compartments: frozenset[str] = frozenset()

    def dominates(self, other: Level) -> bool:
        return dominates(self, other)

    def __str__(self) -> str:
        if not self.compartments:
            return self.grade.code
        return f"{self.grade.code}:{','.join(sorted(self.compartments))}"


class Label(Level):
    """The classification of a piece of data."""


class Clearance(Level):
    """What a subject may read; set only by a security administrator."""


L = TypeVar("L", bound=Level)


def dominates(upper: Level, lower: Level) -> bool:
    """Whether ``upper`` may read (or contain) data at ``lower``: grade ≥ and compartments ⊇."""
    return upper.grade.rank >= lower.grade.rank and upper.compartments >= lower.compartments


def join(first: Label, *others: Label) -> Label:
    """The least label that dominates every one given: the label derived data needs at least."""
    grade = max((first.grade, *(o.grade for o in others)))
    return Label(grade, first.compartments.union(*(o.compartments for o in others)))


def meet(first: Label, *others: Label) -> Label:
    """The greatest label that every one given dominates."""
    grade = min((first.grade, *(o.grade for o in others)))
    return Label(grade, first.compartments.intersection(*(o.compartments for o in others)))


@dataclass(frozen=True)
class LabelScheme:
    """The grades (lowest first) and compartments of one deployment, and parsing against them."""

    grades: tuple[Grade, ...]
    compartments: tuple[Compartment, ...]

    @cached_property
    def _grades_by_code(self) -> dict[str, Grade]:
        return {g.code: g for g in self.grades}

    @cached_property
    def compartment_codes(self) -> frozenset[str]:
        return frozenset(c.code for c in self.compartments)

    @property
    def lowest(self) -> Grade:
        return self.grades[0]

    @property
    def highest(self) -> Grade:
        return self.grades[-1]

    def grade(self, code: str) -> Grade:
        try:
            return self._grades_by_code[code]
        except KeyError:
            raise LabelInvalid("Unknown grade {grade}.", grade=code) from None

    def label(self, grade: str, *compartments: str) -> Label:
        return Label(self.grade(grade), self._compartments(compartments))

    def clearance(self, grade: str, *compartments: str) -> Clearance:
        return Clearance(self.grade(grade), self._compartments(compartments))

    def parse_label(self, text: str) -> Label:
        """``important:health,tax`` → the label; unknown names raise ``LabelInvalid``."""
        return self._parse(text, Label)

    def parse_clearance(self, text: str) -> Clearance:
        return self._parse(text, Clearance)

    def public(self) -> Label:
        """The bottom of the lattice: the lowest grade, no compartments."""
        return Label(self.lowest)

    def check(self, level: L) -> L:
        """``level`` itself, if its grade and compartments belong to this scheme."""
        if self._grades_by_code.get(level.grade.code) != level.grade:
            raise LabelInvalid("Unknown grade {grade}.", grade=level.grade.code)
        self._compartments(level.compartments)
        return level

    def _parse(self, text: str, kind: type[L]) -> L:
        grade_code, colon, rest = text.strip().partition(":")
        names: tuple[str, ...] = ()
        if colon:
            names = tuple(name.strip() for name in rest.split(","))
            if any(not name for name in names):
                raise LabelInvalid("The label {label} has an empty compartment name.", label=text)
        return kind(self.grade(grade_code.strip()), self._compartments(names))

    def _compartments(self, codes: Iterable[str]) -> frozenset[str]:
        found = frozenset(codes)
        unknown = sorted(found - self.compartment_codes)
        if unknown:
            raise LabelInvalid("Unknown compartment {compartment}.", compartment=unknown[0])
        return found


def parse_scheme(text: str, *, source: str = "grades file") -> LabelScheme:
    try:
        spec = GradesFile.model_validate(yaml.safe_load(text) or {})
    except (ValidationError, yaml.YAMLError) as exc:
        raise SecurityConfigInvalid(
            "The {source} is not valid: {problem}", source=source, problem=str(exc)
        ) from exc
    grades = tuple(Grade(rank, g.code, g.name_zh, g.name_en) for rank, g in enumerate(spec.grades))
    compartments = tuple(Compartment(c.code, c.name_zh, c.name_en) for c in spec.compartments)
    return LabelScheme(grades, compartments)


def load_scheme(path: Path) -> LabelScheme:
    return parse_scheme(path.read_text(encoding="utf-8"), source=str(path))


@lru_cache
def default_scheme() -> LabelScheme:
    """The packaged grades and compartments (a deployment setting will point to its own file)."""
    text = resources.files("tongban.security").joinpath("data/grades.yaml").read_text("utf-8")
    return parse_scheme(text, source="packaged grades file")
