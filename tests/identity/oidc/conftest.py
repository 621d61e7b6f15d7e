"""A live tongban (the provider) on a real port, registered clients, and the audit log."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from examples.department_app.app import Store
from examples.department_app.app import create_app as create_department_app
from tests.audit.helpers import sequenced
from tests.conftest import PASSWORD
from tests.fixtures.live import free_port, serve
from tests.fixtures.principals import OPERATOR
from tests.identity.oidc.flow import Registered
from tongban.audit.models import AuditEntry, AuditHead
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import Account, AccountKind
from tongban.identity.numbers import resident_id_check_character
from tongban.identity.oidc import service as oidc_service
from tongban.web.app import create_app


@pytest.fixture(scope="session")
def provider(engine: Engine) -> Iterator[str]:
    """The issuer: tongban served over HTTP, knowing the address it is reached at."""
    port = free_port()
    app = create_app(engine, public_url=f"http://127.0.0.1:{port}")
    with serve(app, port=port) as url:
        yield url


def register(
    engine: Engine,
    *,
    public: bool = False,
    scopes: tuple[str, ...] = ("openid", "profile"),
    department: str | None = "SAMR",
    redirect_uri: str | None = None,
    post_logout_uri: str | None = None,
) -> Registered:
    shape = Registered(client_id="", secret=None, scopes=list(scopes))
    redirect_uri = redirect_uri or shape.redirect_uri
    post_logout_uri = post_logout_uri or shape.post_logout_uri
    with unit_of_work(engine) as session:
        registration = oidc_service.register_client(
            session,
            OPERATOR,
            name=f"Test client {uuid.uuid4().hex[:6]}",
            redirect_uris=[redirect_uri],
            post_logout_redirect_uris=[post_logout_uri],
            public=public,
            scopes=scopes,
            department_code=department,
        )
        return Registered(
            client_id=registration.client.client_id,
            secret=registration.secret,
            scopes=list(registration.client.scopes),
            redirect_uri=redirect_uri,
            post_logout_uri=post_logout_uri,
        )


@pytest.fixture
def department_client(engine: Engine) -> Registered:
    """A department's own system (first party), allowed every scope."""
    return register(engine, scopes=("openid", "profile", "phone", "id_number"))


@pytest.fixture
def public_client(engine: Engine) -> Registered:
    """A department's mobile app: no secret, so PKCE is its proof."""
    return register(engine, public=True)


@pytest.fixture
def third_party(engine: Engine) -> Registered:
    """A service outside the government: the person is asked before it gets anything."""
    return register(engine, scopes=("openid", "profile", "phone"), department=None)


def resident_id() -> str:
    born = date(1950, 1, 1) + timedelta(days=random.randrange(18000))
    first17 = f"330102{born:%Y%m%d}{random.randrange(1000):03d}"
    return first17 + resident_id_check_character(first17)


def new_citizen(engine: Engine, *, with_email: bool = True) -> Account:
    with unit_of_work(engine) as session:
        return identity_service.create_account(
            session,
            OPERATOR,
            username=f"oidc_{uuid.uuid4().hex[:10]}",
            password=PASSWORD,
            display_name="王小明",
            kind=AccountKind.APPLICANT,
            id_number=resident_id(),
            phone=f"139{random.randrange(10**8):08d}",
            email=f"{uuid.uuid4().hex[:10]}@example.cn" if with_email else None,
        )


@pytest.fixture
def citizen(engine: Engine) -> Account:
    """A fresh citizen per test, with a phone number, an e-mail address and a resident ID
    number."""
    return new_citizen(engine)


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """A browser's cookie jar; redirects are followed by the tests, step by step."""
    with httpx.Client(follow_redirects=False, timeout=20) as client:
        yield client


class AuditLog:
    """The audit entries written since the test began."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with unit_of_work(engine) as session:
            self.start = sequenced(session).execute(select(AuditHead.seq)).scalar_one()

    def since(self, action: str | None = None) -> list[AuditEntry]:
        with unit_of_work(self.engine) as session:
            stmt = select(AuditEntry).where(AuditEntry.seq > self.start).order_by(AuditEntry.seq)
            if action:
                stmt = stmt.where(AuditEntry.action == action)
            return list(sequenced(session).execute(stmt).scalars())

    def refusals(self, **match: Any) -> list[dict[str, Any]]:
        """Refusals whose details (and target client, as ``client_id``) match."""
        found = []
        for entry in self.since("oidc.refused"):
            seen = {**entry.details, "client_id": entry.target_id}
            if all(seen.get(k) == v for k, v in match.items()):
                found.append(seen)
        return found


@pytest.fixture
def audit_log(engine: Engine) -> AuditLog:
    return AuditLog(engine)


@dataclass
class DepartmentApp:
    url: str
    app: FastAPI
    client: Registered

    @property
    def store(self) -> Store:
        store: Store = self.app.state.store
        return store


@pytest.fixture
def department_app(engine: Engine, provider: str) -> Iterator[DepartmentApp]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    client = register(
        engine,
        scopes=("openid", "profile", "phone"),
        redirect_uri=f"{base}/callback",
        post_logout_uri=f"{base}/signed-out",
    )
    app = create_department_app(
        issuer=provider, client_id=client.client_id, client_secret=client.secret, base_url=base
    )
    with serve(app, port=port) as url:
        yield DepartmentApp(url=url, app=app, client=client)
