"""The security data-file formats, validated strictly: a typo is an error at load time."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

CODE = r"^[a-z][a-z0-9_]*$"
# Key ids travel inside encrypted tokens, between dots: no dot, nothing that needs escaping.
KEY_ID = r"^[A-Za-z0-9_-]{1,64}$"
KeyId = Annotated[str, StringConstraints(pattern=KEY_ID)]


class LabelledRead(BaseModel):
    """A read model that carries values under security labels. It is built only through
    mandatory access control (a domain's disclosure), and every route returning one is tried by
    the adversarial read-path tests (tests/security): an architecture test fails otherwise."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class GradeSpec(_Strict):
    code: str = Field(pattern=CODE, max_length=40)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class CompartmentSpec(_Strict):
    code: str = Field(pattern=CODE, max_length=40)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class GradesFile(_Strict):
    # Lowest first: the position in the list is the grade's rank.
    grades: list[GradeSpec] = Field(min_length=1)
    compartments: list[CompartmentSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _codes_are_unique(self) -> Self:
        for kind, codes in (
            ("grade", [g.code for g in self.grades]),
            ("compartment", [c.code for c in self.compartments]),
        ):
            seen: set[str] = set()
            for code in codes:
                if code in seen:
                    raise ValueError(f"{kind} {code} is listed twice")
                seen.add(code)
        return self


MaskFunction = Literal["partial", "hash", "redact", "generalise", "drop"]


class MaskRuleSpec(_Strict):
    function: MaskFunction
    # partial: how many characters stay visible at each end.
    keep_start: int | None = Field(default=None, ge=0, le=32)
    keep_end: int | None = Field(default=None, ge=0, le=32)
    # generalise: to what.
    to: Literal["year", "district"] | None = None

    @model_validator(mode="after")
    def _parameters_fit_the_function(self) -> Self:
        has_keep = self.keep_start is not None or self.keep_end is not None
        if self.function == "partial":
            if self.keep_start is None or self.keep_end is None:
                raise ValueError("partial needs keep_start and keep_end")
        elif has_keep:
            raise ValueError("keep_start and keep_end are for partial")
        if (self.function == "generalise") != (self.to is not None):
            raise ValueError("generalise needs `to` (year or district), and only it has one")
        return self


class MaskingFile(_Strict):
    semantic_types: dict[str, MaskRuleSpec]
    # A rule here applies to fields at this grade and above (until a higher grade's rule), and
    # wins over the semantic type's rule.
    grades: dict[str, MaskRuleSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_a_rule_for_other(self) -> Self:
        if "other" not in self.semantic_types:
            raise ValueError("semantic_types must have a rule for `other`")
        return self


class KeyFile(_Strict):
    current: KeyId
    # Key id → base64 key. Old keys stay listed so old data stays readable.
    keys: dict[KeyId, str] = Field(min_length=1)

    @model_validator(mode="after")
    def _current_is_listed(self) -> Self:
        if self.current not in self.keys:
            raise ValueError(f"the current key {self.current} is not among the keys")
        return self
