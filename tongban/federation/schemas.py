"""Node descriptions, the registry document and the read models of the federation API."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tongban.federation.models import NodeLevel
from tongban.security.crypto import SUITE_NAMES

REGION_CODE = r"^\d{6}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class NodeSpec(_Strict):
    """A node as the registry lists it. Region codes follow GB/T 2260: a province ends in 0000,
    a city in 00 and lies in its parent province."""

    code: str = Field(pattern=REGION_CODE)
    name: str = Field(min_length=1, max_length=200)
    level: NodeLevel
    parent: str | None = Field(default=None, pattern=REGION_CODE)
    url: str = Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$", max_length=300)
    suite: str
    public_key: str = Field(pattern=r"^[0-9a-f]+$", max_length=200)

    @field_validator("suite")
    @classmethod
    def _known_suite(cls, value: str) -> str:
        if value not in SUITE_NAMES:
            raise ValueError(f"suite must be one of {', '.join(SUITE_NAMES)}")
        return value

    @field_validator("url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _levels_fit_codes(self) -> Self:
        code, parent = self.code, self.parent
        if self.level is NodeLevel.NATIONAL:
            if parent is not None:
                raise ValueError("the national node has no parent")
        elif parent is None:
            raise ValueError("a provincial or city node names its parent")
        elif self.level is NodeLevel.PROVINCIAL:
            if not code.endswith("0000"):
                raise ValueError("a province's code ends in 0000")
        elif not (code.endswith("00") and not code.endswith("0000")):
            raise ValueError("a city's code ends in 00 but not 0000")
        elif parent != code[:2] + "0000":
            raise ValueError("a city's parent is its province (the code's first two digits)")
        return self


class RegistryDocument(_Strict):
    issuer: str = Field(pattern=REGION_CODE)
    version: int = Field(ge=1)
    issued_at: datetime
    nodes: list[NodeSpec]


class SignedRegistry(BaseModel):
    """What a node serves and fetches: the document exactly as signed, and the signature."""

    document: str
    signature: str


class NodeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    level: NodeLevel
    parent_code: str | None
    url: str
    suite: str
    public_key: str
