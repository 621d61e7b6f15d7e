"""What the provider says about a person, and which scope releases which claim.

Every client gets the person's pairwise ``sub``, their subject type and how they signed in
(``acr``, ``amr``, ``auth_time``); officials also carry their department and roles, because those
are the authority they act with, not personal data. Personal claims (name, e-mail, phone,
resident ID number) are released only by their scope, only to a client an administrator allowed
that scope, and only from the userinfo endpoint: id_tokens travel through browsers (as
``id_token_hint`` in logout URLs) and so carry nothing personal.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tongban.catalog import service as catalog_service
from tongban.identity import policy as identity_policy
from tongban.identity import repository as identity_repository
from tongban.identity.models import Account, AccountKind, LegalPerson, WebSession
from tongban.identity.oidc import repository
from tongban.identity.oidc.models import PairwiseSubject
from tongban.kit.clock import utcnow
from tongban.kit.i18n import N_
from tongban.security.principals import Internal


@dataclass(frozen=True)
class Scope:
    name: str
    # Shown on the consent page: what the person is agreeing to release.
    description: str
    claims: tuple[str, ...]
    personal: bool


SCOPES: dict[str, Scope] = {
    scope.name: scope
    for scope in (
        Scope(
            "openid",
            N_("That you are signed in, how you signed in, and your role if you are an official"),
            ("sub", "subject_type", "acr", "amr", "auth_time", "department", "roles"),
            personal=False,
        ),
        Scope("profile", N_("Your name"), ("name",), personal=True),
        Scope("email", N_("Your e-mail address"), ("email", "email_verified"), personal=True),
        Scope("phone", N_("Your mobile phone number"), ("phone_number",), personal=True),
        Scope("id_number", N_("Your resident ID number"), ("id_number",), personal=True),
    )
}
SUPPORTED_SCOPES = tuple(SCOPES)
CLAIMS_SUPPORTED = tuple(dict.fromkeys(c for s in SCOPES.values() for c in s.claims))
SUBJECT_TYPES = {
    AccountKind.APPLICANT: "person",
    AccountKind.OFFICIAL: "official",
    AccountKind.ADMIN: "admin",
}


def scope_list(scope: str | None) -> list[str]:
    return [s for s in (scope or "").split() if s]


def pairwise_sub(session: Session, account_id: int, client_id: str) -> str:
    """The ``sub`` this client knows the person by, made on the person's first sign-in there."""
    found = repository.pairwise_subject(session, account_id, client_id)
    if found is not None:
        return found.sub
    row = PairwiseSubject(
        account_id=account_id,
        client_id=client_id,
        sub=secrets.token_urlsafe(24),
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # the same person signing in twice at once: the other one won
        found = repository.pairwise_subject(session, account_id, client_id)
        if found is None:
            raise
        return found.sub
    return row.sub


def account_for_sub(session: Session, sub: str, client_id: str) -> int | None:
    found = repository.subject_by_sub(session, sub)
    if found is None or found.client_id != client_id:
        return None
    return found.account_id


def _department_code(session: Session, department_id: int | None) -> str | None:
    if department_id is None:
        return None
    for department in catalog_service.list_departments(
        session, Internal("name an official's department in their claims")
    ):
        if department.id == department_id:
            return department.code
    return None


def _acting_for(
    session: Session, account: Account, web_session: WebSession | None
) -> LegalPerson | None:
    """The legal person the person acts for in this sign-in, while they are still authorised."""
    if web_session is None or web_session.acting_for_id is None:
        return None
    authorisation = identity_repository.authorisation(
        session, web_session.acting_for_id, account.id
    )
    if authorisation is None or not identity_policy.is_live(authorisation, utcnow()):
        return None
    return repository.legal_person(session, web_session.acting_for_id)


def id_token_claims(
    session: Session, account: Account, web_session: WebSession | None, client_id: str
) -> dict[str, Any]:
    """What every client may know: who (pairwise), what kind of subject, with what authority."""
    claims: dict[str, Any] = {
        "sub": pairwise_sub(session, account.id, client_id),
        "subject_type": SUBJECT_TYPES[account.kind],
    }
    if account.kind is AccountKind.OFFICIAL:
        claims["department"] = _department_code(session, account.department_id)
        claims["roles"] = list(account.roles or [])
    company = _acting_for(session, account, web_session)
    if company is not None:
        claims["acting_for"] = {"uscc": company.uscc, "name": company.name}
    return claims


def sign_in_claims(web_session: WebSession) -> dict[str, Any]:
    claims: dict[str, Any] = {"auth_time": int(web_session.created_at.timestamp())}
    if web_session.acr:
        claims["acr"] = web_session.acr
    if web_session.amr:
        claims["amr"] = list(web_session.amr)
    return claims


def userinfo_claims(
    session: Session,
    account: Account,
    web_session: WebSession | None,
    client_id: str,
    scope: str,
) -> dict[str, Any]:
    """The claims for an access token's scope (OIDC Core 5.3)."""
    granted = set(scope_list(scope))
    claims = id_token_claims(session, account, web_session, client_id)
    if web_session is not None:
        claims.update(sign_in_claims(web_session))
    if "profile" in granted:
        claims["name"] = account.display_name
    if "email" in granted and account.email:
        claims["email"] = account.email
        # The address is stored as the person or a clerk typed it; the platform never proves
        # it (no code is ever sent there to confirm), so it cannot say it is verified.
        claims["email_verified"] = False
    if "phone" in granted and account.phone:
        claims["phone_number"] = account.phone
    if "id_number" in granted and account.id_number:
        claims["id_number"] = account.id_number
    return claims


def consent_lines(scope: str) -> list[Scope]:
    """The scopes a consent page lists, in a stable order."""
    granted = set(scope_list(scope))
    return [s for s in SCOPES.values() if s.name in granted]
