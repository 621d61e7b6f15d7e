"""Who may do what with accounts, credentials, sessions and legal persons.

``None`` as subject is the operator at the command line, who holds the database anyway.
"""

from __future__ import annotations

from datetime import datetime

from tongban.errors import Forbidden, Unauthenticated
from tongban.identity.errors import NotAuthorisedFor
from tongban.identity.models import (
    Account,
    AccountKind,
    AgentRole,
    LegalPerson,
    LegalPersonAgent,
)
from tongban.identity.principals import Principal, is_admin, is_trusted


def _signed_in(subject: Principal) -> Account:
    if not isinstance(subject, Account):
        raise Unauthenticated("Please sign in first.")
    return subject


def require_create_account(subject: Principal) -> None:
    if not (is_trusted(subject) or is_admin(subject)):
        raise Forbidden("Only an administrator may create accounts.")


def require_register(subject: Principal) -> None:
    """Anyone not signed in may open an applicant account for themselves."""
    if isinstance(subject, Account):
        raise Forbidden("You are already signed in.")


def require_manage_own_credentials(subject: Principal) -> Account:
    """Setting up one's own authenticator: anyone whose password was checked."""
    return _signed_in(subject)


def require_disable_totp(subject: Principal) -> Account:
    account = _signed_in(subject)
    if account.needs_second_factor:
        raise Forbidden("Officials and administrators must keep two-step sign-in on.")
    return account


def require_operate_totp(subject: Principal) -> None:
    """Setting or showing someone's authenticator secret: the operator at the command line."""
    if not is_trusted(subject):
        raise Forbidden("Only the operator at the command line may set someone's authenticator.")


def require_manage_own_sessions(subject: Principal) -> Account:
    return _signed_in(subject)


def require_register_legal_person(subject: Principal) -> None:
    if not (is_trusted(subject) or is_admin(subject)):
        raise Forbidden("Only an administrator may register a legal person.")


def is_live(authorisation: LegalPersonAgent, now: datetime) -> bool:
    return authorisation.revoked_at is None and (
        authorisation.expires_at is None or authorisation.expires_at > now
    )


def require_manage_agents(
    subject: Principal,
    legal_person: LegalPerson,
    representative: LegalPersonAgent | None,
    now: datetime,
) -> Account | None:
    """Agents are authorised and revoked by the legal person's legal representative."""
    if not isinstance(subject, Account):
        return None
    if (
        representative is None
        or representative.account_id != subject.id
        or representative.role is not AgentRole.LEGAL_REPRESENTATIVE
        or not is_live(representative, now)
    ):
        raise Forbidden(
            "Only the legal representative of {name} may authorise or revoke its agents.",
            name=legal_person.name,
        )
    return subject


def require_view_agents(
    subject: Principal,
    legal_person: LegalPerson,
    representative: LegalPersonAgent | None,
    now: datetime,
) -> None:
    if isinstance(subject, Account) and subject.kind is AccountKind.ADMIN:
        return
    require_manage_agents(subject, legal_person, representative, now)


def require_view_own_authorisations(subject: Principal) -> Account:
    return _signed_in(subject)


def require_act_for(
    subject: Principal,
    legal_person: LegalPerson,
    authorisation: LegalPersonAgent | None,
    now: datetime,
) -> Account:
    """Only a natural person currently authorised for the legal person may act for it."""
    person = _signed_in(subject)
    if (
        person.kind is not AccountKind.APPLICANT
        or authorisation is None
        or authorisation.account_id != person.id
        or not is_live(authorisation, now)
    ):
        raise NotAuthorisedFor(
            "You are not authorised to act for {name}.", field="uscc", name=legal_person.name
        )
    return person


def require_list_officials(subject: Principal) -> None:
    """Who works in a department (to tell them of deadlines): officials, administrators and the
    operator; not applicants."""
    if not is_trusted(subject) and not (
        isinstance(subject, Account) and subject.kind is not AccountKind.APPLICANT
    ):
        raise Forbidden("Only officials and administrators may list a department's officials.")


def require_register_walk_in(subject: Principal) -> Account:
    """Registering a walk-in applicant who has no account: counter clerks, at the window."""
    if not isinstance(subject, Account):
        raise Unauthenticated("Please sign in first.")
    if subject.kind is not AccountKind.OFFICIAL or "counter_clerk" not in (subject.roles or []):
        raise Forbidden("Only a counter clerk may register a walk-in applicant.")
    return subject


def require_look_up_person(subject: Principal) -> Account | None:
    """Finding a person by ID number: counter clerks serving walk-in applicants."""
    if not isinstance(subject, Account):
        return None
    if subject.kind is not AccountKind.OFFICIAL or "counter_clerk" not in (subject.roles or []):
        raise Forbidden("Only a counter clerk may look people up by ID number.")
    return subject
