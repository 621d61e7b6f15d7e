"""The application state machine as data: which action moves which states, and who may take it."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Status(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"  # returned for correction: the applicant fixes and resubmits
    REJECTED = "rejected"  # rejected at intake: not the department's matter, or ineligible
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    DENIED = "denied"
    COMPLETED = "completed"  # the result document has been issued
    WITHDRAWN = "withdrawn"


class Action(enum.StrEnum):
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    ACCEPT = "accept"
    RETURN = "return"
    REJECT = "reject"
    START_REVIEW = "start_review"
    APPROVE = "approve"
    DENY = "deny"
    COMPLETE = "complete"


class Role(enum.StrEnum):
    APPLICANT = "applicant"
    OFFICIAL = "official"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[Status]
    target: Status
    by: Role
    reason_required: bool = False


TRANSITIONS: dict[Action, Transition] = {
    Action.SUBMIT: Transition(
        frozenset({Status.DRAFT, Status.RETURNED}), Status.SUBMITTED, Role.APPLICANT
    ),
    Action.WITHDRAW: Transition(
        frozenset({Status.DRAFT, Status.SUBMITTED, Status.RETURNED}),
        Status.WITHDRAWN,
        Role.APPLICANT,
    ),
    Action.ACCEPT: Transition(frozenset({Status.SUBMITTED}), Status.ACCEPTED, Role.OFFICIAL),
    Action.RETURN: Transition(
        frozenset({Status.SUBMITTED}), Status.RETURNED, Role.OFFICIAL, reason_required=True
    ),
    Action.REJECT: Transition(
        frozenset({Status.SUBMITTED}), Status.REJECTED, Role.OFFICIAL, reason_required=True
    ),
    Action.START_REVIEW: Transition(frozenset({Status.ACCEPTED}), Status.IN_REVIEW, Role.OFFICIAL),
    Action.APPROVE: Transition(frozenset({Status.IN_REVIEW}), Status.APPROVED, Role.OFFICIAL),
    Action.DENY: Transition(
        frozenset({Status.IN_REVIEW}), Status.DENIED, Role.OFFICIAL, reason_required=True
    ),
    Action.COMPLETE: Transition(frozenset({Status.APPROVED}), Status.COMPLETED, Role.OFFICIAL),
}

# States in which the applicant may still change the form and materials.
EDITABLE = frozenset({Status.DRAFT, Status.RETURNED})
# States from which nothing further happens.
FINAL = frozenset({Status.REJECTED, Status.DENIED, Status.COMPLETED, Status.WITHDRAWN})
# States an official still has to act on.
OPEN_FOR_DEPARTMENT = frozenset(
    {Status.SUBMITTED, Status.ACCEPTED, Status.IN_REVIEW, Status.APPROVED}
)


def actions_from(status: Status, role: Role) -> list[Action]:
    return [a for a, t in TRANSITIONS.items() if status in t.sources and t.by is role]
