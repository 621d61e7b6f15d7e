"""The principal a service acts for: an account, or one of the unsigned principals
(``security.principals``). Policies match on its type."""

from __future__ import annotations

from tongban.identity.models import Account, AccountKind
from tongban.security.principals import Anonymous, Internal, Operator

Principal = Account | Operator | Internal | Anonymous


def is_trusted(principal: Principal) -> bool:
    """The command line or the platform itself (what a ``None`` subject meant before
    principals, besides a visitor): trusted where a policy says so."""
    return isinstance(principal, Operator | Internal)


def is_admin(principal: Principal) -> bool:
    return isinstance(principal, Account) and principal.kind is AccountKind.ADMIN


def account_id(principal: Principal) -> int | None:
    """The acting account's id, to keep beside a change (None when no account acted)."""
    return principal.id if isinstance(principal, Account) else None
