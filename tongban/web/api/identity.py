"""Sign-in for API clients (the local login; unified identity will replace it)."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from tongban.identity import service as identity_service
from tongban.identity.models import AccountKind
from tongban.web.deps import ApiOptionalSubject, ApiSubject, SessionDep, public

router = APIRouter(tags=["identity"])


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class SessionToken(BaseModel):
    token: str
    token_type: str = "bearer"


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str
    kind: AccountKind


@router.post(
    public("/api/v1/session"),
    response_model=SessionToken,
    status_code=status.HTTP_201_CREATED,
    responses={401: {"description": "Wrong username or password"}},
)
def sign_in(body: Credentials, session: SessionDep) -> SessionToken:
    account = identity_service.authenticate(session, username=body.username, password=body.password)
    return SessionToken(token=identity_service.open_session(session, account))


class Registration(BaseModel):
    username: str = Field(min_length=3, max_length=32)
    password: str = Field(min_length=1, max_length=200)
    display_name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=1, max_length=18, description="Resident ID number")
    phone: str | None = Field(default=None, max_length=20)


@router.post(
    public("/api/v1/accounts"),
    response_model=AccountRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {"description": "Username or ID number taken"},
        422: {"description": "Invalid input; the body names the field"},
    },
)
def register(body: Registration, session: SessionDep, subject: ApiOptionalSubject) -> object:
    """Open an applicant account (citizens); officials are created by an administrator."""
    return identity_service.register_applicant(session, subject, **body.model_dump())


@router.get("/api/v1/me", response_model=AccountRead)
def me(subject: ApiSubject) -> object:
    return subject
