"""The demo data set: catalog, departments and accounts, loaded into an empty database (``load``);
and, for `tongban serve --demo`, what makes every page show something real from the first start
(``load_examples``): master data with people to resolve and a conflict, the proactive rules run
once over it, and an example department system granted population data, with its credentials
for the exchange gateway."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sqlalchemy.orm import Session

from tongban.catalog import service as catalog_service
from tongban.connectors.schemas import SystemSpec
from tongban.exchange import files as exchange_files
from tongban.exchange import service as exchange_service
from tongban.exchange.models import Sharing
from tongban.exchange.schemas import SharingRequestIn
from tongban.identity import service as identity_service
from tongban.identity.companies import service as companies_service
from tongban.identity.models import AccountKind
from tongban.identity.schemas import demo_accounts
from tongban.integration import docking
from tongban.proactive import demo as proactive_demo
from tongban.proactive import service as proactive_service
from tongban.resources import demo as resources_demo
from tongban.resources import service as resources_service
from tongban.security import service as security_service
from tongban.security.principals import Internal

DEMO_PASSWORD = "demo-password"
# Loading the demo is the platform filling itself in, whoever started it.
DEMO = Internal("load the demo data")


def is_empty(session: Session) -> bool:
    return not catalog_service.list_departments(session, DEMO)


def load(session: Session) -> catalog_service.LoadReport:
    """Load everything as the command-line operator (no signed-in subject)."""
    report = catalog_service.load_catalog(session, DEMO, catalog_service.demo_catalog_dir())
    # One source per data item from the start: each element's authoritative department.
    resources_service.load_elements(session, DEMO, resources_service.read_elements())
    accounts = demo_accounts()
    for applicant in accounts.applicants:
        identity_service.create_account(
            session,
            DEMO,
            password=DEMO_PASSWORD,
            kind=AccountKind.APPLICANT,
            **applicant.model_dump(),
        )
    for official in accounts.officials:
        department = catalog_service.get_department(session, DEMO, official.department)
        identity_service.create_account(
            session,
            DEMO,
            password=DEMO_PASSWORD,
            kind=AccountKind.OFFICIAL,
            department_id=department.id,
            **official.model_dump(exclude={"department", "clearance"}),
        )
        if official.clearance:
            security_service.set_clearance(
                session, DEMO, username=official.username, clearance=official.clearance
            )
    for admin in accounts.admins:
        identity_service.create_account(
            session,
            DEMO,
            password=DEMO_PASSWORD,
            kind=AccountKind.ADMIN,
            **admin.model_dump(exclude={"clearance"}),
        )
        if admin.clearance:
            security_service.set_clearance(
                session, DEMO, username=admin.username, clearance=admin.clearance
            )
    _exchange(session)
    for company in accounts.legal_persons:
        companies_service.register_legal_person(
            session,
            DEMO,
            uscc=company.uscc,
            name=company.name,
            representative=company.representative,
        )
        for agent in company.agents:
            companies_service.grant_agent(session, DEMO, uscc=company.uscc, username=agent)
    return report


# The housing department's system, so the exchange has a requester out of the box; its client
# credentials are issued with `tongban exchange credentials HOUSING-BZ`.
DEMO_SYSTEM = {
    "code": "HOUSING-BZ",
    "name": "住房保障业务系统",
    "department": "HOUSING",
    # It may read identity data (names, addresses) as they are: what its grant allows.
    "clearance": "internal:identity",
}
# What the housing system is granted of the population data, for housing subsidy reviews.
DEMO_GRANT = {
    "resource": "PSB-POPULATION",
    "system": DEMO_SYSTEM["code"],
    "items": ["id_number", "name", "birth_date", "address"],
    "purpose": "housing_subsidy_review",
    "purpose_text": "核查住房保障申请人的身份、出生日期和居住地址",
    "legal_basis": "《公共租赁住房管理办法》第七条",
    "days": 365,
}


# The departments' own systems that serve their resources of the data resource catalog (and
# ask for others' on their department's behalf). The demo runs none of them: a record they
# would serve is left to upload ("the source is down") until one is connected with a lookup.
DEMO_PROVIDERS = {
    "PSB-HJ": ("PSB", "户籍管理系统"),
    "MCA-HY": ("MCA", "婚姻登记管理系统"),
    "HRSS-SB": ("HRSS", "社会保险经办系统"),
    "HOUSING-GJJ": ("HOUSING", "住房公积金管理系统"),
    "HOUSING-FC": ("HOUSING", "房屋交易网签备案系统"),
    "TAX-JS": ("TAX", "个人所得税管理系统"),
    "HEALTH-CS": ("HEALTH", "出生医学证明管理系统"),
    "HEALTH-YS": ("HEALTH", "医师资格管理系统"),
    "SAMR-DJ": ("SAMR", "市场主体登记系统"),
}
# What a department states when asking for another's records for its items' materials.
MATERIALS_PURPOSE = "service_application"


def _exchange(session: Session) -> None:
    docking.register_system(
        session, DEMO, SystemSpec(**DEMO_SYSTEM, secret=secrets.token_urlsafe(32))
    )
    for code, (department, name) in DEMO_PROVIDERS.items():
        docking.register_system(
            session,
            DEMO,
            SystemSpec(
                code=code,
                name=name,
                department=department,
                secret=secrets.token_urlsafe(32),
                clearance="internal:identity,household,marriage,social_security,finance,"
                "property,tax,health",
            ),
        )
    exchange_service.register_resources(session, DEMO, exchange_files.read(demo_resources_file()))


def grant_material_sources(session: Session) -> int:
    """For every material of the catalog fetched through the exchange, the handling
    department's system is granted the resource (``grant_material_source``): the grants the
    demo's applications fetch through. Returns how many were made."""
    wanted: dict[tuple[str, str], None] = {}
    for item in catalog_service.published(session, DEMO).items:
        for material in item.materials:
            if material.satisfied_by_data:
                wanted[(item.department.code, material.satisfied_by_data)] = None
    return sum(grant_material_source(session, d, r) for d, r in wanted)


def grant_material_source(session: Session, department: str, resource_code: str) -> bool:
    """The department's first demo system is granted the resource's shared items for
    applications' materials: asked by the department's official, the conditional items
    approved by the holding department's. False where the demo has no one to ask."""
    systems = {dept: code for code, (dept, _) in reversed(DEMO_PROVIDERS.items())}
    system = systems.get(department)
    resource = exchange_service.get_resource(session, DEMO, resource_code)
    holder = catalog_service.get_department_by_id(session, DEMO, resource.department_id)
    requester = identity_service.get_by_username(session, f"{department.lower()}_officer")
    provider = identity_service.get_by_username(session, f"{holder.code.lower()}_officer")
    if system is None or requester is None or provider is None:
        return False
    request = exchange_service.request_sharing(
        session,
        requester,
        SharingRequestIn(
            resource=resource_code,
            system=system,
            items=[i.code for i in resource.items if i.sharing is not Sharing.NOT_SHARED],
            purpose=MATERIALS_PURPOSE,
            purpose_text="办理本部门事项时代替申请人提交材料（减材料）",
            legal_basis="《国务院关于加快推进全国一体化在线政务服务平台建设的指导意见》",
            days=365,
        ),
    )
    if request.pending_items:
        exchange_service.decide_request(session, provider, request.id, approve=True)
    return True


def demo_resources_file() -> Path:
    return Path(str(resources.files("tongban.exchange").joinpath("data/demo/resources.yaml")))


@dataclass(frozen=True)
class Examples:
    master: resources_demo.DemoReport
    offers: int
    # The housing system's client credentials for the gateway (the secret shown once).
    client_id: str
    client_secret: str


def load_examples(session: Session) -> Examples:
    """Master data from the departments' demo records, resolved (people for the data steward to
    decide, an address the housing bureau must settle); the proactive rules' demo registrations
    and one run of the rules (offers waiting for 张三 and 李四); the housing system's request for
    population data, approved by the public security bureau, and its client credentials."""
    master = resources_demo.load(session, DEMO)
    proactive_demo.load(session, DEMO)
    outcomes = proactive_service.run(session, DEMO)
    housing = identity_service.get_by_username(session, "housing_officer")
    psb = identity_service.get_by_username(session, "psb_officer")
    assert housing is not None
    assert psb is not None
    request = exchange_service.request_sharing(
        session, housing, SharingRequestIn.model_validate(DEMO_GRANT)
    )
    exchange_service.decide_request(session, psb, request.id, approve=True)
    grant_material_sources(session)
    registration = exchange_service.issue_credentials(
        session, DEMO, system_code=DEMO_SYSTEM["code"]
    )
    assert registration.secret is not None
    return Examples(
        master,
        sum(o.offers for o in outcomes),
        registration.client.client_id,
        registration.secret,
    )
