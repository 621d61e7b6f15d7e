"""The licence-type data-file format, and the read models of the API.

A licence type says which fields its licences carry (each with its security label: what the
public sees on a verification page), which service items issue it and from which form fields,
how long it is valid, and how it is laid out."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tongban.catalog.schemas import CODE, SNAKE
from tongban.kit.units import UnitName
from tongban.security.schemas import LabelledRead

# What a licence field is filled from: a form field of the item, or the decision itself (its
# date, the department, or a new unified social credit code the registration assigns: 91 a
# company, 92 an individual business, 93 a farmers' cooperative).
SOURCE = r"^([a-z][a-z0-9_]*|decision\.(date|department|credit_code\.9[123]))$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LicenceFieldSpec(_Strict):
    name: str = Field(pattern=SNAKE, max_length=40)
    label_zh: str = Field(min_length=1, max_length=40)
    label_en: str = Field(min_length=1, max_length=80)
    # Who may read the value: the public sees it on a verification page only when this is the
    # lowest grade; otherwise the deployment's masker hides it.
    security_label: str = Field(min_length=1, max_length=400)
    semantic: str = Field(default="other", pattern=SNAKE, max_length=40)
    # The unit the licence shows a number in; a form field in another unit of the same kind is
    # converted (yuan on the form, 万元 on the licence).
    unit: UnitName | None = None


class HolderSpec(_Strict):
    """Labels of a person holder's name and ID number. A company's name and unified social
    credit code are public registration data and always shown."""

    name_label: str = Field(min_length=1, max_length=400)
    id_number_label: str = Field(min_length=1, max_length=400)


class LayoutSpec(_Strict):
    title_zh: str = Field(min_length=1, max_length=20)
    title_en: str = Field(min_length=1, max_length=60)
    # The frame's colour, as on the paper licence (#rrggbb).
    colour: str = Field(default="#8b0000", pattern=r"^#[0-9a-fA-F]{6}$")
    note_zh: str = ""


class LicenceTypeSpec(_Strict):
    code: str = Field(pattern=SNAKE, max_length=40)
    name_zh: str = Field(min_length=1, max_length=40)
    name_en: str = Field(min_length=1, max_length=100)
    # None: valid until revoked (长期).
    valid_years: int | None = Field(default=None, ge=1, le=50)
    holder: HolderSpec
    layout: LayoutSpec
    fields: list[LicenceFieldSpec] = Field(min_length=1)
    # Item code -> {licence field: form field or decision.date/department/credit_code.9x}.
    issued_for: dict[str, dict[str, str]] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [f.name for f in self.fields]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate field names: {dupes}")
        for item, mapping in self.issued_for.items():
            if not re.match(CODE, item):
                raise ValueError(f"{item} is not a service item code")
            unknown = sorted(set(mapping) - set(names))
            if unknown:
                raise ValueError(f"{item} fills fields the type does not have: {unknown}")
            bad = sorted(s for s in mapping.values() if not re.match(SOURCE, s))
            if bad:
                raise ValueError(f"{item}: {bad} are not form fields or decision values")
        return self


# --- read models (API) ---


class FieldRead(BaseModel):
    name: str
    label_zh: str
    label_en: str
    value: str | None


class LicenceRead(LabelledRead):
    number: str
    type_code: str
    type_name_zh: str
    type_name_en: str
    holder_kind: Literal["person", "company"]
    holder_name: str | None
    holder_id_number: str | None
    department_code: str
    department_name: str
    issued_on: date
    expires_on: date | None
    status: Literal["valid", "expired", "revoked"]
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    fields: list[FieldRead]
    verify_url: str
    # Every value shown as it is: only then is the sealed PDF given to this reader.
    whole: bool


class Verdict(BaseModel):
    """What a verification found, in words a person can act on."""

    outcome: Literal["genuine", "expired", "revoked", "not_genuine"]
    message: str
    # The licence as the public may see it; None when it is not genuine.
    licence: LicenceRead | None = None
    # Offline, revocation cannot be known: say so.
    revocation_checked: bool = True


class RevokeRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class PublicKeyRead(BaseModel):
    department_code: str
    department_name: str
    key_id: str
    suite: str
    public_key: str
    created_at: datetime | None


class ShareCreate(BaseModel):
    days: int = Field(default=7, ge=1, le=90)
    note: str = Field(default="", max_length=200)


class ShareRead(BaseModel):
    id: int
    url: str
    note: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    live: bool


class ReuseOffer(BaseModel):
    requirement_code: str
    requirement_name_zh: str
    requirement_name_en: str
    licence_number: str
    licence_type_name_zh: str
    licence_type_name_en: str
    holder_name: str | None
    attached: bool


class ReuseConfirm(BaseModel):
    requirement_code: str
    licence_number: str


class EvidenceRead(BaseModel):
    material_id: int
    requirement_code: str
    licence_number: str
    grade: str
    verified: bool
    message: str
