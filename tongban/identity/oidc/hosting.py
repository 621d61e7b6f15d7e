"""What the grants and endpoints need of the provider that hosts them: its database session,
its issuer and a way to record a refusal. ``server.Provider`` is one; the grants and endpoints
depend on this, so the provider can import them without their importing it back."""

from __future__ import annotations

from typing import Any, Protocol

from authlib.oauth2.rfc6749.errors import OAuth2Error
from sqlalchemy.orm import Session

from tongban.identity.models import Account


class Host(Protocol):
    db: Session
    issuer: str

    def record_refusal(
        self, request: Any, error: OAuth2Error, actor: Account | None = None
    ) -> None: ...
