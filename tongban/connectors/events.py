"""The events the platform sends to department systems and the payload fields each carries: the
contract a connector's subscriptions and mapping are checked against when a system registers,
so a mapping that could never be filled is refused then, not found empty in production."""

from __future__ import annotations

from collections.abc import Iterable

from tongban.applications.states import Status
from tongban.catalog.models import ServiceItem
from tongban.connectors.outbox import subscribes
from tongban.licences import types as licence_types

APPLICATION_EVENTS = tuple(f"application.{status.value}" for status in Status)
APPLICATION_FIELDS = frozenset(
    {
        "number",
        "item_code",
        "item_name",
        "covered_items",
        "status",
        "action",
        "reason",
        "at",
        "result_number",
        "applicant.name",
        "applicant.id_number",
        "applicant.phone",
        "materials",
    }
)  # and form.<field> of the department's items

LICENCE_EVENTS = ("licence.issued", "licence.revoked")
LICENCE_FIELDS = frozenset(
    {
        "number",
        "type",
        "application",
        "holder_kind",
        "holder.name",
        "holder.id_number",
        "issued_on",
        "expires_on",
        "status",
        "revoked_reason",
        "key_id",
        "signature",
        "verify_url",
        "at",
    }
)  # and fields.<name> of the licence types the department's items issue

# A value of a person (pid) or a company (cid) changed at its authoritative source.
VALUE_CHANGED = "resources.value_changed"
VALUE_CHANGED_FIELDS = frozenset(
    {"pid", "cid", "element", "old_value", "new_value", "source", "at"}
)

# The authority's department closed a conflict: its value confirmed (the other source should
# correct its record), its own record corrected, or the conflict dismissed with a reason. Sent
# to both departments.
CONFLICT_CLOSED = "resources.conflict_closed"
CONFLICT_CLOSED_FIELDS = frozenset(
    {
        "pid",
        "element",
        "resolution",
        "authority",
        "authority_value",
        "other_source",
        "other_value",
        "note",
        "at",
    }
)

ALL_EVENTS = (*APPLICATION_EVENTS, *LICENCE_EVENTS, VALUE_CHANGED, CONFLICT_CLOSED)


def mappable_fields(patterns: list[str], items: Iterable[ServiceItem]) -> frozenset[str]:
    """The payload fields a connector subscribed to ``patterns`` may map, for a department
    handling ``items``."""
    items = list(items)
    fields: set[str] = set()
    if any(subscribes(patterns, e) for e in APPLICATION_EVENTS):
        fields |= APPLICATION_FIELDS
        fields |= {f"form.{field['name']}" for item in items for field in item.fields}
    if any(subscribes(patterns, e) for e in LICENCE_EVENTS):
        fields |= LICENCE_FIELDS
        for item in items:
            spec = licence_types.issued_by(item.code)
            if spec is not None:
                fields |= {f"fields.{f.name}" for f in spec.fields}
    if subscribes(patterns, VALUE_CHANGED):
        fields |= VALUE_CHANGED_FIELDS
    if subscribes(patterns, CONFLICT_CLOSED):
        fields |= CONFLICT_CLOSED_FIELDS
    return frozenset(fields)
