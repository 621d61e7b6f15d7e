"""Opening an applicant account online, without telling anyone whether an ID number has one.

Step one takes a name, a resident ID number and a mobile phone, and always answers the same:
"if an account can be opened with these details, a code is on its way". What happens next
depends on what exists, and only the ID number's holder learns it, through their own channel
(as GOV.UK One Login tells the owner of an address, never the person typing it):
- no account: a code goes to the phone given; step two (the code, a username and a password)
  opens the account. Until then nothing but the code is kept;
- an account opened at a service counter and not yet claimed: a claim code goes to the phone
  given at the counter (``walk_ins``), and step two claims that account;
- any other account: its holder is told, at most once a day, that someone tried to register
  with their ID number; nothing else happens.
Codes are limited per ID number and per phone (so nobody can flood a phone by typing its number
with made-up ID numbers), and silently: a refusal would tell.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.errors import InvalidInput
from tongban.identity import messages, policy, repository, walk_ins
from tongban.identity.models import Account, AccountKind, RegistrationCode
from tongban.identity.principals import Principal
from tongban.identity.service.accounts import create_account
from tongban.kit import onetime
from tongban.kit.clock import utcnow
from tongban.kit.i18n import N_
from tongban.security.principals import ANONYMOUS, Internal

# The one answer to step one, whatever exists.
SENT = N_(
    "If an account can be opened with these details, we have sent a code to the mobile phone "
    "you gave; it is valid for 10 minutes. If you already have an account, sign in instead."
)
CODE_MINUTES = walk_ins.CODE_MINUTES
MAX_CODES = walk_ins.MAX_CODES
WINDOW = walk_ins.WINDOW


def request(
    session: Session, subject: Principal, *, display_name: str, id_number: str, phone: str
) -> None:
    """Step one; the caller answers the same whatever happened here."""
    policy.require_register(subject)
    display_name = display_name.strip()
    if not 1 <= len(display_name) <= 50:
        raise InvalidInput("Please give your name (at most 50 characters).", field="display_name")
    cleaned = walk_ins.clean_id_number(id_number)
    phone = walk_ins.clean_mobile(phone)
    existing = repository.account_by_id_number(session, cleaned)
    if existing is not None and walk_ins.is_unclaimed(existing):
        outcome = "claim_code"
        if existing.active and existing.phone:
            walk_ins.send_claim_code(session, existing)
    elif existing is not None:
        outcome = "holder_told"
        _tell_holder(session, existing)
    else:
        outcome = "code" if _send_code(session, cleaned, display_name, phone) else "withheld"
    _audit(session, "registration_requested", cleaned, outcome=outcome, phone=f"***{phone[-4:]}")
    session.flush()


def _audit(session: Session, action: str, id_number: str, **details: object) -> None:
    audit.record(
        session,
        actor=ANONYMOUS,
        action=f"identity.{action}",
        target_type="id_number",
        # The ID number only by its last four characters, as every person lookup.
        target_id=f"***{id_number[-4:]}",
        details=details,
    )


def _send_code(session: Session, id_number: str, display_name: str, phone: str) -> bool:
    now = utcnow()
    since = now - WINDOW
    if (
        repository.registration_codes_since(session, since, id_number=id_number) >= MAX_CODES
        or repository.registration_codes_since(session, since, phone=phone) >= MAX_CODES
    ):
        return False
    issued = onetime.issue()
    row = RegistrationCode(
        id_number=id_number,
        display_name=display_name,
        phone=phone,
        code_hash=issued.code_hash,
        salt=issued.salt,
        created_at=now,
        expires_at=now + timedelta(minutes=CODE_MINUTES),
    )
    session.add(row)
    session.flush()
    messages.messenger().text(
        session,
        event="registration_code",
        phone=phone,
        values={"code": issued.code, "minutes": str(CODE_MINUTES)},
        reference=f"registration:{row.id}",
    )
    return True


def _tell_holder(session: Session, holder: Account) -> None:
    messages.messenger().tell(
        session,
        event="registration_attempt",
        account=holder,
        values={"name": holder.display_name},
        # Once a day at most: a stranger retrying must not become a flood of messages.
        reference=f"account:{holder.id}:registration-attempt:{utcnow():%Y-%m-%d}",
        once=True,
    )


def finish(
    session: Session,
    subject: Principal,
    *,
    id_number: str,
    code: str,
    username: str,
    password: str,
) -> Account:
    """Step two: the code from the SMS, with the username and password the person chose. Opens
    the account (or claims the one opened at a counter); a wrong code, an expired one and no
    code at all are one answer."""
    policy.require_register(subject)
    cleaned = walk_ins.clean_id_number(id_number)
    if walk_ins.claimable(session, cleaned) is not None:
        return walk_ins.claim(
            session, subject, id_number=cleaned, code=code, username=username, password=password
        )
    now = utcnow()
    live = walk_ins.check_code(
        session,
        repository.live_registration_code(session, cleaned, now),
        code,
        refused=lambda: _audit(session, "registration_code_refused", cleaned),
    )
    username = walk_ins.check_new_credentials(session, username, password)
    if repository.id_number_taken(session, cleaned):
        # Opened meanwhile (at a counter, or by another code): the holder has the account.
        raise walk_ins.wrong_code()
    live.used_at = now
    return create_account(
        session,
        Internal("open the account a person registered for"),
        username=username,
        password=password,
        display_name=live.display_name,
        kind=AccountKind.APPLICANT,
        id_number=cleaned,
        phone=live.phone,
    )
