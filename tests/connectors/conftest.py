"""A department of its own per test module (so no other test's applications reach its
connectors), the example department service running for real, and a registered system."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
import yaml
from sqlalchemy import Engine, update

from examples.department_service.app import create_app as create_department_app
from tests.fixtures.live import serve
from tests.fixtures.principals import OPERATOR
from tongban.applications import service as applications_service
from tongban.applications.states import Action
from tongban.catalog import service as catalog_service
from tongban.connectors.models import DepartmentSystem, MessageStatus, OutboxMessage
from tongban.connectors.schemas import SystemSpec
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import Account, AccountKind
from tongban.integration import docking
from tongban.security import deployment
from tongban.security import service as security_service

SECRET = "s" * 40
# The system the test item's home_address field names as its source.
LOOKUP_SYSTEM = "LOOKUP-HUJI"
PERSON_ID = "330102199003071230"


@pytest.fixture(scope="module")
def department(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh department with one online item (two fields, one optional material)."""
    code = "T" + uuid.uuid4().hex[:6].upper()
    root = tmp_path_factory.mktemp("catalog")
    (root / "items").mkdir()
    (root / "departments.yaml").write_text(
        yaml.safe_dump(
            [{"code": code, "name_zh": "测试局", "name_en": "Test bureau"}], allow_unicode=True
        )
    )
    (root / "items" / "t.yaml").write_text(
        yaml.safe_dump(
            [
                {
                    "code": f"{code}-0001",
                    "department": code,
                    "name_zh": "测试事项",
                    "name_en": "Test item",
                    "audience": "person",
                    "legal_basis_zh": ["测试"],
                    "legal_basis_en": ["Test"],
                    "statutory_days": 5,
                    "promised_days": 2,
                    "fee": "0.00",
                    "online": True,
                    "offline": True,
                    "max_visits": 0,
                    "result_zh": "结果",
                    "result_en": "Result",
                    "fields": [
                        {
                            "name": "full_name",
                            "security_label": "internal:identity",
                            "type": "text",
                            "label_zh": "姓名",
                            "label_en": "Name",
                            "required": True,
                        },
                        {
                            "name": "id_number",
                            "security_label": "important:identity",
                            "type": "id_number",
                            "label_zh": "身份证号",
                            "label_en": "ID number",
                            "required": True,
                        },
                        {
                            "name": "home_address",
                            "security_label": "internal:identity",
                            "type": "text",
                            "label_zh": "户籍地址",
                            "label_en": "Registered address",
                            "source": f"{LOOKUP_SYSTEM}.address",
                        },
                    ],
                }
            ],
            allow_unicode=True,
        )
    )
    with unit_of_work(engine) as session:
        catalog_service.load_catalog(session, OPERATOR, root)
    return code


@pytest.fixture(scope="module")
def department_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example department system on its own port, with its own SQLite database."""
    db = tmp_path_factory.mktemp("dept") / "department.db"
    people = {PERSON_ID: {"hjdz": "临江市滨江区江滨路88号", "xm": "李测试"}}
    with serve(create_department_app(secret=SECRET, db_path=str(db), people=people)) as url:
        yield url


def stats(url: str) -> dict[str, int]:
    return dict(httpx.get(f"{url}/stats").json())


SystemFactory = Callable[..., int]


@contextmanager
def systems_registered(engine: Engine, department: str) -> Iterator[SystemFactory]:
    """Register systems (of ``department`` unless one says otherwise) with the given
    connectors; on leaving, they are switched off and their leftover messages cleared, so later
    tests' dispatch rounds never see them."""
    created: list[int] = []

    def make(
        connectors: list[dict[str, object]],
        *,
        secret: str = SECRET,
        code: str | None = None,
        lookup: dict[str, object] | None = None,
        clearance: str | None = None,
        department_code: str | None = None,
    ) -> int:
        spec = SystemSpec.model_validate(
            {
                "code": code or f"SYS-{secrets.token_hex(3).upper()}",
                "name": "测试系统",
                "department": department_code or department,
                "secret": secret,
                "connectors": connectors,
                "lookup": lookup,
                # Cleared for everything unless a test says otherwise: the case as filed.
                "clearance": clearance or str(deployment.top_clearance()),
            }
        )
        with unit_of_work(engine) as session:
            system = docking.register_system(session, OPERATOR, spec)
            created.append(system.id)
            return system.id

    try:
        yield make
    finally:
        with unit_of_work(engine) as session:
            for system_id in created:
                session.execute(
                    update(DepartmentSystem)
                    .where(DepartmentSystem.id == system_id)
                    .values(active=False)
                )
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == MessageStatus.PENDING)
                .where(OutboxMessage.connector_id.in_(connector_ids(session, created)))
                .values(status=MessageStatus.DEAD)
            )


@pytest.fixture
def register_system(engine: Engine, department: str) -> Iterator[SystemFactory]:
    with systems_registered(engine, department) as make:
        yield make


def connector_ids(session: object, system_ids: list[int]) -> list[int]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from tongban.connectors.models import Connector

    assert isinstance(session, Session)
    return list(
        session.execute(select(Connector.id).where(Connector.system_id.in_(system_ids))).scalars()
    )


def api_connector(url: str, **overrides: object) -> dict[str, object]:
    return {
        "name": "inbox",
        "kind": "api",
        "config": {"url": f"{url}/inbox", "timeout_seconds": 5},
        "mapping": {
            "number": "sqbh",
            "form.full_name": "xm",
            "form.id_number": "sfzh",
            "status": "zt",
        },
        "events": ["application.*"],
    } | overrides


@pytest.fixture(scope="module")
def official(engine: Engine, department: str) -> Account:
    """An official of the test department with every role, acting through the service layer."""
    with unit_of_work(engine) as session:
        dept = catalog_service.get_department(session, OPERATOR, department)
        account = identity_service.create_account(
            session,
            OPERATOR,
            username=f"off_{department.lower()}",
            password="demo-password",
            display_name="测试官员",
            kind=AccountKind.OFFICIAL,
            department_id=dept.id,
        )
        account.roles = ["clerk", "reviewer", "approver"]
        security_service.set_clearance(
            session, OPERATOR, username=account.username, clearance="important:identity"
        )
        return account


@pytest.fixture
def applicant(engine: Engine) -> Account:
    with unit_of_work(engine) as session:
        return identity_service.create_account(
            session,
            OPERATOR,
            username=f"a_{uuid.uuid4().hex[:10]}",
            password="demo-password",
            display_name="李测试",
            kind=AccountKind.APPLICANT,
        )


def submit(engine: Engine, applicant: Account, department: str, name: str = "李测试") -> str:
    """A submitted application for the test department's item, through the service layer."""
    with unit_of_work(engine) as session:
        application = applications_service.start(
            session,
            applicant,
            item_code=f"{department}-0001",
            form={"full_name": name, "id_number": "330102199003071230"},
        )
        applications_service.act(session, applicant, application.number, Action.SUBMIT)
        return application.number


def act(engine: Engine, official: Account, number: str, action: Action, reason: str = "") -> None:
    with unit_of_work(engine) as session:
        applications_service.act(session, official, number, action, reason=reason)


def department_of(engine: Engine, system_id: int) -> str:
    """The department code of a registered system."""
    from tongban.catalog.models import Department

    with unit_of_work(engine) as session:
        system = session.get(DepartmentSystem, system_id)
        assert system is not None
        department = session.get(Department, system.department_id)
        assert department is not None
        return department.code
