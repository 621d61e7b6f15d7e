"""Walk-in applicants without an account: the counter clerk registers the person on the spot
(name, resident ID, phone, optionally e-mail), which opens an applicant account with no
password; the person claims it later online with their resident ID and a one-time code sent to
that phone, choosing a username and password. The cases filed at the counter are then in the
account.

Code requests are answered alike whether or not a claimable account exists (the answer must
not tell who has one), and are limited per account without saying so (a refusal would tell).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.errors import Conflict, InvalidInput
from tongban.identity import credentials, messages, policy, repository
from tongban.identity.errors import ClaimCodeInvalid
from tongban.identity.models import Account, AccountKind, ClaimCode, RegistrationCode
from tongban.identity.numbers import mobile_problem, resident_id_problem
from tongban.identity.principals import Principal
from tongban.kit import onetime
from tongban.kit.clock import utcnow
from tongban.security.principals import Internal

# An account that nobody has claimed yet: its username is not one a person picks (those are
# 3 to 32 characters of [a-z0-9_.-], no '+'), and it has no password.
UNCLAIMED_PREFIX = "resident+"
CODE_MINUTES = 10
MAX_ATTEMPTS = 5
MAX_CODES = 3
WINDOW = timedelta(minutes=15)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")

# A claim code goes out because an account exists to claim, whoever asked (the answer does not
# tell them whether one does).
CLAIM_CODES = Internal("send a walk-in applicant's claim code")


def unclaimed_username(id_number: str) -> str:
    return UNCLAIMED_PREFIX + hashlib.sha256(id_number.encode()).hexdigest()[:24]


def is_unclaimed(account: Account) -> bool:
    return account.username.startswith(UNCLAIMED_PREFIX)


def clean_id_number(id_number: str) -> str:
    cleaned = id_number.strip().upper()
    problem = resident_id_problem(cleaned)
    if problem:
        raise InvalidInput(problem, field="id_number")
    return cleaned


def _audit(session: Session, actor: Principal, action: str, account: Account) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"identity.{action}",
        target_type="account",
        target_id=str(account.id),
        # The ID number only by its last four characters, as every person lookup.
        details={"id_number": f"***{(account.id_number or '')[-4:]}"},
    )


def clean_mobile(phone: str) -> str:
    phone = phone.strip()
    if mobile_problem(phone):
        raise InvalidInput(
            "A mobile number has 11 digits: the code to claim the account goes there.",
            field="phone",
        )
    return phone


def check_new_credentials(session: Session, username: str, password: str) -> str:
    """The username a person chose (tidied), if it is well-formed and free and the password
    long enough."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise InvalidInput(
            "A username has 3 to 32 lower-case letters, digits, dots, dashes or underscores.",
            field="username",
        )
    if repository.username_taken(session, username):
        raise Conflict("The username {username} is taken.", field="username", username=username)
    if len(password) < credentials.MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "The password must have at least {n} characters.",
            field="password",
            n=credentials.MIN_PASSWORD_LENGTH,
        )
    return username


def register_walk_in(
    session: Session,
    subject: Principal,
    *,
    display_name: str,
    id_number: str,
    phone: str,
    email: str = "",
) -> Account:
    """Register a walk-in applicant who has no account (a counter clerk, at the window)."""
    clerk = policy.require_register_walk_in(subject)
    display_name = display_name.strip()
    if not 1 <= len(display_name) <= 50:
        raise InvalidInput("Please give the person's name (at most 50 characters).", field="name")
    cleaned = clean_id_number(id_number)
    phone = clean_mobile(phone)
    email = email.strip()
    if email and (not _EMAIL.match(email) or len(email) > 254):
        raise InvalidInput("This is not an e-mail address.", field="email")
    if repository.id_number_taken(session, cleaned):
        raise Conflict(
            "Someone with this ID number has an account already: look the person up instead.",
            field="id_number",
        )
    account = Account(
        username=unclaimed_username(cleaned),
        display_name=display_name,
        kind=AccountKind.APPLICANT,
        password_hash=credentials.NO_PASSWORD,
        id_number=cleaned,
        phone=phone,
        email=email or None,
        roles=[],
    )
    session.add(account)
    session.flush()
    _audit(session, clerk, "walk_in_registered", account)
    return account


def claimable(session: Session, id_number: str) -> Account | None:
    account = repository.applicant_by_id_number(session, id_number)
    if account is None or not account.active or not is_unclaimed(account) or not account.phone:
        return None
    return account


def request_claim_code(session: Session, subject: Principal, *, id_number: str) -> None:
    """Send a one-time code to the phone of the unclaimed account with ``id_number``, if there
    is one; the caller is told the same anyway."""
    policy.require_register(subject)
    cleaned = clean_id_number(id_number)
    account = claimable(session, cleaned)
    if account is None:
        audit.record(
            session,
            actor=subject,
            action="identity.claim_code_requested",
            target_type="id_number",
            target_id=f"***{cleaned[-4:]}",
            details={"sent": False},
        )
        return
    send_claim_code(session, account)


def send_claim_code(session: Session, account: Account) -> None:
    """Text a claim code to the phone given at the counter, unless MAX_CODES went there within
    WINDOW: then nothing, and the caller is answered as if it went (a refusal would tell that
    an unclaimed account exists)."""
    now = utcnow()
    if repository.claim_codes_since(session, account.id, now - WINDOW) >= MAX_CODES:
        _audit(session, CLAIM_CODES, "claim_code_withheld", account)
        return
    issued = onetime.issue()
    session.add(
        ClaimCode(
            account_id=account.id,
            code_hash=issued.code_hash,
            salt=issued.salt,
            created_at=now,
            expires_at=now + timedelta(minutes=CODE_MINUTES),
        )
    )
    messages.messenger().tell(
        session,
        event="claim_code",
        account=account,
        reference=f"account:{account.id}",
        values={"code": issued.code, "minutes": str(CODE_MINUTES)},
        sms_only=True,
    )
    _audit(session, CLAIM_CODES, "claim_code_requested", account)
    session.flush()


def wrong_code() -> ClaimCodeInvalid:
    """One answer for a wrong code, an expired one and none at all."""
    return ClaimCodeInvalid("The code is wrong or has expired; ask for a new one.", field="code")


_Code = TypeVar("_Code", ClaimCode, RegistrationCode)


def check_code(
    session: Session, live: _Code | None, code: str, *, refused: Callable[[], None]
) -> _Code:
    """Check ``code`` against the live code sent (None: none is) and return it; every try
    counts, and after MAX_ATTEMPTS even the right code is refused. ``refused`` records a wrong
    one."""
    if live is None or live.attempts >= MAX_ATTEMPTS:
        raise wrong_code()
    live.attempts += 1
    if not onetime.matches(live.salt, live.code_hash, code):
        refused()
        # The attempt counts even though the caller gets an error: commit it.
        session.flush()
        raise wrong_code()
    return live


def claim(
    session: Session,
    subject: Principal,
    *,
    id_number: str,
    code: str,
    username: str,
    password: str,
) -> Account:
    """Claim the account opened at the counter: the code sent to its phone proves the person;
    they choose a username and a password and sign in with them from now on."""
    policy.require_register(subject)
    cleaned = clean_id_number(id_number)
    account = claimable(session, cleaned)
    if account is None:
        raise wrong_code()
    live = check_code(
        session,
        repository.live_claim_code(session, account.id, utcnow()),
        code,
        refused=lambda: _audit(session, subject, "claim_code_refused", account),
    )
    username = check_new_credentials(session, username, password)
    live.used_at = utcnow()
    account.username = username
    account.password_hash = credentials.hash_password(password)
    _audit(session, account, "account_claimed", account)
    session.flush()
    return account
