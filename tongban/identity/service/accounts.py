"""Accounts: the operator's and the demo's accounts with their roles, the applicant another
federation node vouches for (a citizen registers through ``identity.registration``), and the
lookups other domains make (by username, a department's officials, a walk-in applicant by ID
number, audited)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.errors import Conflict, InvalidInput
from tongban.identity import credentials, policy, repository, walk_ins
from tongban.identity.errors import AccountNotFound
from tongban.identity.models import Account, AccountKind, AdminRole, OfficialRole
from tongban.identity.numbers import resident_id_problem
from tongban.identity.principals import Principal
from tongban.identity.service._common import _audit

MIN_PASSWORD_LENGTH = credentials.MIN_PASSWORD_LENGTH


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
    subject: Principal,
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


def person_for_resident(
    session: Session,
    subject: Principal,
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
    session: Session, subject: Principal, department_id: int, *, role: str | None = None
) -> list[Account]:
    """A department's officials (with ``role``, only those who have it)."""
    policy.require_list_officials(subject)
    found = repository.officials_of(session, department_id)
    return [a for a in found if role is None or role in (a.roles or [])]


def find_applicant(session: Session, subject: Principal, id_number: str) -> Account:
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
