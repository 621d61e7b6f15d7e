"""A licence as a reader sees it: whole for its holder and the issuing department, and for
everyone else (a verification page, a share link) only what its labels allow the public, the
rest masked by the deployment's masker."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from tongban.kit.clock import local_today
from tongban.licences import issuing, seal, types
from tongban.licences.models import Licence
from tongban.licences.schemas import FieldRead, LicenceRead, LicenceTypeSpec
from tongban.security import deployment, mac
from tongban.security.labels import Clearance
from tongban.security.mac import LabelledField

Status = Literal["valid", "expired", "revoked"]
HOLDER_NAME = "holder_name"
HOLDER_ID = "holder_id_number"


def status_of(licence: Licence, today: date | None = None) -> Status:
    if licence.revoked_at is not None:
        return "revoked"
    return status_by_date(licence.expires_on, today)


def status_by_date(expires_on: date | None, today: date | None = None) -> Status:
    if expires_on is not None and (today or local_today()) > expires_on:
        return "expired"
    return "valid"


def schema(spec: LicenceTypeSpec, holder_kind: str) -> mac.Schema:
    scheme = deployment.scheme()
    if holder_kind == "company":
        # A company's name and credit code are public registration data.
        name_label = id_label = scheme.public()
    else:
        name_label = scheme.parse_label(spec.holder.name_label)
        id_label = scheme.parse_label(spec.holder.id_number_label)
    fields = {
        HOLDER_NAME: LabelledField(name_label, "name"),
        HOLDER_ID: LabelledField(id_label, "id_number"),
    }
    for f in spec.fields:
        fields[f.name] = LabelledField(scheme.parse_label(f.security_label), f.semantic)
    return mac.Schema.of(fields)


def from_payload(
    payload: dict[str, Any],
    *,
    status: Status,
    public: bool,
    licence: Licence | None = None,
) -> LicenceRead:
    """The read model of a signed payload; ``public``: masked as the public may see it."""
    spec = types.get(str(payload["type"]))
    holder = payload["holder"]
    values = (
        values_for(payload, Clearance(deployment.scheme().lowest))
        if public
        else _values(spec, payload)
    )
    expires = payload.get("expires_on")
    return LicenceRead(
        number=payload["number"],
        type_code=spec.code,
        type_name_zh=spec.name_zh,
        type_name_en=spec.name_en,
        holder_kind=holder["kind"],
        holder_name=_text(values.get(HOLDER_NAME)),
        holder_id_number=_text(values.get(HOLDER_ID)),
        department_code=payload["department"]["code"],
        department_name=payload["department"]["name"],
        issued_on=date.fromisoformat(payload["issued_on"]),
        expires_on=date.fromisoformat(expires) if expires else None,
        status=status,
        revoked_at=licence.revoked_at if licence is not None else None,
        revoked_reason=licence.revoked_reason if licence is not None and not public else None,
        fields=[
            FieldRead(
                name=f.name,
                label_zh=f.label_zh,
                label_en=f.label_en,
                value=_text(values.get(f.name)),
            )
            for f in spec.fields
        ],
        verify_url=licence_verify_url(licence) if licence is not None else "",
    )


def values_for(payload: dict[str, Any], clearance: Clearance) -> dict[str, Any]:
    """The holder's name and number and the licence's fields, as a reader cleared
    ``clearance`` may see them (the rest masked)."""
    spec = types.get(str(payload["type"]))
    plan = mac.plan(clearance, schema(spec, payload["holder"]["kind"]), masker=deployment.masker())
    return plan.apply([_values(spec, payload)])[0]


def _values(spec: LicenceTypeSpec, payload: dict[str, Any]) -> dict[str, Any]:
    holder = payload["holder"]
    return {
        HOLDER_NAME: holder.get("name"),
        HOLDER_ID: holder.get("id_number"),
        **{f.name: payload["fields"].get(f.name) for f in spec.fields},
    }


def read(licence: Licence, *, public: bool) -> LicenceRead:
    _, payload = issuing.payload_of(licence)
    return from_payload(payload, status=status_of(licence), public=public, licence=licence)


def licence_verify_url(licence: Licence) -> str:
    return issuing.verify_url(licence.number, seal.unb64(licence.signature))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
