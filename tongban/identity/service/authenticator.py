"""The authenticator (TOTP) second factor: a person sets up an app (a secret to scan, switched
on by the first code it shows), a citizen switches it off with a current code, and the operator
sets one up for someone (a new official; a lost phone, which also ends their sessions)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tongban.errors import Conflict
from tongban.identity import credentials, policy, repository
from tongban.identity.errors import AccountNotFound, TotpAlreadyEnabled, TotpInvalid
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.identity.service._common import _audit


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


def begin_totp_enrolment(session: Session, subject: Principal) -> TotpEnrolment:
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


def confirm_totp(session: Session, subject: Principal, code: str) -> None:
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


def disable_totp(session: Session, subject: Principal, code: str) -> None:
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


def _account(session: Session, username: str) -> Account:
    account = repository.account_by_username(session, username.strip())
    if account is None:
        raise AccountNotFound("There is no account {username}.", username=username)
    return account


@dataclass(frozen=True)
class OperatorTotp:
    account: Account
    secret: str
    enrolled_now: bool
    sessions_ended: int


def operator_totp(
    session: Session, subject: Principal, *, username: str, reset: bool = False
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
