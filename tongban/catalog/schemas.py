"""The catalog's data-file format and its read models. Loading validates strictly: a typo in a
data file is an error at load time, not a broken form in front of a citizen."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tongban.kit.units import UnitName

CODE = r"^[A-Z][A-Z0-9]*-\d{4}$"
SNAKE = r"^[a-z][a-z0-9_]*$"
FieldType = Literal[
    "text",
    "textarea",
    "number",
    "date",
    "select",
    "id_number",
    "credit_code",
    "phone",
    "email",
    "checkbox",
]
FileType = Literal["pdf", "jpg", "png"]
GeneratedKind = Literal["application_form", "declaration", "commitment"]
# The assurance levels of ``identity.credentials`` (password; with an authenticator code).
AssuranceLevel = Literal["tongban:loa:1", "tongban:loa:2"]
RESOURCE_CODE = r"^[A-Z][A-Z0-9-]{1,39}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Bilingual(_Strict):
    @model_validator(mode="after")
    def _lists_pair_up(self) -> Self:
        for name in type(self).model_fields:
            if name.endswith("_zh"):
                zh, en = getattr(self, name), getattr(self, name[:-3] + "_en", None)
                if isinstance(zh, list) and (not isinstance(en, list) or len(zh) != len(en)):
                    raise ValueError(f"{name} and {name[:-3]}_en must have the same length")
        return self


class DepartmentSpec(_Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9]{1,19}$")
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    address_zh: str = ""
    address_en: str = ""
    phone: str = ""


class OptionSpec(_Strict):
    value: str = Field(pattern=SNAKE)
    label_zh: str
    label_en: str


# A field named for a typed identifier must have that type, so that the form checks it exactly as
# registration does (a credit code's check character, a resident ID's birth date …).
IDENTIFIER_NAMES: dict[str, str] = {
    "id_number": "id_number",
    "credit_code": "credit_code",
    "uscc": "credit_code",
}


class FieldSpec(_Strict):
    name: str = Field(pattern=SNAKE, max_length=40)
    type: FieldType
    label_zh: str
    label_en: str
    required: bool = False
    max_length: int | None = Field(default=None, ge=1, le=5000)
    min: Decimal | None = None
    max: Decimal | None = None
    # The unit a number is asked in (yuan, 10k_yuan …): a licence showing it in another unit
    # converts it.
    unit: UnitName | None = None
    options: list[OptionSpec] | None = None
    help_zh: str = ""
    help_en: str = ""
    # The classification label, ``grade`` or ``grade:compartment,…`` (e.g. ``important:health``):
    # who may read the value. Required: an unlabelled field is refused when the catalog loads.
    security_label: str = Field(min_length=1, max_length=400)
    # Picks the masking rule for readers below the label (id_number, name, phone, birth_date,
    # address…); by default the field type's (id_number and phone fields), else ``other``.
    semantic: str | None = Field(default=None, pattern=SNAKE, max_length=40)
    # Where the government already holds this value, so the applicant need not type it:
    # ``applicant.name|id_number|phone`` (the signed-in person) or ``<SYSTEM>.<element>`` (a
    # department system's lookup).
    source: str | None = Field(
        default=None,
        pattern=r"^(applicant\.(name|id_number|phone)|[A-Z][A-Z0-9_-]{1,39}\.[a-z][a-z0-9_]*)$",
    )

    @property
    def semantic_type(self) -> str:
        if self.semantic:
            return self.semantic
        return self.type if self.type in ("id_number", "phone") else "other"

    @model_validator(mode="after")
    def _options_only_for_select(self) -> Self:
        if self.type == "select" and (not self.options or len(self.options) < 2):
            raise ValueError(f"select field {self.name} needs at least two options")
        if self.type != "select" and self.options:
            raise ValueError(f"only select fields have options ({self.name})")
        if self.max_length is not None and self.type not in ("text", "textarea"):
            raise ValueError(f"max_length is for text fields ({self.name})")
        if (self.min is not None or self.max is not None) and self.type != "number":
            raise ValueError(f"min/max are for number fields ({self.name})")
        if self.unit is not None and self.type != "number":
            raise ValueError(f"a unit is for number fields ({self.name})")
        typed = IDENTIFIER_NAMES.get(self.name)
        if typed is not None and self.type != typed:
            raise ValueError(f"field {self.name} holds an identifier: its type must be {typed}")
        return self


class MaterialSpec(_Strict):
    code: str = Field(pattern=SNAKE, max_length=40)
    name_zh: str
    name_en: str
    form: Literal["original", "copy", "electronic"]
    required: bool
    types: list[FileType] = Field(min_length=1)
    max_mb: int = Field(ge=1, le=20)
    note_zh: str = ""
    note_en: str = ""
    # The credibility grade the evidence must reach before the case can be approved
    # (applications.evidence): A issued by the department, B checked against the original at a
    # counter, C uploaded, D declared.
    required_grade: Literal["A", "B", "C", "D"] = "C"
    # A licence type (``tongban/licences/data``) whose valid electronic licence, held by the
    # applicant or the company they act for, stands in for this material: no upload needed.
    satisfied_by_licence: str | None = Field(default=None, pattern=SNAKE, max_length=40)
    # What the platform produces from the filled form instead (``applications.generated``): the
    # application form itself, a declaration, or a commitment letter (告知承诺书), signed for the
    # applicant at their sign-in's assurance level.
    generated: GeneratedKind | None = None
    # The applicant's own identity document: not asked of a person signed in at this assurance
    # level (OIDC acr) or higher, nor of a company's representative acting for it.
    satisfied_by_identity: AssuranceLevel | None = None
    # An exchange resource (``exchange`` data resource catalog) holding this fact: fetched
    # through the handling department's grant at application time instead of an upload.
    satisfied_by_data: str | None = Field(default=None, pattern=RESOURCE_CODE, max_length=40)

    @model_validator(mode="after")
    def _one_kind_of_generation(self) -> Self:
        if self.generated and (self.satisfied_by_identity or self.satisfied_by_data):
            raise ValueError(f"material {self.code}: a generated material is not fetched too")
        provided = (
            self.generated,
            self.satisfied_by_identity,
            self.satisfied_by_data,
            self.satisfied_by_licence,
        )
        if any(provided) and "pdf" not in self.types:
            # What the platform attaches in place of an upload is a PDF.
            raise ValueError(f"material {self.code}: a material the platform provides is a PDF")
        return self


class ItemSpec(_Bilingual):
    code: str = Field(pattern=CODE)
    department: str
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    audience: Literal["person", "company", "both"]
    summary_zh: str = ""
    summary_en: str = ""
    legal_basis_zh: list[str] = Field(min_length=1)
    legal_basis_en: list[str] = Field(min_length=1)
    conditions_zh: list[str] = []
    conditions_en: list[str] = []
    statutory_days: int = Field(ge=0, le=365)
    promised_days: int = Field(ge=0, le=365)
    fee: Decimal = Field(ge=0, decimal_places=2)
    fee_basis_zh: str = ""
    fee_basis_en: str = ""
    online: bool
    offline: bool
    max_visits: int = Field(ge=0, le=1)
    result_zh: str
    result_en: str
    materials: list[MaterialSpec] = []
    fields: list[FieldSpec] = Field(min_length=1)

    @field_validator("fee", mode="before")
    @classmethod
    def _fee_is_exact(cls, value: object) -> object:
        # A float fee in YAML (12.5) would carry binary rounding; ask for a string.
        if isinstance(value, float):
            raise ValueError('write the fee as a quoted string, e.g. "120.00"')
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.promised_days > self.statutory_days:
            raise ValueError("promised_days cannot exceed statutory_days")
        if not (self.online or self.offline):
            raise ValueError("an item must be available online, offline or both")
        for kind, names in (
            ("field", [f.name for f in self.fields]),
            ("material", [m.code for m in self.materials]),
        ):
            dupes = {n for n in names if names.count(n) > 1}
            if dupes:
                raise ValueError(f"duplicate {kind} names: {sorted(dupes)}")
        if not re.match(rf"^{re.escape(self.department)}-", self.code):
            raise ValueError(f"item code {self.code} must start with its department code")
        return self


# --- read models (API) ---


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class DepartmentRead(_Read):
    code: str
    name_zh: str
    name_en: str
    address_zh: str
    address_en: str
    phone: str


class MaterialRead(_Read):
    code: str
    name_zh: str
    name_en: str
    form: str
    required: bool
    types: list[str]
    max_mb: int
    note_zh: str
    note_en: str
    required_grade: str
    satisfied_by_licence: str | None = None
    generated: str | None = None
    satisfied_by_identity: str | None = None
    satisfied_by_data: str | None = None


class ItemSummary(_Read):
    code: str
    name_zh: str
    name_en: str
    department: DepartmentRead
    audience: str
    online: bool
    offline: bool
    promised_days: int
    fee: Decimal


class ItemRead(ItemSummary):
    summary_zh: str
    summary_en: str
    legal_basis_zh: list[str]
    legal_basis_en: list[str]
    conditions_zh: list[str]
    conditions_en: list[str]
    statutory_days: int
    fee_basis_zh: str
    fee_basis_en: str
    max_visits: int
    result_zh: str
    result_en: str
    materials: list[MaterialRead]
    fields: list[FieldSpec]
    version: int
