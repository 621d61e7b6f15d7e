"""People and companies in master data with the accounts that reach them, for proactive
service tests: each test makes its own, so runs over the shared database find them apart."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from tests.conftest import PASSWORD
from tests.fixtures.principals import OPERATOR
from tests.identity.factories import REGION_CODES, fresh_uscc, unique
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.companies import service as companies_service
from tongban.identity.models import AccountKind
from tongban.identity.numbers import resident_id_check_character
from tongban.resources import service as resources_service
from tongban.resources.models import CompanyScheme, PersonScheme


@dataclass
class Resident:
    pid: str
    account_id: int
    username: str
    id_number: str
    name: str


def id_number(born: date) -> str:
    first17 = f"{random.choice(REGION_CODES)}{born:%Y%m%d}{random.randrange(1000):03d}"
    return first17 + resident_id_check_character(first17)


def resident(engine: Engine, *, born: date, name: str = "测试居民", sex: str = "1") -> Resident:
    """A person in the register and their applicant account (the same resident ID)."""
    number = id_number(born)
    with unit_of_work(engine) as session:
        person = resources_service.register_person(
            session,
            OPERATOR,
            name=name,
            sex=sex,
            birth_date=born.isoformat(),
            identifiers_given=[(PersonScheme.RESIDENT_ID, number, "CN")],
        )
        account = identity_service.create_account(
            session,
            OPERATOR,
            username=unique("res"),
            password=PASSWORD,
            display_name=name,
            kind=AccountKind.APPLICANT,
            id_number=number,
            phone=f"139{random.randrange(10**8):08d}",
        )
        return Resident(person.pid, account.id, account.username, number, name)


@dataclass
class Company:
    cid: str
    uscc: str
    legal_person_id: int
    representative: Resident


def company(engine: Engine, *, name: str = "临江测试科技有限公司") -> Company:
    """A company in the register, and the same legal person in identity with its representative."""
    representative = resident(engine, born=date(1980, 5, 6), name="法定代表人")
    uscc = fresh_uscc()
    with unit_of_work(engine) as session:
        registered = resources_service.register_company(
            session, OPERATOR, name=name, identifiers_given=[(CompanyScheme.USCC, uscc)]
        )
        legal = companies_service.register_legal_person(
            session, OPERATOR, uscc=uscc, name=name, representative=representative.username
        )
        return Company(registered.cid, uscc, legal.id, representative)
