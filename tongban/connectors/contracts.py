"""The shape of a contract of the events the platform sends to department systems. Each producer
owns its events' contract (``applications.events``, ``licences.events``, ``resources.events``):
their names and the payload it builds, as TypedDicts its builders are typed with, so the fields
are written once. ``integration.docking`` checks a connector's subscriptions and mapping against
them when a system registers, so a mapping that could never be filled is refused then, not found
empty in production."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, get_type_hints, is_typeddict

from tongban.catalog.models import ServiceItem
from tongban.connectors.outbox import subscribes


def _no_item_fields(item: ServiceItem) -> Iterable[str]:
    return ()


def fields_of(payload: type[Any], *, prefix: str = "") -> frozenset[str]:
    """The fields a TypedDict payload carries; a nested TypedDict's as ``outer.inner``."""
    fields: set[str] = set()
    for name, hint in get_type_hints(payload).items():
        if is_typeddict(hint):
            fields |= fields_of(hint, prefix=f"{prefix}{name}.")
        else:
            fields.add(f"{prefix}{name}")
    return frozenset(fields)


@dataclass(frozen=True)
class EventContract:
    """Events of one producer and the fields their payload carries: ``body`` goes to every
    subscriber, ``disclosed`` as each one's clearance allows; a field named in ``per_item``
    carries the department's items' own fields (``form.<name>``), given by ``item_fields``."""

    events: tuple[str, ...]
    body: type[Any]
    disclosed: type[Any] | None = None
    per_item: frozenset[str] = frozenset()
    item_fields: Callable[[ServiceItem], Iterable[str]] = _no_item_fields

    @property
    def fields(self) -> frozenset[str]:
        found = fields_of(self.body)
        if self.disclosed is not None:
            found |= fields_of(self.disclosed)
        return found - self.per_item


def all_events(declared: Iterable[EventContract]) -> tuple[str, ...]:
    return tuple(event for contract in declared for event in contract.events)


def mappable_fields(
    declared: Iterable[EventContract], patterns: list[str], items: Iterable[ServiceItem]
) -> frozenset[str]:
    """The payload fields a connector subscribed to ``patterns`` may map, for a department
    handling ``items``."""
    items = list(items)
    fields: set[str] = set()
    for contract in declared:
        if any(subscribes(patterns, event) for event in contract.events):
            fields |= contract.fields
            fields |= {field for item in items for field in contract.item_fields(item)}
    return frozenset(fields)
