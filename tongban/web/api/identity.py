"""Identity over the JSON API: sign-in (password and authenticator code), one's account and
sessions, the authenticator, legal persons and acting for them."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from tongban.db.types import RowId
from tongban.identity import registration
from tongban.identity import service as identity_service
from tongban.identity.companies import service as companies_service
from tongban.identity.models import AccountKind, AgentRole
from tongban.kit import ratelimit
from tongban.kit.i18n import translate
from tongban.security.principals import ANONYMOUS
from tongban.web.deps import (
    ApiOptionalSubject,
    ApiSubject,
    ApiWebSession,
    SessionDep,
    locale,
    public,
)
from tongban.web.ratelimit import limited

router = APIRouter(tags=["identity"])


def _error(code: int, text: str) -> dict[int | str, dict[str, str]]:
    return {code: {"description": text}}


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    totp: str | None = Field(
        default=None,
        max_length=10,
        description="The current code of the authenticator app, for accounts that have one "
        "(officials and administrators always do).",
    )


class SessionToken(BaseModel):
    token: str
    token_type: str = "bearer"
    acr: str = Field(description="Assurance level: tongban:loa:1 password, tongban:loa:2 with TOTP")
    amr: list[str] = Field(description="Authentication methods (RFC 8176): pwd, otp")
    expires_at: datetime


@router.post(
    public("/api/v1/session"),
    response_model=SessionToken,
    status_code=status.HTTP_201_CREATED,
    responses={
        **_error(
            401,
            "Wrong username or password, or a locked account (code unauthenticated); "
            "the authenticator code is missing (totp_required) or wrong (totp_invalid)",
        ),
        **_error(403, "An official without an authenticator (totp_enrolment_required)"),
        **_error(429, "Too many sign-ins from this address or for this account (rate_limited)"),
        **_error(503, "Password checking is busy: try again after Retry-After (overloaded)"),
    },
    dependencies=[limited("sign_in_address")],
)
def sign_in(body: Credentials, session: SessionDep) -> SessionToken:
    ratelimit.hit("sign_in_account", body.username.strip().lower())
    token = identity_service.sign_in(
        session, username=body.username, password=body.password, totp=body.totp
    )
    found = identity_service.session_for_token(session, token)
    assert found is not None
    row = found[0]
    return SessionToken(token=token, acr=row.acr, amr=list(row.amr), expires_at=row.expires_at)


@router.delete("/api/v1/session", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(subject: ApiSubject, session: SessionDep, web_session: ApiWebSession) -> Response:
    """End the session of this token."""
    identity_service.revoke_session(session, subject, web_session.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class Registration(BaseModel):
    display_name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=1, max_length=18, description="Resident ID number")
    phone: str = Field(min_length=1, max_length=20, description="Mobile phone: the code goes there")


class RegistrationSent(BaseModel):
    message: str


class RegistrationFinish(BaseModel):
    id_number: str = Field(min_length=1, max_length=18)
    code: str = Field(min_length=1, max_length=12, description="The code from the SMS")
    username: str = Field(min_length=3, max_length=32)
    password: str = Field(min_length=1, max_length=200)


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str
    kind: AccountKind


@router.post(
    public("/api/v1/accounts"),
    response_model=RegistrationSent,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        422: {"description": "Invalid input; the body names the field"},
        429: {"description": "Too many registrations from this address (rate_limited)"},
    },
    dependencies=[limited("register_address")],
)
def register(
    body: Registration, request: Request, session: SessionDep, subject: ApiOptionalSubject
) -> RegistrationSent:
    """Start opening an applicant account (citizens; officials are created by an
    administrator). The answer is the same whether or not the ID number has an account: a code
    goes to the phone given if an account can be opened; the holder of an existing account is
    told through their own channel. Finish with POST /api/v1/accounts/confirm."""
    registration.request(session, subject or ANONYMOUS, **body.model_dump())
    return RegistrationSent(message=translate(registration.SENT, locale(request)))


@router.post(
    public("/api/v1/accounts/confirm"),
    response_model=AccountRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        401: {"description": "The code is wrong or has expired"},
        409: {"description": "Username taken"},
        422: {"description": "Invalid input; the body names the field"},
        429: {"description": "Too many codes tried from this address (rate_limited)"},
    },
    dependencies=[limited("claim_address")],
)
def confirm_registration(
    body: RegistrationFinish, session: SessionDep, subject: ApiOptionalSubject
) -> object:
    """Open the account with the code sent to the phone, choosing a username and password (an
    account opened at a service counter is claimed the same way)."""
    return registration.finish(session, subject or ANONYMOUS, **body.model_dump())


class LegalPersonRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    uscc: str
    name: str


class MeRead(AccountRead):
    roles: list[str]
    totp_enabled: bool
    acr: str
    amr: list[str]
    acting_for: LegalPersonRead | None


@router.get("/api/v1/me", response_model=MeRead)
def me(subject: ApiSubject, session: SessionDep, web_session: ApiWebSession) -> MeRead:
    acting_for = companies_service.acting_for(session, subject, web_session=web_session)
    return MeRead(
        username=subject.username,
        display_name=subject.display_name,
        kind=subject.kind,
        roles=list(subject.roles),
        totp_enabled=subject.totp_enabled,
        acr=web_session.acr,
        amr=list(web_session.amr),
        acting_for=LegalPersonRead.model_validate(acting_for) if acting_for else None,
    )


# --- sessions --------------------------------------------------------------------------------


class SessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    last_seen_at: datetime | None
    expires_at: datetime
    acr: str
    amr: list[str]
    current: bool = False


@router.get("/api/v1/sessions", response_model=list[SessionRead])
def list_sessions(
    subject: ApiSubject, session: SessionDep, web_session: ApiWebSession
) -> list[SessionRead]:
    """Your live sessions: this one, other browsers and API clients."""
    return [
        SessionRead.model_validate(row).model_copy(update={"current": row.id == web_session.id})
        for row in identity_service.list_sessions(session, subject)
    ]


@router.delete(
    "/api/v1/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_error(404, "No such session of yours"),
)
def revoke_session(session_id: RowId, subject: ApiSubject, session: SessionDep) -> Response:
    identity_service.revoke_session(session, subject, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class Ended(BaseModel):
    ended: int


@router.delete("/api/v1/sessions", response_model=Ended)
def sign_out_everywhere(subject: ApiSubject, session: SessionDep) -> Ended:
    """End every session of yours, this one included."""
    return Ended(ended=identity_service.sign_out_everywhere(session, subject))


# --- the authenticator -----------------------------------------------------------------------


class TotpEnrolmentRead(BaseModel):
    secret: str
    uri: str = Field(description="otpauth:// address, the content of the QR code")
    qr: str = Field(description="the QR code as an SVG data URI")


class TotpCode(BaseModel):
    code: str = Field(min_length=1, max_length=10)


@router.post("/api/v1/me/totp", response_model=TotpEnrolmentRead)
def begin_totp(subject: ApiSubject, session: SessionDep) -> TotpEnrolmentRead:
    """Start setting up two-step sign-in: add the secret to an authenticator app, then confirm."""
    enrolment = identity_service.begin_totp_enrolment(session, subject)
    return TotpEnrolmentRead(secret=enrolment.secret, uri=enrolment.uri, qr=enrolment.qr)


@router.post(
    "/api/v1/me/totp/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_error(401, "The code does not match (totp_invalid)"),
)
def confirm_totp(body: TotpCode, subject: ApiSubject, session: SessionDep) -> Response:
    identity_service.confirm_totp(session, subject, body.code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/api/v1/me/totp/disable",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_error(403, "Officials and administrators must keep it"),
)
def disable_totp(body: TotpCode, subject: ApiSubject, session: SessionDep) -> Response:
    identity_service.disable_totp(session, subject, body.code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- legal persons ---------------------------------------------------------------------------


class LegalPersonCreate(BaseModel):
    uscc: str = Field(min_length=1, max_length=30, description="Unified social credit code")
    name: str = Field(min_length=1, max_length=200)
    representative: str = Field(description="Username of the legal representative (a citizen)")


@router.post(
    "/api/v1/legal-persons",
    response_model=LegalPersonRead,
    status_code=status.HTTP_201_CREATED,
    responses={**_error(403, "Administrators only"), **_error(409, "Registered already")},
)
def register_legal_person(
    body: LegalPersonCreate, subject: ApiSubject, session: SessionDep
) -> object:
    return companies_service.register_legal_person(session, subject, **body.model_dump())


class AuthorisationRead(BaseModel):
    uscc: str
    name: str
    role: AgentRole
    expires_at: datetime | None


@router.get("/api/v1/me/legal-persons", response_model=list[AuthorisationRead])
def my_legal_persons(subject: ApiSubject, session: SessionDep) -> list[AuthorisationRead]:
    """The legal persons you may act for now."""
    return [
        AuthorisationRead(
            uscc=a.legal_person.uscc, name=a.legal_person.name, role=a.role, expires_at=a.expires_at
        )
        for a in companies_service.my_authorisations(session, subject)
    ]


class ActingForChange(BaseModel):
    uscc: str | None = Field(
        description="The legal person to act for, or null to act only for yourself again"
    )


class ActingForRead(BaseModel):
    acting_for: LegalPersonRead | None


@router.put(
    "/api/v1/session/acting-for",
    response_model=ActingForRead,
    responses=_error(403, "Not authorised for that legal person (not_authorised_for)"),
)
def switch_acting_for(
    body: ActingForChange, subject: ApiSubject, session: SessionDep, web_session: ApiWebSession
) -> ActingForRead:
    """Act for a legal person in this session from now on (or stop)."""
    target = companies_service.switch_acting_for(
        session, subject, web_session=web_session, uscc=body.uscc
    )
    return ActingForRead(acting_for=LegalPersonRead.model_validate(target) if target else None)


class AgentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str
    role: AgentRole
    granted_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    live: bool


class AgentGrant(BaseModel):
    until: date | None = Field(default=None, description="Last day of the authorisation")


@router.get(
    "/api/v1/legal-persons/{uscc}/agents",
    response_model=list[AgentRead],
    responses=_error(403, "For the legal representative and administrators"),
)
def list_agents(uscc: str, subject: ApiSubject, session: SessionDep) -> object:
    return companies_service.agents(session, subject, uscc=uscc)


@router.put(
    "/api/v1/legal-persons/{uscc}/agents/{username}",
    response_model=AgentRead,
    responses=_error(403, "For the legal representative only"),
)
def grant_agent(
    uscc: str, username: str, body: AgentGrant, subject: ApiSubject, session: SessionDep
) -> object:
    """Authorise a citizen to act for the legal person (again), optionally until a day."""
    return companies_service.grant_agent(
        session, subject, uscc=uscc, username=username, until=body.until
    )


@router.delete(
    "/api/v1/legal-persons/{uscc}/agents/{username}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_error(403, "For the legal representative only"),
)
def revoke_agent(uscc: str, username: str, subject: ApiSubject, session: SessionDep) -> Response:
    companies_service.revoke_agent(session, subject, uscc=uscc, username=username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
