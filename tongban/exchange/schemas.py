"""Data-file formats of the resource catalog (strict: a typo is an error at load) and API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tongban.exchange.models import RequestStatus, Sharing
from tongban.security.schemas import LabelledRead

CODE = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$"
SNAKE = r"^[a-z][a-z0-9_]*$"
# How many days back the figures of calls go, at most.
MAX_USAGE_DAYS = 90
UsageDays = Annotated[int, Field(ge=1, le=MAX_USAGE_DAYS, description="Days back")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ItemSpec(_Strict):
    code: str = Field(pattern=SNAKE, max_length=40)
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    meaning_zh: str = ""
    meaning_en: str = ""
    type: Literal["string", "integer", "number", "date", "boolean", "code"]
    format: str = Field(default="", max_length=200)
    # A standard data element (resources' elements file) the item is an instance of.
    element: str | None = Field(default=None, pattern=SNAKE)
    # Required: who may read the item; checked against the deployment's grades at load.
    security_label: str = Field(min_length=1, max_length=400)
    # Picks the masking rule for readers below the label (id_number, name, phone, …).
    semantic: str = Field(default="other", pattern=SNAKE, max_length=40)
    maintainer: str = Field(min_length=1, max_length=100)
    sharing: Sharing
    condition_zh: str = ""
    condition_en: str = ""
    purposes: list[str] = Field(default_factory=list)
    legal_basis: str = ""
    # The providing system's field name; the item's code if the same.
    source_field: str | None = Field(default=None, max_length=80)
    # Part of a conditional sharing: fetched for a person's application only with their consent.
    consent: bool = False

    @model_validator(mode="after")
    def _condition_fits_sharing(self) -> Self:
        if self.consent and self.sharing is not Sharing.CONDITIONAL:
            raise ValueError(f"only a conditional item asks for consent ({self.code})")
        if self.sharing is Sharing.CONDITIONAL and not (self.condition_zh and self.purposes):
            raise ValueError(
                f"conditional item {self.code} needs condition_zh and the purposes it allows"
            )
        if self.sharing is not Sharing.CONDITIONAL and self.purposes:
            raise ValueError(f"only conditional items list purposes ({self.code})")
        if self.sharing is Sharing.NOT_SHARED and not self.legal_basis:
            raise ValueError(f"item {self.code} is not shared: give the legal basis")
        return self


class ResourceSpec(_Strict):
    code: str = Field(pattern=CODE, max_length=40)
    title_zh: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=300)
    description_zh: str = ""
    description_en: str = ""
    department: str
    # Exactly one: the department system that serves the data, or the platform's own store.
    system: str | None = None
    store: Literal["persons"] | None = None
    key: str = Field(pattern=SNAKE, max_length=40)
    update_frequency: Literal["realtime", "daily", "weekly", "monthly", "quarterly", "yearly"]
    format: str = Field(default="JSON", max_length=40)
    open_data: bool = False
    items: list[ItemSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.system is None) == (self.store is None):
            raise ValueError("give either the serving system or the platform store, not both")
        codes = [i.code for i in self.items]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"duplicate item codes: {dupes}")
        if not self.code.startswith(f"{self.department}-"):
            raise ValueError(f"resource code {self.code} must start with its department code")
        return self


# --- API shapes --------------------------------------------------------------------------------


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ItemRead(_Read):
    code: str
    name_zh: str
    name_en: str
    meaning_zh: str
    meaning_en: str
    type: str
    format: str
    element: str | None
    security_label: str
    maintainer: str
    sharing: Sharing
    condition_zh: str
    condition_en: str
    purposes: list[str]
    legal_basis: str


class ResourceRead(_Read):
    code: str
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    department: str
    system: str | None
    store: str | None
    key: str
    update_frequency: str
    format: str
    open_data: bool
    version: int
    items: list[ItemRead]


class SharingRequestIn(BaseModel):
    resource: str = Field(examples=["MCA-MARRIAGE"])
    system: str = Field(description="The requesting department's system that will call.")
    items: list[str] = Field(min_length=1)
    purpose: str = Field(pattern=SNAKE, max_length=60, examples=["social_assistance_review"])
    purpose_text: str = Field(min_length=1, max_length=2000)
    legal_basis: str = Field(min_length=1, max_length=2000)
    days: int = Field(ge=1, le=1830, description="How long the grant lasts.")


class DecisionIn(BaseModel):
    approve: bool
    items: list[str] | None = Field(
        default=None, description="Approve fewer items than asked; all pending ones if absent."
    )
    reason: str = Field(default="", max_length=2000)


class RevokeIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class GrantRead(_Read):
    id: int
    resource: str
    system: str
    items: list[str]
    purpose: str
    granted_at: datetime
    expires_at: datetime
    rate_per_minute: int
    revoked_at: datetime | None
    revoke_reason: str
    calls: int = 0


class SharingRequestRead(_Read):
    id: int
    resource: str
    requester: str
    system: str
    items: list[str]
    pending_items: list[str]
    purpose: str
    purpose_text: str
    legal_basis: str
    days: int
    status: RequestStatus
    requested_at: datetime
    decided_at: datetime | None
    decision_reason: str
    grants: list[GrantRead]


class GatewayQuery(BaseModel):
    resource: str
    purpose: str = Field(pattern=SNAKE, max_length=60)
    keys: list[str] = Field(min_length=1, description="Up to 100 keys (e.g. ID numbers).")
    items: list[str] | None = Field(default=None, description="A subset of the granted items.")


class GatewayRecord(BaseModel):
    key: str
    found: bool
    record: dict[str, object] | None
    # Absent from an answer forwarded by a node that predates the per-key code.
    error: Literal["unknown_key"] | None = Field(
        default=None, description="unknown_key: no record is held for this key; else null."
    )


class GatewayAnswer(LabelledRead):
    resource: str
    purpose: str
    items: list[str]
    records: list[GatewayRecord]
