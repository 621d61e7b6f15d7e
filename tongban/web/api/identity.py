"""Sign-in for API clients (the local login; unified identity will replace it)."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from tongban.identity import service as identity_service
from tongban.identity.models import AccountKind
from tongban.web.deps import ApiSubject, SessionDep, public

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


@router.get("/api/v1/me", response_model=AccountRead)
def me(subject: ApiSubject) -> object:
    return subject
