"""Telling department systems that a licence was issued or revoked (电子证照 events), through
the connectors' transactional outbox in the same transaction as the change: a system that holds
a copy of the licence register never misses one. Each receiving system gets the holder and the
licence's fields masked for its own clearance."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tongban.connectors import outbox
from tongban.kit.clock import utcnow
from tongban.licences import issuing, views
from tongban.licences.models import Licence
from tongban.security.labels import Clearance


def publish(session: Session, licence: Licence, application_number: str, event: str) -> None:
    """``event``: "issued" or "revoked"; sent to the issuing department's systems that
    subscribe to ``licence.<event>`` (or ``licence.*``)."""
    _, payload = issuing.payload_of(licence)
    body: dict[str, Any] = {
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

    def disclose(clearance: Clearance) -> dict[str, Any]:
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
