"""What a node does with each type of message it accepts: a registry of handlers by type.

A handler runs in the receiving transaction, after the message is verified and logged; what it
changes commits together with the log entry, or not at all.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from tongban.federation.models import Node

Handler = Callable[[Session, Node, dict[str, Any]], None]

HANDLERS: dict[str, Handler] = {}
# Modules that register handlers, imported when the first message arrives (they import the
# federation service, which imports this module).
_MODULES = (
    "tongban.federation.catalog.service",
    "tongban.federation.applications.service",
    "tongban.federation.exchange.service",
)


def handles(message_type: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[message_type] = fn
        return fn

    return register


def get(message_type: str) -> Handler | None:
    for name in _MODULES:
        importlib.import_module(name)
    return HANDLERS.get(message_type)


@handles("note")
def _note(session: Session, sender: Node, body: dict[str, Any]) -> None:
    """An operator's note to another node: the log entry is all it leaves."""
