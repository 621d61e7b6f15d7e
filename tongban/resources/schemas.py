"""Formats of master data: department record files (CSV), the data element file (YAML), and
what the API returns."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tongban.kit.i18n import N_
from tongban.resources.errors import RecordFileInvalid
from tongban.security.schemas import LabelledRead

RECORD_COLUMNS = ("local_id", "name", "sex", "birth_date", "id_number", "phone", "address")
_SEX = {"M": "M", "F": "F", "男": "M", "女": "F", "1": "M", "2": "F"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RecordIn(_Strict):
    """One department record. A malformed ID number is accepted here and flagged on the
    record; a record without a local id or name, or with an impossible date, is refused."""

    local_id: str = Field(min_length=1, max_length=80)
    name: str = Field(min_length=1, max_length=100)
    sex: Literal["M", "F"] | None = None
    birth_date: str | None = None
    id_number: str | None = Field(default=None, max_length=40)
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=300)

    @field_validator("sex", mode="before")
    @classmethod
    def _sex(cls, value: object) -> object:
        if value is None or value == "":
            return None
        if isinstance(value, str) and value.strip() in _SEX:
            return _SEX[value.strip()]
        raise ValueError("sex is M, F, 男 or 女")

    @field_validator("birth_date", "id_number", "phone", "address", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("birth_date")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        if value is not None:
            date.fromisoformat(value)  # ValueError for 2001-02-30 or 20010230
            if len(value) != 10:
                raise ValueError("birth_date is written YYYY-MM-DD")
        return value


def read_record_csv(text: str) -> list[RecordIn]:
    """Every row of a department's CSV file, or RecordFileInvalid naming the lines that are
    wrong (all of them, so the file can be fixed in one go); nothing is half read."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in ("local_id", "name") if c not in header]
    unknown = [c for c in header if c not in RECORD_COLUMNS]
    if missing or unknown:
        raise RecordFileInvalid(
            N_("The first line must name the columns {columns}; wrong: {wrong}."),
            columns=", ".join(RECORD_COLUMNS),
            wrong=", ".join(missing + unknown),
        )
    rows: list[RecordIn] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        values = {k.strip(): v for k, v in row.items() if k is not None}
        if None in row:
            problems.append(f"{line}: too many fields")
            continue
        try:
            record = RecordIn.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            problems.append(f"{line}: {where}: {first['msg']}")
            continue
        if record.local_id in seen:
            problems.append(
                f"{line}: local_id {record.local_id} repeats line {seen[record.local_id]}"
            )
            continue
        seen[record.local_id] = line
        rows.append(record)
    if problems:
        raise RecordFileInvalid(
            N_("Nothing was loaded: {count} line(s) are wrong: {lines}"),
            count=len(problems),
            lines="; ".join(problems[:20]),
        )
    return rows


class ElementSpec(_Strict):
    code: Literal["name", "sex", "birth_date", "id_number", "phone", "address"]
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    authority: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    subscribers: list[str] = Field(default_factory=list)
    meaning_zh: str = Field(min_length=1)
    meaning_en: str = Field(min_length=1)
    format: str = Field(min_length=1, max_length=200)
    # Required: an element nobody labelled is refused when the file loads.
    security_label: str = Field(min_length=1, max_length=400)


# --- what the API returns ----------------------------------------------------------------------


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class IdentifierRead(_Read):
    scheme: str
    value: str
    issuer: str
    problem: str


class RecordRead(_Read, LabelledRead):
    id: int
    source: str
    local_id: str
    name: str
    sex: str | None
    birth_date: str | None
    id_number: str | None
    phone: str | None
    address: str | None
    id_problem: str
    person_pid: str | None = None


class LinkEventRead(_Read):
    id: int
    record_id: int
    from_pid: str | None
    to_pid: str | None
    reason: str
    match_probability: float | None
    actor: str | None
    at: datetime
    undone_at: datetime | None


class PersonRead(_Read, LabelledRead):
    pid: str
    name: str
    sex: str | None
    birth_date: str | None
    active: bool
    identifiers: list[IdentifierRead]
    records: list[RecordRead]
    history: list[LinkEventRead]


class CompanyRead(_Read, LabelledRead):
    cid: str
    name: str
    identifiers: list[IdentifierRead]


class ReviewRead(_Read, LabelledRead):
    id: int
    status: str
    # None for a reader who may not read every compared element: they are computed from them.
    match_probability: float | None
    match_weight: float | None
    # Only the elements the reader may read.
    evidence: dict[str, float]
    record_a: RecordRead
    record_b: RecordRead


class ResolveReport(_Read):
    records: int
    pairs_scored: int
    linked: int
    new_persons: int
    reviews_opened: int
    seconds: float
    model: str
    prior: float
    engine: str


class ImportReport(_Read):
    source: str
    created: int
    updated: int
    flagged: int


class ConflictRead(_Read, LabelledRead):
    id: int
    pid: str
    element: str
    authority: str
    authority_value: str | None
    other_source: str
    other_value: str | None
    status: str
    created_at: datetime
    # How and when it was closed, with the note or reason, and by whom (a username).
    resolution: str | None
    resolved_at: datetime | None
    note: str
    closed_by: str | None


class ConflictConfirm(BaseModel):
    note: str = Field(default="", max_length=2000)


class ConflictCorrect(BaseModel):
    value: str = Field(max_length=300, examples=["临江市解放路9号"])
    note: str = Field(default="", max_length=2000)


class ConflictDismiss(BaseModel):
    reason: str = Field(max_length=2000)


class QualityRow(_Read):
    source: str
    element: str
    records: int
    completeness: float
    validity: float | None
    consistency: float | None
    timeliness: float
