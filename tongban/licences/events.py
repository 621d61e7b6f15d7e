"""Telling department systems that a licence was issued or revoked (电子证照 events), through
the connectors' transactional outbox in the same transaction as the change: a system that holds
a copy of the licence register never misses one. Each receiving system gets the holder and the
licence's fields masked for its own clearance."""

from __future__ import annotations

from typing import Any, TypedDict

from sqlalchemy.orm import Session

from tongban.catalog.models import ServiceItem
from tongban.connectors import outbox
from tongban.connectors.contracts import EventContract
from tongban.kit.clock import utcnow
from tongban.licences import issuing, types, views
from tongban.licences.models import Licence
from tongban.security.labels import Clearance


class Body(TypedDict):
    """What every subscribed system receives."""

    number: str
    type: str
    application: str
    holder_kind: str
    issued_on: str
    expires_on: str | None
    status: str
    revoked_reason: str | None
    key_id: str
    signature: str
    verify_url: str
    at: str


class Holder(TypedDict):
    name: Any
    id_number: Any


class Disclosed(TypedDict):
    """What each system receives as far as its clearance allows."""

    holder: Holder
    # fields.<name> of the licence types the department's items issue.
    fields: dict[str, Any]


def _type_fields(item: ServiceItem) -> list[str]:
    spec = types.issued_by(item.code)
    return [] if spec is None else [f"fields.{field.name}" for field in spec.fields]


CONTRACT = EventContract(
    events=("licence.issued", "licence.revoked"),
    body=Body,
    disclosed=Disclosed,
    per_item=frozenset({"fields"}),
    item_fields=_type_fields,
)


def publish(session: Session, licence: Licence, application_number: str, event: str) -> None:
    """``event``: "issued" or "revoked"; sent to the issuing department's systems that
    subscribe to ``licence.<event>`` (or ``licence.*``)."""
    _, payload = issuing.payload_of(licence)
    body: Body = {
        "number": licence.number,
        "type": licence.type_code,
        "application": application_number,
        "holder_kind": payload["holder"]["kind"],
        "issued_on": licence.issued_on.isoformat(),
        "expires_on": licence.expires_on.isoformat() if licence.expires_on else None,
        "status": views.status_of(licence),
        "revoked_reason": licence.revoked_reason,
        "key_id": licence.key_id,
        "signature": licence.signature,
        "verify_url": views.licence_verify_url(licence),
        "at": utcnow().isoformat(),
    }

    def disclose(clearance: Clearance) -> Disclosed:
        values = views.values_for(payload, clearance)
        return {
            "holder": {
                "name": values.get(views.HOLDER_NAME),
                "id_number": values.get(views.HOLDER_ID),
            },
            "fields": {
                name: value
                for name, value in values.items()
                if name not in (views.HOLDER_NAME, views.HOLDER_ID)
            },
        }

    outbox.publish(
        session,
        event_type=f"licence.{event}",
        department_id=licence.department_id,
        aggregate_id=licence.number,
        payload=body,
        disclose=disclose,
    )
