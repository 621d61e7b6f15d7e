"""Share links: the holder lets a third party (a bank, a landlord) see one licence, as the
public may see it, until the link expires or the holder withdraws it."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.config import get_settings
from tongban.identity.principals import Principal
from tongban.kit import clock
from tongban.licences import holders, policy, service, views
from tongban.licences.errors import ShareNotFound
from tongban.licences.models import Licence, LicenceShare
from tongban.licences.schemas import LicenceRead

MAX_DAYS = 90


def share_url(token: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/licences/shared/{token}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    session: Session,
    subject: Principal,
    number: str,
    *,
    days: int,
    note: str = "",
    acting_for: int | None = None,
) -> tuple[LicenceShare, str]:
    """A new link (the share and its token: shown once, only its hash is kept)."""
    licence = service.by_number_or_404(session, subject, number)
    holder = policy.require_holder(
        subject, licence, holders.company_acted_for(session, subject, acting_for)
    )
    days = max(1, min(int(days), MAX_DAYS))
    token = secrets.token_urlsafe(24)
    now = clock.utcnow()
    share = LicenceShare(
        licence_id=licence.id,
        token_hash=_hash(token),
        note=note.strip()[:200],
        created_by_id=holder.id,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(share)
    session.flush()
    _audit(session, holder, "licence.shared", licence, share=share.id, days=days)
    return share, token


def of_licence(
    session: Session, subject: Principal, number: str, *, acting_for: int | None = None
) -> Sequence[LicenceShare]:
    licence = service.by_number_or_404(session, subject, number)
    policy.require_holder(subject, licence, holders.company_acted_for(session, subject, acting_for))
    return session.scalars(
        select(LicenceShare)
        .where(LicenceShare.licence_id == licence.id)
        .order_by(LicenceShare.id.desc())
    ).all()


def revoke(
    session: Session, subject: Principal, share_id: int, *, acting_for: int | None = None
) -> LicenceShare:
    share = session.get(LicenceShare, share_id)
    licence = session.get(Licence, share.licence_id) if share is not None else None
    if share is None or licence is None:
        raise ShareNotFound("No such share link is yours.")
    holder = policy.require_holder(
        subject, licence, holders.company_acted_for(session, subject, acting_for)
    )
    if share.revoked_at is None:
        share.revoked_at = clock.utcnow()
        _audit(session, holder, "licence.share_revoked", licence, share=share.id)
    return share


def open_shared(session: Session, subject: Principal, token: str) -> LicenceRead:
    """The licence behind a live link, as the public may see it; ``ShareEnded`` once the link
    expired or was withdrawn, ``ShareNotFound`` for a link that never existed."""
    share = session.scalars(
        select(LicenceShare).where(LicenceShare.token_hash == _hash(token))
    ).first()
    if share is None:
        raise ShareNotFound("This link does not exist; check that it was copied whole.")
    policy.require_share_live(share, clock.utcnow())
    licence = session.get(Licence, share.licence_id)
    assert licence is not None
    share.views += 1
    _audit(session, subject, "licence.share_viewed", licence, share=share.id)
    return views.public_read(licence)


def is_live(share: LicenceShare) -> bool:
    return share.revoked_at is None and clock.utcnow() < share.expires_at


def _audit(
    session: Session, actor: Principal, action: str, licence: Licence, **details: object
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        target_type="licence",
        target_id=licence.number,
        details=dict(details),
    )
