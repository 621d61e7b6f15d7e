"""Walking a bundle's questionnaire: from the first question, each answer adds items and leads
to the next question, the end, or an exit page (not eligible)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tongban.bundles.schemas import BundleSpec, ExitPage, Question


@dataclass(frozen=True)
class Walk:
    # The next question to answer, None when the questionnaire is done.
    question: Question | None
    # Keys of the items that apply so far, in the bundle's order.
    keys: list[str]
    # The answers that were used (in order), e.g. to carry them to the next page.
    answered: list[tuple[str, str]]
    exit: ExitPage | None = None

    @property
    def done(self) -> bool:
        return self.question is None and self.exit is None


def walk(spec: BundleSpec, answers: Mapping[str, str]) -> Walk:
    questions = {q.id: q for q in spec.questions}
    added = {i.key for i in spec.items if i.always}
    answered: list[tuple[str, str]] = []
    current = spec.questions[0] if spec.questions else None
    while current is not None:
        value = answers.get(current.id)
        option = next((o for o in current.options if o.value == value), None)
        if option is None:
            break  # not answered yet (or answered with something not offered)
        answered.append((current.id, option.value))
        added.update(option.add)
        if option.exit is not None:
            return Walk(None, [], answered, option.exit)
        current = questions[option.next] if option.next else None
    keys = [i.key for i in spec.items if i.key in added]
    return Walk(current, keys, answered)
