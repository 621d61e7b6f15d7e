"""A licence as a reader sees it, through mandatory access control like a case: whole for its
holder; for an official, what their clearance dominates (an official of the issuing department
has no more right to a labelled field than to the same field on the case); for everyone else (a
verification page, a share link) only what its labels allow the public. The rest is masked by
the deployment's masker. Every read path of a licence builds its read model here."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from sqlalchemy.orm import Session

from tongban.identity.models import Account
from tongban.kit.clock import local_today
from tongban.licences import issuing, policy, seal, types
from tongban.licences.models import Licence
from tongban.licences.schemas import FieldRead, LicenceRead, LicenceTypeSpec
from tongban.security import access, deployment, mac
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


def public_clearance() -> Clearance:
    """What anyone may see: the bottom of the lattice."""
    return Clearance(deployment.scheme().lowest)


def clearance_of(
    session: Session, reader: Account, licence: Licence, acting_for: int | None
) -> Clearance:
    """The holder reads their own licence whole; an official by their clearance; anyone
    else as the public."""
    if reader.is_applicant and policy.is_holder(reader, licence, acting_for):
        return deployment.top_clearance()
    if reader.is_official:
        return access.clearance_for(session, reader)
    return public_clearance()


def _plan(payload: dict[str, Any], clearance: Clearance) -> mac.ReadPlan:
    spec = types.get(str(payload["type"]))
    return mac.plan(clearance, schema(spec, payload["holder"]["kind"]), masker=deployment.masker())


def shows_whole(payload: dict[str, Any], clearance: Clearance) -> bool:
    """Whether ``clearance`` reads every value of the licence as it is (nothing masked): only
    then may the reader have the sealed PDF, which cannot be masked without breaking its seal."""
    plan = _plan(payload, clearance)
    return plan.readable >= plan.known


def from_payload(
    payload: dict[str, Any],
    *,
    status: Status,
    clearance: Clearance,
    licence: Licence | None = None,
    show_reason: bool = False,
) -> LicenceRead:
    """The read model of a signed payload as a reader cleared ``clearance`` may see it;
    ``show_reason``: the revocation's reason (the holder's and the department's to know)."""
    spec = types.get(str(payload["type"]))
    holder = payload["holder"]
    values = values_for(payload, clearance)
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
        revoked_reason=licence.revoked_reason if licence is not None and show_reason else None,
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
        whole=shows_whole(payload, clearance),
    )


def values_for(payload: dict[str, Any], clearance: Clearance) -> dict[str, Any]:
    """The holder's name and number and the licence's fields, as a reader cleared
    ``clearance`` may see them (the rest masked)."""
    spec = types.get(str(payload["type"]))
    return _plan(payload, clearance).apply([_values(spec, payload)])[0]


def _values(spec: LicenceTypeSpec, payload: dict[str, Any]) -> dict[str, Any]:
    holder = payload["holder"]
    return {
        HOLDER_NAME: holder.get("name"),
        HOLDER_ID: holder.get("id_number"),
        **{f.name: payload["fields"].get(f.name) for f in spec.fields},
    }


def read(licence: Licence, clearance: Clearance, *, show_reason: bool) -> LicenceRead:
    _, payload = issuing.payload_of(licence)
    return from_payload(
        payload,
        status=status_of(licence),
        clearance=clearance,
        licence=licence,
        show_reason=show_reason,
    )


def disclose(
    session: Session, reader: Account, licence: Licence, acting_for: int | None
) -> LicenceRead:
    """The licence as ``reader`` may see it (``acting_for``: the company they act for)."""
    return read(licence, clearance_of(session, reader, licence, acting_for), show_reason=True)


def public_read(licence: Licence) -> LicenceRead:
    """The licence as the public may see it (a share link, a verification)."""
    return read(licence, public_clearance(), show_reason=False)


def licence_verify_url(licence: Licence) -> str:
    return issuing.verify_url(licence.number, seal.unb64(licence.signature))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
