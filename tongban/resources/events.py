"""The events master data sends to department systems and their payload: the contract
connectors check mappings against, and the types the publishing code builds them with."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from tongban.connectors.contracts import EventContract

# A value of a person (pid) or a company (cid) changed at its authoritative source.
VALUE_CHANGED = "resources.value_changed"


class ValueChanged(TypedDict):
    pid: NotRequired[str]
    cid: NotRequired[str]
    element: str
    source: str
    at: str
    # A company's values go to every subscriber; a person's are disclosed (below).
    old_value: NotRequired[Any]
    new_value: NotRequired[Any]


class ValueChangedDisclosed(TypedDict):
    old_value: Any
    new_value: Any


# The authority's department closed a conflict: its value confirmed (the other source should
# correct its record), its own record corrected, or the conflict dismissed with a reason. Sent
# to both departments.
CONFLICT_CLOSED = "resources.conflict_closed"


class ConflictClosed(TypedDict):
    pid: str
    element: str
    resolution: str
    authority: str
    other_source: str
    note: str | None
    at: str


class ConflictClosedDisclosed(TypedDict):
    authority_value: Any
    other_value: Any


VALUE_CHANGED_CONTRACT = EventContract(
    events=(VALUE_CHANGED,), body=ValueChanged, disclosed=ValueChangedDisclosed
)
CONFLICT_CLOSED_CONTRACT = EventContract(
    events=(CONFLICT_CLOSED,), body=ConflictClosed, disclosed=ConflictClosedDisclosed
)
