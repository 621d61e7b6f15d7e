"""Following an application without an account: a one-time code goes to the phone or e-mail
the applicant gave (through the notifications), and whoever types it in sees the progress.

The answers never tell whether a number exists: a code request is answered alike, and rows are
kept (and code requests rate-limited, setting ``limit_tracking_code_number``) for unknown
numbers too.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Literal

from sqlalchemy.orm import Session

from tongban.applications import service as applications_service
from tongban.applications.models import Application
from tongban.applications.policy import TrackingPass
from tongban.audit import service as audit
from tongban.db.session import record_apart
from tongban.errors import InvalidInput
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.kit import ids, onetime, ratelimit
from tongban.kit.clock import utcnow
from tongban.notifications import events as notifications
from tongban.notifications.models import Channel
from tongban.security.principals import Unsigned
from tongban.tracking import policy, repository
from tongban.tracking.errors import CodeInvalid
from tongban.tracking.models import TrackingCode

CODE_MINUTES = 10
MAX_ATTEMPTS = 5
TrackChannel = Literal["sms", "email"]


def _number(number: str) -> str:
    cleaned = number.strip().upper()
    if not ids.is_valid(cleaned):
        raise InvalidInput(
            "{number} is not an application number: check it against your receipt.",
            field="number",
            number=number.strip()[:30],
        )
    return cleaned


def request_code(
    session: Session, subject: Principal, *, number: str, channel: TrackChannel
) -> None:
    """Send a one-time code to the applicant of ``number`` by SMS or e-mail, if there is such
    an application and the applicant gave that contact; the caller is told the same anyway."""
    policy.require_track(subject)
    number = _number(number)
    # Enough codes for a lost SMS, too few to flood the applicant's phone.
    ratelimit.hit("tracking_code_number", number)
    now = utcnow()
    issued = onetime.issue()
    code = issued.code
    session.add(
        TrackingCode(
            number=number,
            channel=channel,
            code_hash=issued.code_hash,
            salt=issued.salt,
            created_at=now,
            expires_at=now + timedelta(minutes=CODE_MINUTES),
        )
    )
    found = applications_service.for_tracking(session, subject, number)
    sent = 0
    # An applicant with many applications is not flooded either: past the cap the code is
    # kept but not sent, and the caller is answered alike.
    if found is not None and ratelimit.allowed("tracking_code_recipient", str(found[1].id)):
        _, applicant = found
        sent = len(
            notifications.notify(
                session,
                event="tracking_code",
                recipient=applicant,
                reference=number,
                personalisation={"number": number, "code": code, "minutes": str(CODE_MINUTES)},
                channels=[Channel(channel)],
            )
        )
    audit.record(
        session,
        actor=subject,
        action="tracking.code_requested",
        target_type="application",
        target_id=number,
        details={"channel": channel, "sent": bool(sent)},
    )
    session.flush()


def _refused(code_id: int, actor: audit.ActorRef | Unsigned, number: str, session: Session) -> None:
    """Count a wrong code and audit it, apart from the refused request's transaction."""
    attempts = repository.count_attempt(session, code_id)
    audit.record(
        session,
        actor=actor,
        action="tracking.code_refused",
        target_type="application",
        target_id=number,
        details={"attempts": attempts},
    )


def track(session: Session, subject: Principal, *, number: str, code: str) -> Application:
    """The application's progress, once the code sent for it is typed in (good once)."""
    policy.require_track(subject)
    number = _number(number)
    now = utcnow()
    live = repository.latest_live(session, number, now)
    wrong = CodeInvalid("The code is wrong or has expired; ask for a new one.", field="code")
    if live is None or live.attempts >= MAX_ATTEMPTS:
        raise wrong
    if not onetime.matches(live.salt, live.code_hash, code):
        # The attempt counts although the caller gets an error.
        # Named, not loaded: by then the account is rolled back with the request.
        actor = (
            audit.ActorRef(subject.id, subject.username)
            if isinstance(subject, Account)
            else subject
        )
        record_apart(session, functools.partial(_refused, live.id, actor, number))
        raise wrong
    live.attempts += 1
    live.used_at = now
    application = applications_service.progress(session, TrackingPass(number), number)
    audit.record(
        session,
        actor=subject,
        action="tracking.viewed",
        target_type="application",
        target_id=number,
    )
    return application
