"""The columns the model compares, made from a department record: names folded to simplified
characters and turned into toneless pinyin, addresses folded, phones reduced to their digits,
old 15-digit ID numbers upgraded, and two columns the rules need: whether an ID number passed
GB 11643's check as given, and the New Year a birth date sits next to."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, Protocol

import opencc
import pyarrow as pa
from pypinyin import lazy_pinyin

from tongban.identity import numbers


class RecordLike(Protocol):
    @property
    def unique_id(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def sex(self) -> str | None: ...
    @property
    def birth_date(self) -> str | None: ...
    @property
    def id_number(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def address(self) -> str | None: ...


_to_simplified = opencc.OpenCC("t2s")


@lru_cache(maxsize=200_000)
def fold_name(name: str) -> str:
    """Full-width forms folded (NFKC), spaces and the middle dot of minority names dropped,
    traditional characters folded to simplified."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch for ch in text if not ch.isspace() and ch not in "·•.")
    folded: str = _to_simplified.convert(text)
    return folded


@lru_cache(maxsize=200_000)
def name_pinyin(folded: str) -> str:
    return "".join(lazy_pinyin(folded)).lower()


@lru_cache(maxsize=200_000)
def fold_address(address: str) -> str:
    text = unicodedata.normalize("NFKC", address)
    folded: str = _to_simplified.convert("".join(ch for ch in text if not ch.isspace()))
    return folded


# The province (or a municipality's name) that opens an address and is often left out.
_PROVINCE = re.compile(r"^(?:.{1,8}?(?:省|自治区|特别行政区)|(?:北京|上海|天津|重庆)市)")


@lru_cache(maxsize=200_000)
def address_tail(folded: str) -> str:
    """A folded address without the province it opens with, so that 江苏省南京市… and 南京市…
    agree."""
    return _PROVINCE.sub("", folded, count=1)


def canonical_id_number(raw: str | None) -> str | None:
    """The 18-digit resident ID for comparison: old 15-digit numbers upgraded (through
    identity.numbers). A malformed number is compared as given, never guessed at."""
    if raw is None or not raw.strip():
        return None
    try:
        return numbers.normalize_resident_id(raw)
    except ValueError:
        return unicodedata.normalize("NFKC", raw).strip().upper()


def id_checked(raw: str | None) -> bool:
    """Whether the number as given is an 18-digit resident ID that passes GB 11643's checks.
    An upgraded 15-digit number is not: its check character was computed, not read, so a typo
    in it goes unnoticed."""
    if raw is None:
        return False
    return numbers.resident_id_problem(unicodedata.normalize("NFKC", raw)) is None


def canonical_phone(raw: str | None) -> str | None:
    if raw is None:
        return None
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", raw) if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits or None


def new_year(born: str | None) -> str | None:
    """For a birth date on 31 December or 1 January, the year that New Year begins: the two
    days share it, so a date off by one across New Year still meets its pair in a block."""
    if born is None or len(born) != 10:
        return None
    month_day = born[5:]
    if month_day == "12-31":
        return str(int(born[:4]) + 1)
    if month_day == "01-01":
        return born[:4]
    return None


def _birth_date(record: RecordLike, id_number: str | None) -> str | None:
    if record.birth_date:
        return record.birth_date
    if id_number is not None and numbers.resident_id_problem(id_number) is None:
        return numbers.birth_date(id_number).isoformat()  # the card says it
    return None


COLUMNS = (
    "unique_id",
    "source",
    "name",
    "name_py",
    "surname",
    "sex",
    "birth_date",
    "birth_year",
    "new_year",
    "id_number",
    "id_checked",
    "phone",
    "address",
    "address_tail",
)


def schema() -> pa.Schema:
    return pa.schema([(c, pa.bool_() if c == "id_checked" else pa.string()) for c in COLUMNS])


def prepare(records: Iterable[RecordLike]) -> pa.Table:
    """The comparison columns Splink works on, one row per record."""
    columns: dict[str, list[Any]] = {key: [] for key in COLUMNS}
    for record in records:
        name = fold_name(record.name)
        id_number = canonical_id_number(record.id_number)
        born = _birth_date(record, id_number)
        columns["unique_id"].append(record.unique_id)
        columns["source"].append(record.source)
        columns["name"].append(name or None)
        columns["name_py"].append(name_pinyin(name) or None)
        columns["surname"].append(name[:1] or None)
        columns["sex"].append(record.sex or None)
        columns["birth_date"].append(born)
        columns["birth_year"].append(born[:4] if born else None)
        columns["new_year"].append(new_year(born))
        columns["id_number"].append(id_number)
        columns["id_checked"].append(id_checked(record.id_number))
        columns["phone"].append(canonical_phone(record.phone))
        address = fold_address(record.address) if record.address else None
        columns["address"].append(address)
        columns["address_tail"].append(address_tail(address) or None if address else None)
    return pa.table(columns, schema=schema())
