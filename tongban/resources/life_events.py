"""Life events in master data that proactive service rules watch: a birth registered with the
child's father and mother, and the values of company data elements (a licence's end date, the
number of insured employees). Each change is kept with its history, audited, and published to
the element's subscribers through the outbox (``resources.value_changed``) in the same
transaction, like the person elements of ``authority``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.connectors import outbox
from tongban.identity.principals import Principal
from tongban.kit import datafiles
from tongban.kit.clock import utcnow
from tongban.resources import events, policy, repository
from tongban.resources.errors import RecordFileInvalid
from tongban.resources.models import (
    CompanyScheme,
    CompanyValue,
    CompanyValueChange,
    MasterPerson,
    PersonIdentifier,
    PersonRelation,
    PersonScheme,
)
from tongban.resources.service import register_person
from tongban.resources.service._common import load_company, load_person
from tongban.security.principals import Internal

PARENTS = ("father", "mother")
BIRTH_SOURCE = "HEALTH"  # 出生医学证明: the health commission registers a birth


class CompanyElementSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    authority: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    subscribers: list[str] = Field(default_factory=list)
    type: Literal["date", "integer", "text"]
    format: str = Field(min_length=1, max_length=200)


def company_elements_file() -> Path:
    return Path(__file__).parent / "data" / "company_elements.yaml"


@lru_cache(maxsize=4)
def company_elements(path: Path | None = None) -> dict[str, CompanyElementSpec]:
    specs: list[CompanyElementSpec] = datafiles.load_yaml(
        path or company_elements_file(), list[CompanyElementSpec], RecordFileInvalid
    )
    return {s.code: s for s in specs}


@dataclass(frozen=True)
class Birth:
    child: MasterPerson
    parents: dict[str, str]  # relation -> pid


def register_birth(
    session: Session,
    subject: Principal,
    *,
    name: str,
    sex: str | None,
    birth_date: str,
    id_number: str | None,
    parents: dict[str, str],
    source: str = BIRTH_SOURCE,
) -> Birth:
    """The child as a new person, tied to each parent (relation -> the parent's pid)."""
    policy.require_manage_master_data(subject)
    relatives: dict[str, MasterPerson] = {}
    for relation, pid in parents.items():
        if relation not in PARENTS:
            raise RecordFileInvalid("Unknown relation {relation}.", relation=relation)
        relatives[relation] = load_person(session, pid)
    given = [(PersonScheme.RESIDENT_ID, id_number, "CN")] if id_number else []
    child = register_person(
        session, subject, name=name, sex=sex, birth_date=birth_date, identifiers_given=given
    )
    now = utcnow()
    for relation, parent in relatives.items():
        session.add(
            PersonRelation(
                person_id=child.id,
                relation=relation,
                relative_id=parent.id,
                source=source,
                registered_at=now,
            )
        )
    session.flush()
    audit.record(
        session,
        actor=subject,
        action="resources.birth_registered",
        target_type="master_person",
        target_id=child.pid,
        details={"parents": {r: p.pid for r, p in relatives.items()}, "source": source},
    )
    return Birth(child, {r: p.pid for r, p in relatives.items()})


def has_children(session: Session, subject: Principal, pid: str) -> bool:
    """Whether a birth was registered with ``pid`` as a parent."""
    policy.require_read_master_data(subject)
    return repository.has_children(session, load_person(session, pid).id)


def set_company_value(
    session: Session,
    subject: Principal,
    cid: str,
    *,
    element: str,
    value: str | None,
    source: str | None = None,
) -> bool:
    """Store the authority's value of a company element; False if it was already that."""
    policy.require_manage_master_data(subject)
    spec = company_elements().get(element)
    if spec is None:
        raise RecordFileInvalid("There is no company data element {code}.", code=element)
    _check_value(spec, value)
    company = load_company(session, cid)
    stored = session.execute(
        select(CompanyValue).where(
            CompanyValue.company_id == company.id, CompanyValue.element == element
        )
    ).scalar_one_or_none()
    old = stored.value if stored is not None else None
    if stored is not None and old == value:
        return False
    now, source = utcnow(), source or spec.authority
    if stored is None:
        session.add(
            CompanyValue(
                company_id=company.id, element=element, value=value, source=source, updated_at=now
            )
        )
    else:
        stored.value, stored.source, stored.updated_at = value, source, now
    session.add(
        CompanyValueChange(
            company_id=company.id,
            element=element,
            old_value=old,
            new_value=value,
            source=source,
            at=now,
        )
    )
    payload: events.ValueChanged = {
        "cid": company.cid,
        "element": element,
        "old_value": old,
        "new_value": value,
        "source": source,
        "at": now.isoformat(),
    }
    for code in spec.subscribers:
        department = catalog_service.get_department(
            session, Internal("name the department that told a company's life event"), code
        )
        outbox.publish(
            session,
            event_type=events.VALUE_CHANGED,
            department_id=department.id,
            aggregate_id=company.cid,
            payload=payload,
        )
    audit.record(
        session,
        actor=subject,
        action="resources.company_value_changed",
        target_type="master_company",
        target_id=company.cid,
        details={"element": element, "source": source},
    )
    session.flush()
    return True


def _check_value(spec: CompanyElementSpec, value: str | None) -> None:
    """Rules compare these values in SQL (as dates written YYYY-MM-DD, as integers): a value
    of another form is refused rather than stored."""
    if value is None:
        return
    try:
        if spec.type == "date":
            date.fromisoformat(value)
            ok = len(value) == 10
        else:
            ok = spec.type == "text" or (value.isascii() and value.isdigit())
    except ValueError:
        ok = False
    if not ok:
        raise RecordFileInvalid(
            "{value} is not a valid value of {code} ({format}).",
            field="value",
            value=value,
            code=spec.code,
            format=spec.format,
        )


def resident_id_of(session: Session, person_id: int) -> str | None:
    return session.execute(
        select(PersonIdentifier.value)
        .where(
            PersonIdentifier.person_id == person_id,
            PersonIdentifier.scheme == PersonScheme.RESIDENT_ID,
            PersonIdentifier.problem == "",
        )
        .limit(1)
    ).scalar_one_or_none()


def person_facts(session: Session, pid: str) -> dict[str, str | None]:
    """What the register holds on a person, by element: what a proactive offer fills in."""
    person = repository.person_by_pid(session, pid)
    if person is None:
        return {}
    values: dict[str, str | None] = {
        "pid": person.pid,
        "name": person.name,
        "sex": person.sex,
        "birth_date": person.birth_date,
        "id_number": resident_id_of(session, person.id),
    }
    for code, stored in repository.element_values(session, person.id).items():
        if code in ("phone", "address"):
            values[code] = stored.value
    return values


def company_facts(session: Session, cid: str) -> dict[str, str | None]:
    company = repository.company_by_cid(session, cid)
    if company is None:
        return {}
    uscc = next(
        (
            i.value
            for i in repository.company_identifiers_of(session, company.id)
            if i.scheme is CompanyScheme.USCC and not i.problem
        ),
        None,
    )
    values: dict[str, str | None] = {"cid": company.cid, "name": company.name, "uscc": uscc}
    stored = session.execute(
        select(CompanyValue).where(CompanyValue.company_id == company.id)
    ).scalars()
    values.update({v.element: v.value for v in stored})
    return values
