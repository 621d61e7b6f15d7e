"""Accounts, sign-in and sessions: passwords with lockout, the authenticator (TOTP) second factor,
sessions with absolute and idle timeouts, and their revocation.

A refused sign-in still changes the database (the failure count, a lock, an audit entry) before it
raises: callers commit it anyway (the pages render the refusal, the API returns it as a response).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.config import get_settings
from tongban.errors import Conflict, InvalidInput
from tongban.identity import credentials, policy, repository, walk_ins
from tongban.identity.credentials import AMR_PASSWORD, AMR_TWO_FACTOR
from tongban.identity.errors import (
    AccountNotFound,
    SessionNotFound,
    SignInFailed,
    TotpAlreadyEnabled,
    TotpEnrolmentRequired,
    TotpInvalid,
    TotpRequired,
)
from tongban.identity.models import Account, AccountKind, AdminRole, OfficialRole, WebSession
from tongban.identity.numbers import resident_id_problem
from tongban.kit import clock
from tongban.kit.i18n import N_

MIN_PASSWORD_LENGTH = credentials.MIN_PASSWORD_LENGTH

# One answer for a wrong password, an unknown username and a locked account: the answer must not
# tell anyone which usernames exist or that they have locked one.
WRONG_CREDENTIALS = N_(
    "Wrong username or password. After repeated failures sign-in pauses for a few minutes."
)
PENDING_OTP = "otp"
PENDING_ENROL = "enrol"


def _audit(
    session: Session, actor: Account | None, action: str, account: Account, **details: object
) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"identity.{action}",
        target_type="account",
        target_id=str(account.id),
        details=details or None,
    )


def _account(session: Session, username: str) -> Account:
    account = repository.account_by_username(session, username.strip())
    if account is None:
        raise AccountNotFound("There is no account {username}.", username=username)
    return account


# --- sign-in ---------------------------------------------------------------------------------


def _locked(account: Account, now: datetime) -> bool:
    return account.locked_until is not None and account.locked_until > now


def _failed(session: Session, account: Account, now: datetime, factor: str) -> None:
    """Count a failed sign-in, lock the account once there were too many, and audit it."""
    failures = repository.count_failure(session, account)
    lock = credentials.lock_duration(failures)
    locked_until = now + lock if lock is not None else None
    if locked_until is not None:
        account.locked_until = locked_until
    _audit(
        session,
        None,
        "sign_in_failed",
        account,
        factor=factor,
        failures=failures,
        locked_until=locked_until.isoformat() if locked_until else None,
    )


def authenticate(session: Session, *, username: str, password: str) -> Account:
    """The account whose password this is: the first step of signing in.

    Refused alike (``SignInFailed``) for a wrong password, an unknown username, an inactive or a
    locked account. A wrong password counts towards the lock; the count is cleared only by a
    finished sign-in, so a second factor still to come cannot be guessed between right passwords.
    """
    now = clock.utcnow()
    account = repository.account_by_username(session, username)
    if account is not None and _locked(account, now):
        credentials.password_matches(None, password)  # the same work as any other attempt
        _audit(session, None, "sign_in_refused", account, reason="locked")
        raise SignInFailed(WRONG_CREDENTIALS)
    matches = credentials.password_matches(account.password_hash if account else None, password)
    if account is None:
        audit.record(
            session,
            actor=None,
            action="identity.sign_in_failed",
            target_type="username",
            target_id=username[:80],
            details={"factor": "pwd", "reason": "unknown_username"},
        )
        raise SignInFailed(WRONG_CREDENTIALS)
    if not matches:
        _failed(session, account, now, "pwd")
        raise SignInFailed(WRONG_CREDENTIALS)
    if not account.active:
        _audit(session, None, "sign_in_refused", account, reason="inactive")
        raise SignInFailed(WRONG_CREDENTIALS)
    if credentials.needs_rehash(account.password_hash):
        account.password_hash = credentials.hash_password(password)
    return account


def check_totp(session: Session, account: Account, code: str) -> None:
    """The second step: the code the account's authenticator shows now, good once.

    A wrong code counts towards the lock like a wrong password.
    """
    now = clock.utcnow()
    if _locked(account, now) or not account.active:
        raise SignInFailed(WRONG_CREDENTIALS)
    if not account.totp_enabled or account.totp_secret is None:
        raise SignInFailed("Your sign-in has expired; please sign in again.")
    step = credentials.accepted_totp_step(
        account.totp_secret, code, last_step=account.totp_last_step, at=now
    )
    if step is None or not repository.claim_totp_step(session, account, step):
        _failed(session, account, now, "otp")
        raise TotpInvalid(
            "The code is wrong or was used already; enter the code your authenticator app "
            "shows now.",
            field="totp",
        )


def sign_in(session: Session, *, username: str, password: str, totp: str | None = None) -> str:
    """Sign in with everything at once (the JSON API): password, and the authenticator code where
    the account has one. Returns the session token."""
    account = authenticate(session, username=username, password=password)
    if account.needs_second_factor and not account.totp_enabled:
        raise TotpEnrolmentRequired(
            "Officials and administrators need an authenticator app: sign in on the portal "
            "once to set one up."
        )
    if not account.totp_enabled:
        return open_session(session, account)
    if not totp:
        raise TotpRequired(
            "Enter the code from your authenticator app as well (the totp field).", field="totp"
        )
    check_totp(session, account, totp)
    return open_session(session, account, amr=AMR_TWO_FACTOR)


def start_sign_in(session: Session, account: Account) -> tuple[str, str | None]:
    """After the password on the pages: a finished session, or one waiting for the second step.

    Returns the token and what is pending: None, ``"otp"`` (enter the authenticator code) or
    ``"enrol"`` (an official without an authenticator sets one up first).
    """
    if account.totp_enabled:
        pending: str | None = PENDING_OTP
    elif account.needs_second_factor:
        pending = PENDING_ENROL
    else:
        pending = None
    return open_session(session, account, pending=pending), pending


# --- sessions --------------------------------------------------------------------------------


def open_session(
    session: Session,
    account: Account,
    *,
    amr: Sequence[str] = AMR_PASSWORD,
    pending: str | None = None,
) -> str:
    """Start a sign-in session; returns the bearer token (shown once, stored hashed).

    A pending session (``pending`` set) authorises nothing and lasts only minutes: it carries a
    person whose password was right to the second step.
    """
    token = secrets.token_urlsafe(32)
    now = clock.utcnow()
    settings = get_settings()
    repository.delete_expired_sessions_of(session, account.id, now)
    lifetime = (
        timedelta(minutes=settings.sign_in_step_minutes)
        if pending
        else timedelta(hours=settings.session_hours)
    )
    row = WebSession(
        token_hash=repository.token_hash(token),
        account_id=account.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        acr="" if pending else credentials.acr_for(amr),
        amr=list(amr),
        pending=pending,
    )
    session.add(row)
    if pending:
        _audit(session, account, "password_accepted", account, next=pending)
    else:
        _signed_in(session, account, row)
    session.flush()
    return token


def _signed_in(session: Session, account: Account, row: WebSession) -> None:
    account.failed_logins = 0
    account.locked_until = None
    _audit(session, account, "signed_in", account, acr=row.acr, amr=list(row.amr))


def pending_sign_in(session: Session, token: str) -> tuple[WebSession, Account] | None:
    """The unfinished sign-in behind a token (password checked, second step to come)."""
    row = repository.web_session_by_token(session, token)
    if row is None or row.pending is None or row.expires_at <= clock.utcnow():
        return None
    account = session.get(Account, row.account_id)
    if account is None or not account.active:
        return None
    return row, account


def finish_sign_in(session: Session, token: str, *, amr: Sequence[str] = AMR_TWO_FACTOR) -> str:
    """Turn a pending session into a signed-in one, under a new token (the one that carried the
    unfinished sign-in is void: nobody who saw it can ride on the finished session)."""
    found = pending_sign_in(session, token)
    if found is None:
        raise SignInFailed("Your sign-in has expired; please sign in again.")
    row, account = found
    if account.needs_second_factor and "otp" not in amr:
        raise TotpEnrolmentRequired("Set up your authenticator app to finish signing in.")
    new_token = secrets.token_urlsafe(32)
    now = clock.utcnow()
    row.token_hash = repository.token_hash(new_token)
    row.pending = None
    row.created_at = row.last_seen_at = now
    row.expires_at = now + timedelta(hours=get_settings().session_hours)
    row.amr = list(amr)
    row.acr = credentials.acr_for(amr)
    _signed_in(session, account, row)
    return new_token


def session_for_token(session: Session, token: str) -> tuple[WebSession, Account] | None:
    """The live sign-in session behind a cookie or bearer token, with its account.

    None if unknown, unfinished, past its absolute end, idle too long, of an inactive account, or
    an official's without the second factor. Marks the session used (at most once a minute) and
    drops an acting-for whose authorisation has ended.
    """
    row = repository.web_session_by_token(session, token)
    now = clock.utcnow()
    if row is None or not is_live(row, now):
        return None
    settings = get_settings()
    last_seen = row.last_seen_at or row.created_at
    account = session.get(Account, row.account_id)
    if account is None or not account.active:
        return None
    if account.needs_second_factor and "otp" not in row.amr:
        return None
    if now - last_seen >= timedelta(seconds=settings.session_touch_seconds):
        row.last_seen_at = now
    if row.acting_for_id is not None:
        authorisation = repository.authorisation(session, row.acting_for_id, account.id)
        if authorisation is None or not policy.is_live(authorisation, now):
            row.acting_for_id = None
    return row, account


def account_for_token(session: Session, token: str) -> Account | None:
    found = session_for_token(session, token)
    return found[1] if found else None


def close_session(session: Session, token: str) -> None:
    """Sign out: the token's session ends at once, finished or not."""
    row = repository.web_session_by_token(session, token)
    if row is None:
        return
    account = session.get(Account, row.account_id)
    session.delete(row)
    if account is not None and row.pending is None:
        _audit(session, account, "signed_out", account, session_id=row.id)


def is_live(row: WebSession, now: datetime) -> bool:
    """Signed in and still good: sign-in finished (no second factor pending), not past its
    absolute end, not idle too long. The one rule for cookies, bearer tokens and OIDC tokens."""
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    return (
        row.pending is None
        and row.expires_at > now
        and now - (row.last_seen_at or row.created_at) < idle
    )


def list_sessions(session: Session, subject: Account | None) -> list[WebSession]:
    """The subject's live sessions (this browser, other browsers, API clients), newest first."""
    account = policy.require_manage_own_sessions(subject)
    now = clock.utcnow()
    return [r for r in repository.live_sessions_of(session, account.id, now) if is_live(r, now)]


def revoke_session(session: Session, subject: Account | None, session_id: int) -> None:
    """End one of the subject's own sessions, e.g. on a computer left signed in."""
    account = policy.require_manage_own_sessions(subject)
    row = session.get(WebSession, session_id)
    if row is None or row.account_id != account.id:
        raise SessionNotFound("You have no session {id}.", id=session_id)
    session.delete(row)
    _audit(session, account, "session_revoked", account, session_id=session_id)


def sign_out_everywhere(session: Session, subject: Account | None) -> int:
    """End every session of the subject, this one included; returns how many ended."""
    account = policy.require_manage_own_sessions(subject)
    count = repository.delete_sessions_of(session, account.id)
    _audit(session, account, "signed_out_everywhere", account, sessions=count)
    return count


# --- the authenticator (TOTP) ----------------------------------------------------------------


@dataclass(frozen=True)
class TotpEnrolment:
    """What the person needs to add the account to an authenticator app."""

    secret: str
    uri: str
    qr: str  # an SVG data URI

    @property
    def spaced_secret(self) -> str:
        return credentials.spaced(self.secret)


def _enrolment(account: Account) -> TotpEnrolment:
    assert account.totp_secret is not None
    uri = credentials.provisioning_uri(account.totp_secret, account.username)
    return TotpEnrolment(account.totp_secret, uri, credentials.qr_data_uri(uri))


def begin_totp_enrolment(session: Session, subject: Account | None) -> TotpEnrolment:
    """A secret to scan into an authenticator app; on only once a code from it is confirmed.

    Asking again before confirming shows the same secret (a reload keeps the QR code scanned).
    """
    account = policy.require_manage_own_credentials(subject)
    if account.totp_enabled:
        raise TotpAlreadyEnabled("Two-step sign-in is on already.")
    if not account.totp_secret:
        account.totp_secret = credentials.new_totp_secret()
        account.totp_last_step = None
        _audit(session, account, "totp_enrolment_started", account)
    return _enrolment(account)


def confirm_totp(session: Session, subject: Account | None, code: str) -> None:
    """Turn two-step sign-in on with the first code the app shows: proof it was set up."""
    account = policy.require_manage_own_credentials(subject)
    if account.totp_enabled:
        raise TotpAlreadyEnabled("Two-step sign-in is on already.")
    if not account.totp_secret:
        raise Conflict("Start setting up the authenticator app first.")
    step = credentials.accepted_totp_step(account.totp_secret, code, last_step=None)
    if step is None:
        raise TotpInvalid(
            "The code does not match; check the app shows tongban and enter its current code.",
            field="code",
        )
    account.totp_enabled = True
    account.totp_last_step = step
    _audit(session, account, "totp_enabled", account)


def disable_totp(session: Session, subject: Account | None, code: str) -> None:
    """A citizen turns two-step sign-in off, confirming with a current code."""
    account = policy.require_disable_totp(subject)
    if not account.totp_enabled or not account.totp_secret:
        return
    step = credentials.accepted_totp_step(
        account.totp_secret, code, last_step=account.totp_last_step
    )
    if step is None:
        raise TotpInvalid(
            "The code is wrong or was used already; enter the code your authenticator app "
            "shows now.",
            field="code",
        )
    account.totp_enabled = False
    account.totp_secret = None
    account.totp_last_step = None
    _audit(session, account, "totp_disabled", account)


@dataclass(frozen=True)
class OperatorTotp:
    account: Account
    secret: str
    enrolled_now: bool
    sessions_ended: int


def operator_totp(
    session: Session, subject: Account | None, *, username: str, reset: bool = False
) -> OperatorTotp:
    """The operator sets up someone's authenticator (a new official; a lost phone with
    ``reset``, which also ends their sessions) or looks up the secret to show the current code."""
    policy.require_operate_totp(subject)
    account = _account(session, username)
    enrolled_now, ended = False, 0
    if reset or not account.totp_enabled or not account.totp_secret:
        account.totp_secret = credentials.new_totp_secret()
        account.totp_enabled = True
        account.totp_last_step = None
        enrolled_now = True
        if reset:
            ended = repository.delete_sessions_of(session, account.id)
        _audit(session, subject, "totp_set_by_operator", account, reset=reset, sessions=ended)
    assert account.totp_secret is not None
    return OperatorTotp(account, account.totp_secret, enrolled_now, ended)


# --- accounts --------------------------------------------------------------------------------


def _clean_roles(kind: AccountKind, roles: Sequence[str]) -> list[str]:
    choices: list[str] = {
        AccountKind.OFFICIAL: [r.value for r in OfficialRole],
        AccountKind.ADMIN: [r.value for r in AdminRole],
    }.get(kind, [])
    if roles and not choices:
        raise InvalidInput("Only officials and administrators have roles.", field="roles")
    for role in roles:
        if role not in choices:
            raise InvalidInput(
                "There is no role {role}; the roles are {known}.",
                field="roles",
                role=role,
                known=", ".join(choices),
            )
    return [r for r in choices if r in roles]


def create_account(
    session: Session,
    subject: Account | None,
    *,
    username: str,
    password: str,
    display_name: str,
    kind: AccountKind,
    department_id: int | None = None,
    id_number: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    roles: Sequence[str] = (),
    totp_secret: str | None = None,
) -> Account:
    """Create an account. ``subject`` None means the operator at the command line.

    ``totp_secret`` enrols an authenticator at once (the demo's officials; an operator's import).
    """
    policy.require_create_account(subject)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "The password must have at least {n} characters.",
            field="password",
            n=MIN_PASSWORD_LENGTH,
        )
    if kind is AccountKind.OFFICIAL and department_id is None:
        raise InvalidInput("An official must belong to a department.", field="department")
    cleaned_roles = _clean_roles(kind, roles)
    if totp_secret is not None and not credentials.valid_totp_secret(totp_secret):
        raise InvalidInput(
            "An authenticator secret has 16 to 64 base32 characters (A-Z, 2-7).",
            field="totp_secret",
        )
    if repository.username_taken(session, username):
        raise Conflict("The username {username} is taken.", field="username", username=username)
    account = Account(
        username=username,
        display_name=display_name,
        kind=kind,
        password_hash=credentials.hash_password(password),
        department_id=department_id if kind is AccountKind.OFFICIAL else None,
        id_number=id_number,
        phone=phone,
        email=email,
        roles=cleaned_roles,
        totp_secret=totp_secret,
        totp_enabled=totp_secret is not None,
    )
    session.add(account)
    session.flush()
    details: dict[str, object] = {"username": username, "kind": kind.value}
    if cleaned_roles:
        details["roles"] = cleaned_roles
    _audit(session, subject, "account_created", account, **details)
    return account


_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")


def register_applicant(
    session: Session,
    subject: Account | None,
    *,
    username: str,
    password: str,
    display_name: str,
    id_number: str,
    phone: str | None = None,
) -> Account:
    """A citizen opens their own applicant account, identified by their resident ID number."""
    policy.require_register(subject)
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise InvalidInput(
            "A username has 3 to 32 lower-case letters, digits, dots, dashes or underscores.",
            field="username",
        )
    display_name = display_name.strip()
    if not 1 <= len(display_name) <= 50:
        raise InvalidInput("Please give your name (at most 50 characters).", field="display_name")
    id_number = id_number.strip().upper()
    problem = resident_id_problem(id_number)
    if problem:
        raise InvalidInput(problem, field="id_number")
    existing = repository.account_by_id_number(session, id_number)
    if existing is not None and walk_ins.is_unclaimed(existing):
        raise Conflict(
            "An account was opened for you at a service counter: claim it with a code sent to "
            "your phone.",
            field="id_number",
        )
    if existing is not None:
        raise Conflict(
            "An account with this ID number exists already; please sign in.", field="id_number"
        )
    return create_account(
        session,
        None,
        username=username,
        password=password,
        display_name=display_name,
        kind=AccountKind.APPLICANT,
        id_number=id_number,
        phone=phone or None,
    )


def person_for_resident(
    session: Session,
    subject: Account | None,
    *,
    id_number: str,
    name: str,
    phone: str | None = None,
) -> Account:
    """The applicant keyed by a resident ID number, made (with no usable password) if there is
    none yet: a person another federation node knows is the same person here."""
    policy.require_create_account(subject)
    id_number = id_number.strip().upper()
    problem = resident_id_problem(id_number)
    if problem:
        raise InvalidInput(problem, field="id_number")
    account = repository.account_by_id_number(session, id_number)
    if account is not None:
        if account.kind is not AccountKind.APPLICANT:
            raise Conflict("This ID number belongs to an account that cannot apply.")
        return account
    return create_account(
        session,
        subject,
        # Not a name anyone picks: the account is claimed like one opened at the counter.
        username=walk_ins.unclaimed_username(id_number),
        password=secrets.token_urlsafe(32),
        display_name=name.strip()[:50] or id_number[-4:],
        kind=AccountKind.APPLICANT,
        id_number=id_number,
        phone=phone or None,
    )


def get_by_username(session: Session, username: str) -> Account | None:
    return repository.account_by_username(session, username)


def department_officials(
    session: Session, subject: Account | None, department_id: int, *, role: str | None = None
) -> list[Account]:
    """A department's officials (with ``role``, only those who have it)."""
    policy.require_list_officials(subject)
    found = repository.officials_of(session, department_id)
    return [a for a in found if role is None or role in (a.roles or [])]


def find_applicant(session: Session, subject: Account | None, id_number: str) -> Account:
    """The applicant with this resident ID number (a walk-in at the single window). Every
    lookup is audited with the number's last four characters only."""
    policy.require_look_up_person(subject)
    cleaned = id_number.strip().upper()
    problem = resident_id_problem(cleaned)
    if problem is not None:
        raise InvalidInput(problem, field="id_number")
    account = repository.applicant_by_id_number(session, cleaned)
    audit.record(
        session,
        actor=subject,
        action="identity.person_looked_up",
        target_type="id_number",
        target_id=f"***{cleaned[-4:]}",
        details={"found": account is not None},
    )
    if account is None or not account.active:
        raise AccountNotFound(
            "Nobody with this ID number has an account yet; they can register online or at "
            "the self-service terminal.",
            field="id_number",
        )
    return account
