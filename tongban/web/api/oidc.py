"""Registering relying parties (department systems and others) with the sign-on provider."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from tongban.identity.oidc import service as oidc_service
from tongban.identity.oidc.models import OAuthClient
from tongban.web.deps import ApiSubject, SessionDep

router = APIRouter(prefix="/api/v1/oidc", tags=["sign-on clients"])


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    redirect_uris: list[str] = Field(min_length=1, max_length=20)
    post_logout_redirect_uris: list[str] = Field(default_factory=list, max_length=20)
    public: bool = Field(
        default=False, description="A browser or mobile app without a secret; must use PKCE"
    )
    scopes: list[str] = Field(
        default_factory=lambda: ["openid", "profile"],
        description="Every scope the client may ask for; openid is always included",
    )
    department: str | None = Field(
        default=None, description="Code of the department whose system this is (first party)"
    )


class ClientRead(BaseModel):
    client_id: str
    name: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    scopes: list[str]
    department_id: int | None
    active: bool
    created_at: datetime
    public: bool


class ClientRegistered(ClientRead):
    client_secret: str | None = Field(
        description="Shown this once and stored only as a hash; null for a public client"
    )


def _read(client: OAuthClient) -> ClientRead:
    return ClientRead(
        client_id=client.client_id,
        name=client.name,
        redirect_uris=list(client.redirect_uris),
        post_logout_redirect_uris=list(client.post_logout_redirect_uris),
        scopes=list(client.scopes),
        department_id=client.department_id,
        active=client.active,
        created_at=client.created_at,
        public=client.secret_hash is None,
    )


@router.post(
    "/clients",
    response_model=ClientRegistered,
    status_code=status.HTTP_201_CREATED,
    responses={403: {"description": "Not an administrator"}, 422: {"description": "Bad input"}},
)
def register_client(body: ClientCreate, session: SessionDep, subject: ApiSubject) -> object:
    registration = oidc_service.register_client(
        session,
        subject,
        name=body.name,
        redirect_uris=body.redirect_uris,
        post_logout_redirect_uris=body.post_logout_redirect_uris,
        public=body.public,
        scopes=body.scopes,
        department_code=body.department,
    )
    return ClientRegistered(
        **_read(registration.client).model_dump(), client_secret=registration.secret
    )


@router.get("/clients", response_model=list[ClientRead])
def list_clients(session: SessionDep, subject: ApiSubject) -> object:
    return [_read(client) for client in oidc_service.list_clients(session, subject)]


@router.post("/clients/{client_id}/deactivate", response_model=ClientRead)
def deactivate_client(client_id: str, session: SessionDep, subject: ApiSubject) -> object:
    return _read(oidc_service.deactivate_client(session, subject, client_id))
