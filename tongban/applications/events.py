"""The events an application sends to its handling department's systems (``application.<status>``
at each transition) and their payload: the contract connectors check mappings against, and the
builders the publishing code uses, typed with it, so each field is written once."""

from __future__ import annotations

from typing import Any, TypedDict, cast

from sqlalchemy.orm import Session

from tongban.applications import coverage, disclosure
from tongban.applications.models import Application
from tongban.applications.states import Action, Status
from tongban.catalog.models import ServiceItem
from tongban.connectors.contracts import EventContract
from tongban.identity.models import Account
from tongban.kit.clock import utcnow
from tongban.resources import disclosure as master_data
from tongban.security.labels import Clearance


class Material(TypedDict):
    code: str
    filename: str
    sha256: str
    size: int


class Body(TypedDict):
    """What every subscribed system receives."""

    number: str
    item_code: str
    item_name: str
    # The department's other items of a bundle, handled together with this one.
    covered_items: list[str]
    status: str
    action: str
    reason: str
    at: str
    result_number: str | None
    materials: list[Material]


class Applicant(TypedDict):
    name: str | None
    id_number: str | None
    phone: str | None


class Disclosed(TypedDict):
    """What each system receives as far as its clearance allows."""

    applicant: Applicant
    # form.<field> of the department's items.
    form: dict[str, Any]


def _form_fields(item: ServiceItem) -> list[str]:
    return [f"form.{field['name']}" for field in item.fields]


CONTRACT = EventContract(
    events=tuple(f"application.{status.value}" for status in Status),
    body=Body,
    disclosed=Disclosed,
    per_item=frozenset({"form"}),
    item_fields=_form_fields,
)


def event_type(application: Application) -> str:
    return f"application.{application.status.value}"


def body(application: Application, action: Action, reason: str) -> Body:
    return {
        "number": application.number,
        "item_code": application.item.code,
        "item_name": coverage.names(application).zh,
        "covered_items": [c.item.code for c in application.covered],
        "status": application.status.value,
        "action": action.value,
        "reason": reason,
        "at": utcnow().isoformat(),
        "result_number": application.result_number,
        "materials": [
            {"code": m.requirement_code, "filename": m.filename, "sha256": m.sha256, "size": m.size}
            for m in application.materials
        ],
    }


def disclosed(
    session: Session, application: Application, applicant: Account, clearance: Clearance
) -> Disclosed:
    """The applicant and the form as a system cleared ``clearance`` may receive them: the
    handling department's own system gets no more of the case than it is cleared for."""
    reading = master_data.MasterReading(clearance, master_data.element_labels(session))
    applicant_values = reading.values(
        {
            "name": ("name", applicant.display_name),
            "id_number": ("id_number", applicant.id_number),
            "phone": ("phone", applicant.phone),
        }
    )
    return {
        "applicant": cast(Applicant, applicant_values),
        "form": disclosure.disclose_to(session, application, clearance),
    }
