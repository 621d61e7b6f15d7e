"""Materials fetched through the exchange (``satisfied_by_data``): a fact another department
holds (a marriage record, a household register entry, a social insurance record…) is fetched
for the applicant's application instead of an upload, through a live grant of a system of the
handling department, exactly as the gateway serves any call (counted, masked, logged, audited,
and written to the person's "who used my data"). Where the sharing condition asks for the
person's consent, nothing is fetched without it; a provider that is down leaves the material
to upload.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.connectors.models import DepartmentSystem
from tongban.errors import TongbanError
from tongban.exchange import policy, repository
from tongban.exchange.errors import ProviderUnavailable
from tongban.exchange.models import Grant, InformationResource
from tongban.exchange.service import gateway
from tongban.identity.principals import Principal
from tongban.kit.i18n import LocalText
from tongban.security.principals import Internal


class Outcome(enum.StrEnum):
    FETCHED = "fetched"
    # The handling department holds no live grant on the resource.
    NO_GRANT = "no_grant"
    # The sharing condition asks for the person's consent, and it was not given.
    CONSENT_NEEDED = "consent_needed"
    # The providing system did not answer (or refused the call).
    UNAVAILABLE = "unavailable"
    # The provider holds no record of the person.
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Fetched:
    outcome: Outcome
    resource: str
    title: LocalText
    department: LocalText
    # The serving system, as the applicant and the official are shown the record's source.
    system: str = ""
    # (item name, value) of each readable item of the record.
    values: list[tuple[LocalText, str]] = field(default_factory=list)
    # The items whose sharing asks for the person's consent.
    consent_items: list[LocalText] = field(default_factory=list)


@dataclass(frozen=True)
class _Route:
    resource: InformationResource
    # The first live grant of a system of the handling department, and the items that
    # system holds for the grant's purpose over all its live grants (an unconditional part is
    # granted at once, a conditional one on approval: two grants).
    grant: Grant | None
    system: DepartmentSystem | None
    items: frozenset[str] = frozenset()


def _route(session: Session, resource_code: str, department_id: int) -> _Route | None:
    resource = repository.resource_by_code(session, resource_code)
    if resource is None:
        return None
    grants = repository.live_grants_of_department(session, department_id, resource.id)
    for grant in grants:
        system = session.get(DepartmentSystem, grant.system_id)
        if system is not None:
            items = {
                code
                for g in grants
                if g.system_id == grant.system_id and g.purpose == grant.purpose
                for code in g.items
            }
            return _Route(resource, grant, system, frozenset(items))
    return _Route(resource, None, None)


def _consent_items(route: _Route) -> list[LocalText]:
    return [
        LocalText(i.name_zh, i.name_en)
        for i in route.resource.items
        if i.consent and (not route.items or i.code in route.items)
    ]


def _describe(session: Session, route: _Route, outcome: Outcome, **more: object) -> Fetched:
    department = catalog_service.get_department_by_id(
        session,
        Internal("name the department that issued a material"),
        route.resource.department_id,
    )
    return Fetched(
        outcome,
        route.resource.code,
        LocalText(route.resource.title_zh, route.resource.title_en),
        LocalText(department.name_zh, department.name_en),
        system=route.system.name if route.system else "",
        consent_items=_consent_items(route),
        **more,  # type: ignore[arg-type]
    )


def consent_asked(
    session: Session, subject: Principal, *, resource: str, department_id: int
) -> list[LocalText]:
    """The items of ``resource`` the handling department's grant covers whose sharing asks
    for the person's consent (what the application page asks them to agree to)."""
    policy.require_prefill(subject)
    route = _route(session, resource, department_id)
    return _consent_items(route) if route is not None else []


def fetch_for_application(
    session: Session,
    subject: Principal,
    *,
    application_number: str,
    resource: str,
    department_id: int,
    id_number: str,
    consented: bool,
) -> Fetched | None:
    """The applicant's record of ``resource``, fetched for their application through a live
    grant of a system of the handling department; None if no such resource is registered.

    The call ends the transaction it finds open (``db.session.release``): a use case that
    changes things fetches first."""
    applicant = policy.require_fetch_for_application(subject)
    route = _route(session, resource, department_id)
    if route is None:
        return None
    if route.grant is None or route.system is None:
        return _describe(session, route, Outcome.NO_GRANT)
    asked = _consent_items(route)
    if asked and not consented:
        return _describe(session, route, Outcome.CONSENT_NEEDED)
    if asked and applicant is not None:
        audit.record(
            session,
            actor=applicant,
            action="exchange.consent_given",
            target_type="exchange_resource",
            target_id=resource,
            details={"application": application_number, "items": [i.en for i in asked]},
        )
    try:
        # Admitted (counted and checked) in a savepoint, so a refused call changes nothing.
        with session.begin_nested():
            call = gateway.admit(
                session,
                policy.require_gateway(route.system),
                resource=resource,
                purpose=route.grant.purpose,
                keys=[id_number],
                items=None,
            )
    except ProviderUnavailable:
        return _describe(session, route, Outcome.UNAVAILABLE)
    except TongbanError:
        return _describe(session, route, Outcome.NO_GRANT)
    try:
        raw = gateway.fetch(session, call)
    except ProviderUnavailable:
        return _describe(session, route, Outcome.UNAVAILABLE)
    answer = gateway.serve(session, call, raw)
    record = answer.records[0]["record"]
    if not record:
        return _describe(session, route, Outcome.NOT_FOUND)
    names = {i.code: LocalText(i.name_zh, i.name_en) for i in route.resource.items}
    values = [
        (names[code], str(record[code]))
        for code in answer.readable
        if record.get(code) not in (None, "")
    ]
    return _describe(session, route, Outcome.FETCHED, values=values)
