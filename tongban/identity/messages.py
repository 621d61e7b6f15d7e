"""How identity sends its few messages (a registration code, a claim code, a warning to an
account's holder) without importing the notifications domain, which stands above it:
notifications provides the ``Messenger`` when it loads (``notifications.events``), as every
process that serves people loads it."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from tongban.identity.models import Account


class Messenger(Protocol):
    def text(
        self, session: Session, *, event: str, phone: str, values: dict[str, str], reference: str
    ) -> None:
        """An SMS of template ``event`` to a phone that belongs to no account yet."""

    def tell(
        self,
        session: Session,
        *,
        event: str,
        account: Account,
        values: dict[str, str],
        reference: str,
        sms_only: bool = False,
        once: bool = False,
    ) -> None:
        """Template ``event`` to an account on the channels it can be reached on (only by SMS
        with ``sms_only``; with ``once``, not again for the same reference)."""


_provided: list[Messenger] = []


def provide(messenger: Messenger) -> None:
    _provided[:] = [messenger]


def messenger() -> Messenger:
    if not _provided:
        raise RuntimeError("no messenger: import tongban.notifications.events first")
    return _provided[0]
