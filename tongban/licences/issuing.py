"""Issuing a licence when a case is approved: the structured data from the case form (read
through ``applications.disclosure``), signed by the department's key, rendered and sealed."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from tongban.applications import disclosure
from tongban.applications.models import Application
from tongban.catalog.models import Department
from tongban.catalog.schemas import FieldSpec
from tongban.config import get_settings
from tongban.identity import numbers
from tongban.identity.models import Account, LegalPerson
from tongban.kit import ids, units
from tongban.kit.clock import local_today
from tongban.kit.units import UnitName
from tongban.licences import keys, pdf, seal
from tongban.licences.models import Licence
from tongban.licences.schemas import LicenceTypeSpec
from tongban.resources.identifiers import organisation_code_check
from tongban.security import deployment
from tongban.security.crypto import get_suite


def verify_url(number: str, signature: bytes) -> str:
    base = get_settings().public_url.rstrip("/")
    return f"{base}/licences/verify?n={number}&s={seal.b64(signature)}"


def licence_number(
    department: Department, application: Application, today: date, ordinal: int = 0
) -> str:
    # Derived from the case and the licence's place among the case's types, so a case never
    # carries the same licence twice; checkable like every number shown to people.
    body = f"{department.code}{today:%Y}L{application.id:08d}{ordinal or ''}"
    return body + ids.check_characters(body)


def expiry(spec: LicenceTypeSpec, issued_on: date) -> date | None:
    if spec.valid_years is None:
        return None
    try:
        end = issued_on.replace(year=issued_on.year + spec.valid_years)
    except ValueError:  # 29 February
        end = issued_on.replace(year=issued_on.year + spec.valid_years, day=28)
    return end - timedelta(days=1)


def issue(
    session: Session,
    spec: LicenceTypeSpec,
    application: Application,
    applicant: Account,
    department: Department,
    ordinal: int = 0,
) -> Licence:
    """Build, sign, render and store the licence (``ordinal``: its place among the licences
    the case issues); the caller checked who may issue it."""
    today = local_today()
    form = disclosure.disclose(session, applicant, application).values
    specs = {f.name: f for f in disclosure.case_fields(application)}
    # The covered item this type is issued for (a department application may cover several).
    mapping = next(spec.issued_for[i.code] for i in application.items if i.code in spec.issued_for)
    fields = {
        f.name: _value(mapping.get(f.name), form, specs, today, department, application, f.unit)
        for f in spec.fields
    }
    company: LegalPerson | None = application.legal_person
    if company is not None:
        holder: dict[str, str | None] = {
            "kind": "company",
            "name": company.name,
            "id_number": company.uscc,
        }
    else:
        holder = {
            "kind": "person",
            "name": applicant.display_name,
            "id_number": applicant.id_number or _form_id_number(form, specs),
        }
    key = keys.current(session, department)
    number = licence_number(department, application, today, ordinal)
    expires_on = expiry(spec, today)
    payload: dict[str, Any] = {
        "v": seal.VERSION,
        "number": number,
        "type": spec.code,
        "type_name": spec.name_zh,
        "holder": holder,
        "department": {"code": department.code, "name": department.name_zh},
        "issued_on": today.isoformat(),
        "expires_on": expires_on.isoformat() if expires_on else None,
        "fields": fields,
        "suite": key.suite,
        "key_id": key.key_id,
    }
    text = seal.payload_text(payload)
    private = keys.private_key(key)
    signature = seal.sign_payload(key.suite, private, text)
    signer = get_suite(key.suite)
    rendered = pdf.render(
        spec, payload, verify_url(number, signature), seal.info_entries(text, signature)
    )
    sealed = seal.seal_pdf(rendered, lambda data: signer.sign(private, data))
    licence = Licence(
        number=number,
        type_code=spec.code,
        application_id=application.id,
        department_id=department.id,
        holder_account_id=applicant.id,
        holder_legal_person_id=company.id if company is not None else None,
        issued_on=today,
        expires_on=expires_on,
        sealed_payload=deployment.key_ring().encrypt_field(text, aad=payload_aad(number)),
        signature=seal.b64(signature),
        key_id=key.key_id,
        encrypted_pdf=deployment.key_ring()
        .encrypt_field(sealed, aad=_aad(number, "pdf"))
        .encode("ascii"),
    )
    session.add(licence)
    session.flush()
    return licence


def _aad(number: str, part: str) -> bytes:
    return f"licence:{number}:{part}".encode()


def payload_aad(number: str) -> bytes:
    return _aad(number, "payload")


def pdf_of(licence: Licence) -> bytes:
    """The sealed PDF as issued."""
    token = licence.encrypted_pdf.decode("ascii")
    return deployment.key_ring().decrypt_field(token, aad=_aad(licence.number, "pdf"))


def payload_of(licence: Licence) -> tuple[str, dict[str, Any]]:
    text = deployment.key_ring().decrypt_text(
        licence.sealed_payload, aad=payload_aad(licence.number)
    )
    return text, json.loads(text)


def _value(
    source: str | None,
    form: dict[str, Any],
    specs: dict[str, FieldSpec],
    today: date,
    department: Department,
    application: Application,
    unit: UnitName | None = None,
) -> str | None:
    if source is None:
        return None
    if source == "decision.date":
        return today.isoformat()
    if source == "decision.department":
        return department.name_zh
    if source.startswith("decision.credit_code."):
        return new_credit_code(source.rsplit(".", 1)[1], application)
    value = form.get(source)
    if value in (None, ""):
        return None
    field = specs.get(source)
    if field is not None and field.options:
        # A licence states the option as words, not as the form's code.
        return next((o.label_zh for o in field.options if o.value == value), str(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if field is not None and field.unit is not None and unit is not None:
        # The form's unit may differ from the licence's (yuan asked, 万元 printed): exact.
        return units.plain(units.convert(Decimal(str(value)), field.unit, unit))
    return str(value)


# GB 32100's alphabet: the organisation code part is written in it too.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def new_credit_code(kind: str, application: Application) -> str:
    """The unified social credit code a registration assigns (GB 32100): ``kind`` (registration
    authority 9, market regulation, and the entity type), the deployment's region, an
    organisation code drawn from the case (unique in the deployment, with its GB 11714 check
    character) and the check character of the whole."""
    body, n = "", application.id
    for _ in range(8):
        n, digit = divmod(n, len(_USCC_ALPHABET))
        body = _USCC_ALPHABET[digit] + body
    if n:
        raise ValueError(f"case {application.id} is beyond the organisation codes of a region")
    first17 = f"{kind}{get_settings().region_code}{body}{organisation_code_check(body)}"
    return first17 + numbers.uscc_check_character(first17)


def _form_id_number(form: dict[str, Any], specs: dict[str, FieldSpec]) -> str | None:
    for name, field in specs.items():
        if field.type == "id_number" and form.get(name):
            return str(form[name])
    return None
