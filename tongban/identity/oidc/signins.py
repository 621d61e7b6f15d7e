"""The portal sign-in behind every code and token.

There is one sign-on: the portal's ``WebSession`` (the ``tongban_session`` cookie). Codes, access
tokens and refresh tokens all point at the session they were issued under and are only good
while it lives, so signing out anywhere (the portal, "sign out everywhere", or a relying party's
RP-initiated logout) ends them all at once, and so does the session's absolute or idle timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tongban.identity import service as identity_service
from tongban.identity.models import Account, WebSession
from tongban.identity.oidc import repository


@dataclass(frozen=True)
class SignedIn:
    """A person signed in at the portal, on whose behalf a client asks (Authlib's "user")."""

    account: Account
    web_session: WebSession
    client_id: str


def live(session: Session, session_id: int | None, now: datetime) -> WebSession | None:
    """The sign-in session if it still lives (``identity.service.is_live``), known by id rather
    than by cookie; a signed-out session is gone, so its id no longer finds one."""
    row = repository.web_session(session, session_id)
    return row if row is not None and identity_service.is_live(row, now) else None


def resume(
    session: Session,
    *,
    account_id: int,
    session_id: int | None,
    client_id: str,
    now: datetime,
    touch: bool = False,
) -> SignedIn | None:
    """The person behind a code or token, if both they and their sign-in are still good.

    ``touch`` counts this as the person being active (a refresh by a client they are using),
    which keeps the one sign-on from going idle, as using the portal does."""
    web_session = live(session, session_id, now)
    if web_session is None or web_session.account_id != account_id:
        return None
    account = repository.account(session, account_id)
    if account is None or not account.active:
        return None
    if account.needs_second_factor and "otp" not in web_session.amr:
        return None
    if touch:
        web_session.last_seen_at = now
    return SignedIn(account=account, web_session=web_session, client_id=client_id)
