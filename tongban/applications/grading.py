"""The credibility grade of each piece of evidence in one application (the vocabulary and the
rule are in ``evidence``): each material requirement graded by the best file provided for it,
each filled-in field graded A (prefilled from a verified source, unchanged) or D (declared)."""

from __future__ import annotations

from tongban.applications import coverage, disclosure
from tongban.applications.evidence import DECLARED, ISSUED, Evidence, best, parse
from tongban.applications.models import Application
from tongban.kit.i18n import LocalText


def assess(application: Application) -> list[Evidence]:
    """Materials first (in the items' order), then the fields that have a value."""
    found: list[Evidence] = []
    for requirement in coverage.requirements(application):
        grades = [
            parse(m.grade) for m in application.materials if m.requirement_code == requirement.code
        ]
        needed = requirement.required or bool(grades)
        found.append(
            Evidence(
                "material",
                requirement.code,
                LocalText(requirement.name_zh, requirement.name_en),
                best(grades),
                parse(requirement.required_grade) if needed else None,
            )
        )
    prefilled = disclosure.prefill_states(application)
    for spec in disclosure.case_fields(application):
        state = prefilled.get(spec.name)
        if state is None and not disclosure.has_value(application, spec.name):
            continue
        grade = ISSUED if state is not None and state.verified else DECLARED
        found.append(
            Evidence("field", spec.name, LocalText(spec.label_zh, spec.label_en), grade, None)
        )
    return found


def shortfalls(application: Application) -> list[Evidence]:
    """Evidence that is provided but below the grade the item requires."""
    return [e for e in assess(application) if e.grade is not None and not e.sufficient]


def describe(evidence: list[Evidence]) -> LocalText:
    """ "营业执照：需要B级：请携带原件…" for a message naming each shortfall."""
    parts = [(e.name, e.advice) for e in evidence if e.advice is not None]
    return LocalText(
        "；".join(f"{name.zh}（{advice.zh}）" for name, advice in parts),
        "; ".join(f"{name.en} ({advice.en})" for name, advice in parts),
    )
