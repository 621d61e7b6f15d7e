"""The shape of a proactive service rule file, and what the API returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BirthRegistered(_Strict):
    """A child's birth was registered within the last ``within_days`` days: offer to the
    relatives named in ``to`` (the child is the subject)."""

    kind: Literal["birth_registered"]
    within_days: int = Field(ge=1, le=366)
    to: list[Literal["father", "mother"]] = Field(min_length=1)


class AgeReached(_Strict):
    """A person turned ``years`` old within the last ``within_days`` days."""

    kind: Literal["age_reached"]
    years: int = Field(ge=1, le=130)
    within_days: int = Field(ge=1, le=366)


class DateWithin(_Strict):
    """A company's date element falls within the next ``days`` days (a licence expires)."""

    kind: Literal["date_within"]
    element: str
    days: int = Field(ge=1, le=366)


class CountReached(_Strict):
    """A company's count element went from below ``at_least`` to at least it (the first
    employee: from nothing or 0 to 1 or more), by its change history."""

    kind: Literal["count_reached"]
    element: str
    at_least: int = Field(ge=1)


Trigger = Annotated[
    BirthRegistered | AgeReached | DateWithin | CountReached, Field(discriminator="kind")
]


class OfferSpec(_Strict):
    item: str | None = None
    bundle: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.item is None) == (self.bundle is None):
            raise ValueError("offer exactly one of item or bundle")
        return self


class Constant(_Strict):
    value: str


class GrantSpec(_Strict):
    """免申即享: granted without application, under this legal basis."""

    legal_basis_zh: str = Field(min_length=1, max_length=300)
    legal_basis_en: str = Field(min_length=1, max_length=300)


class RuleSpec(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=60)
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    subject: Literal["person", "company"]
    trigger: Trigger
    offer: OfferSpec
    # Form field -> where its value comes from: ``subject.<element>`` (whom the occasion is
    # about), ``recipient.<element>`` (the person offered to) or a constant ``{value: ...}``.
    prefill: dict[str, str | Constant] = Field(default_factory=dict)
    grant: GrantSpec | None = None
    active: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        company_trigger = self.trigger.kind in ("date_within", "count_reached")
        if company_trigger != (self.subject == "company"):
            raise ValueError(f"a {self.trigger.kind} trigger needs subject {self.subject}")
        if self.grant is not None and self.offer.item is None:
            raise ValueError("only an item (not a bundle) can be granted without application")
        return self


class OfferRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    rule: str
    rule_name: str
    item_code: str | None
    bundle_code: str | None
    item_name: str
    subject_ref: str
    occasion: str
    status: str
    created_at: datetime
    application_number: str | None
    prefill: dict[str, str]
    legal_basis: str | None


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    rule: str
    status: str
    population: int
    candidates: int
    offers: int
    started_at: datetime
    finished_at: datetime | None
