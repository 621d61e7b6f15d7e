"""Master data for the demo accounts, so the example rules have someone to reach: 张三 and 李四
in the person register (unless there already) with a newborn child registered to them, and
张三's shop in the company register with its food business licence ending in 20 days and its
first insured employee."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from tongban.identity.principals import Principal
from tongban.kit.clock import local_today
from tongban.proactive import policy
from tongban.resources import life_events
from tongban.resources import service as resources_service
from tongban.resources.models import CompanyScheme, PersonScheme

PARENTS = {
    "father": ("张三", "1", "1990-03-07", "330102199003071230"),
    "mother": ("李四", "2", "1985-06-12", "330102198506124563"),
}
CHILD = "张小宝"
SHOP = ("临江市张记便利店有限公司", "91330102MA2B3C4D5K")


@dataclass
class DemoReport:
    persons: int = 0
    births: int = 0
    companies: int = 0


def load(session: Session, subject: Principal) -> DemoReport:
    """Idempotent: what is already registered is left as it is."""
    policy.require_demo(subject)
    report = DemoReport()
    pids: dict[str, str] = {}
    for relation, (name, sex, born, number) in PARENTS.items():
        found = resources_service.find_persons(
            session, subject, scheme=PersonScheme.RESIDENT_ID, value=number
        )
        if found:
            pids[relation] = found[0].pid
            continue
        person = resources_service.register_person(
            session,
            subject,
            name=name,
            sex=sex,
            birth_date=born,
            identifiers_given=[(PersonScheme.RESIDENT_ID, number, "CN")],
        )
        pids[relation] = person.pid
        report.persons += 1
    # The parents may be in the register already (the departments' demo records): the birth is
    # registered once, whoever registered them.
    if not life_events.has_children(session, subject, pids["father"]):
        life_events.register_birth(
            session,
            subject,
            name=CHILD,
            sex="1",
            birth_date=(local_today() - timedelta(days=5)).isoformat(),
            id_number=None,
            parents=pids,
        )
        report.births += 1
    name, uscc = SHOP
    if not resources_service.find_companies(
        session, subject, scheme=CompanyScheme.USCC, value=uscc
    ):
        company = resources_service.register_company(
            session, subject, name=name, identifiers_given=[(CompanyScheme.USCC, uscc)]
        )
        ends = (local_today() + timedelta(days=20)).isoformat()
        life_events.set_company_value(
            session, subject, company.cid, element="licence_expires_on", value=ends
        )
        for count in ("0", "1"):
            life_events.set_company_value(
                session, subject, company.cid, element="insured_employees", value=count
            )
        report.companies += 1
    return report
