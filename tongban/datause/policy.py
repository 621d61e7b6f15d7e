"""Who sees which uses of data: a person their own (and, acting for a company, the company's);
the data protection officer every objection."""

from __future__ import annotations

from tongban.errors import Forbidden, Unauthenticated
from tongban.identity.models import Account, AccountKind, OfficialRole
from tongban.identity.principals import Principal


def _signed_in(subject: Principal) -> Account:
    if not isinstance(subject, Account):
        raise Unauthenticated("Please sign in first.")
    return subject


def require_see_own(subject: Principal) -> Account:
    person = _signed_in(subject)
    if person.kind is not AccountKind.APPLICANT:
        raise Forbidden("Only citizens and companies have their own data-use record.")
    return person


def is_dpo(subject: Account) -> bool:
    return subject.kind is AccountKind.OFFICIAL and OfficialRole.DPO.value in subject.roles


def require_dpo(subject: Principal) -> Account:
    officer = _signed_in(subject)
    if not is_dpo(officer):
        raise Forbidden("Only the data protection officer handles objections.")
    return officer
