"""What an application asks for when it covers several items of one department (a bundle's
department application): the material list and the time limits of all its items together.
The form is ``disclosure.case_fields``."""

from __future__ import annotations

from dataclasses import dataclass

from tongban.applications import evidence
from tongban.applications.models import Application
from tongban.kit.i18n import LocalText


@dataclass
class Requirement:
    """A material the application needs, as the item's requirement says (``code``, names,
    ``required``, ``types``, ``max_mb``, notes, ``required_grade``), merged over the covered
    items: required if any item requires it, the file types and size every one of them
    accepts, the strictest credibility grade any of them needs."""

    code: str
    name_zh: str
    name_en: str
    form: str
    required: bool
    types: list[str]
    max_mb: int
    note_zh: str
    note_en: str
    required_grade: str
    # The licence type whose electronic licence stands in for the material (licences.reuse).
    satisfied_by_licence: str | None
    # What else replaces an upload (``sourcing``): generated from the form, the verified
    # identity at this assurance level, a record of this exchange resource.
    generated: str | None = None
    satisfied_by_identity: str | None = None
    satisfied_by_data: str | None = None

    @property
    def name(self) -> LocalText:
        return LocalText(self.name_zh, self.name_en)


def requirements(application: Application) -> list[Requirement]:
    merged: dict[str, Requirement] = {}
    for item in application.items:
        for r in item.materials:
            entry = merged.get(r.code)
            if entry is None:
                merged[r.code] = Requirement(
                    r.code,
                    r.name_zh,
                    r.name_en,
                    r.form,
                    r.required,
                    list(r.types),
                    r.max_mb,
                    r.note_zh,
                    r.note_en,
                    r.required_grade,
                    r.satisfied_by_licence,
                    r.generated,
                    r.satisfied_by_identity,
                    r.satisfied_by_data,
                )
                continue
            entry.required = entry.required or r.required
            entry.types = [t for t in entry.types if t in r.types]
            entry.max_mb = min(entry.max_mb, r.max_mb)
            if not evidence.meets(r.required_grade, entry.required_grade):
                entry.required_grade = r.required_grade
            entry.satisfied_by_licence = entry.satisfied_by_licence or r.satisfied_by_licence
            # Replaced only where every covered item agrees it may be.
            if entry.generated != r.generated:
                entry.generated = None
            if entry.satisfied_by_identity != r.satisfied_by_identity:
                entry.satisfied_by_identity = None
            if entry.satisfied_by_data != r.satisfied_by_data:
                entry.satisfied_by_data = None
    return list(merged.values())


def promised_days(application: Application) -> int:
    """Items handled together are done when the slowest is: the longest promise counts."""
    return int(max(item.promised_days for item in application.items))


def statutory_days(application: Application) -> int:
    return int(max(item.statutory_days for item in application.items))


def names(application: Application) -> LocalText:
    """The items' names joined, as a heading or a notification shows them."""
    items = application.items
    return LocalText("、".join(i.name_zh for i in items), "; ".join(i.name_en for i in items))
