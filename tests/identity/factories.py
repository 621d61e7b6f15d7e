"""Fresh accounts for identity tests, a clock the tests move, and authenticator codes."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import PASSWORD
from tests.fixtures.principals import OPERATOR
from tongban.catalog import service as catalog_service
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import Account, AccountKind
from tongban.identity.numbers import (
    current_region_codes,
    resident_id_check_character,
    uscc_check_character,
)
from tongban.kit import clock

# Codes in use today: valid whatever the birth date.
REGION_CODES = current_region_codes()
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def unique(prefix: str = "t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def fresh_id_number() -> str:
    born = date(1940, 1, 1) + timedelta(days=random.randrange(25000))
    first17 = f"{random.choice(REGION_CODES)}{born:%Y%m%d}{random.randrange(1000):03d}"
    return first17 + resident_id_check_character(first17)


def fresh_uscc() -> str:
    organisation = "".join(random.choice(USCC_ALPHABET) for _ in range(9))
    first17 = f"91{random.choice(REGION_CODES)}{organisation}"
    return first17 + uscc_check_character(first17)


def code(secret: str, *, steps: int = 0) -> str:
    """What an authenticator app shows now (by the tests' clock), ``steps`` 30 s away."""
    return pyotp.TOTP(secret).at(clock.utcnow() + timedelta(seconds=30 * steps))


@dataclass
class Person:
    username: str
    id: int
    totp_secret: str | None = None
    password: str = PASSWORD
    kind: AccountKind = AccountKind.APPLICANT
    roles: list[str] = field(default_factory=list)


def new_citizen(engine: Engine, *, totp: bool = False, display_name: str = "测试市民") -> Person:
    secret = pyotp.random_base32() if totp else None
    with unit_of_work(engine) as session:
        account = identity_service.create_account(
            session,
            OPERATOR,
            username=unique("cit"),
            password=PASSWORD,
            display_name=display_name,
            kind=AccountKind.APPLICANT,
            id_number=fresh_id_number(),
            totp_secret=secret,
        )
        return Person(account.username, account.id, secret)


def new_official(
    engine: Engine,
    *,
    department: str = "SAMR",
    roles: tuple[str, ...] = ("clerk", "reviewer", "approver"),
    totp: bool = True,
    kind: AccountKind = AccountKind.OFFICIAL,
) -> Person:
    """An official of ``department`` (or, with ``kind`` ADMIN, an administrator)."""
    secret = pyotp.random_base32() if totp else None
    with unit_of_work(engine) as session:
        account = identity_service.create_account(
            session,
            OPERATOR,
            username=unique("off"),
            password=PASSWORD,
            display_name="测试公务员",
            kind=kind,
            department_id=catalog_service.get_department(session, OPERATOR, department).id
            if kind is AccountKind.OFFICIAL
            else None,
            roles=roles,
            totp_secret=secret,
        )
        return Person(account.username, account.id, secret, kind=kind, roles=list(roles))


def load(engine: Engine, username: str) -> Account:
    with unit_of_work(engine) as session:
        account = identity_service.get_by_username(session, username)
        assert account is not None
        return account


def api_sign_in(client: TestClient, person: Person, *, totp: str | None = None) -> dict[str, str]:
    body = {"username": person.username, "password": person.password}
    if totp is None and person.totp_secret:
        totp = code(person.totp_secret)
    if totp:
        body["totp"] = totp
    response = client.post("/api/v1/session", json=body)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}", "Accept-Language": "en"}


class MovingClock:
    """``tongban.kit.clock.utcnow`` under the test's control: it stands still until moved."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def moving_clock(monkeypatch: pytest.MonkeyPatch) -> MovingClock:
    # Start at the beginning of a 30-second step: a code stays current while the test runs.
    now = datetime.now(UTC)
    start = now.replace(second=30 if now.second >= 30 else 0, microsecond=0)
    fake = MovingClock(start)
    monkeypatch.setattr(clock, "utcnow", fake)
    return fake
