"""The bundle data-file format ("one thing, one go", 一件事): its items with their order, and a
short questionnaire whose answers decide which items apply (or that the person is not eligible).
"""

from __future__ import annotations

import re
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

KEY = r"^[a-z][a-z0-9_]*$"
SOURCE = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BundleItem(_Strict):
    key: str = Field(pattern=KEY, max_length=40)
    item: str = Field(pattern=r"^[A-Z][A-Z0-9]*-\d{4}$")
    # Applies whatever the answers; otherwise only when an answer adds it.
    always: bool = False
    # Keys of items that must be approved before this one starts.
    after: list[str] = []
    # What this item takes from an earlier item's result instead of asking for it: a form field
    # from a field of the licence that item issues (``credit_code: business.credit_code``), a
    # material from the licence itself (``business_licence: business``).
    from_results: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sources_named(self) -> Self:
        for name, source in self.from_results.items():
            if not re.match(KEY, name) or not re.match(SOURCE, source):
                raise ValueError(
                    f"from_results: {name}: {source} is not 'key' (a material) "
                    "or 'key.field' (a form field)"
                )
        return self


class ExitPage(_Strict):
    text_zh: str = Field(min_length=1)
    text_en: str = Field(min_length=1)


class Option(_Strict):
    value: str = Field(pattern=KEY, max_length=40)
    label_zh: str
    label_en: str
    # Items this answer adds.
    add: list[str] = []
    # What happens next: another question, the end of the questionnaire, or an exit page.
    next: str | None = None
    end: bool = False
    exit: ExitPage | None = None


class Question(_Strict):
    id: str = Field(pattern=KEY, max_length=40)
    text_zh: str
    text_en: str
    options: list[Option] = Field(min_length=2)


class BundleSpec(_Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9-]{2,39}$")
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    summary_zh: str = ""
    summary_en: str = ""
    items: list[BundleItem] = Field(min_length=2)
    questions: list[Question] = []

    @model_validator(mode="after")
    def _keys_unique(self) -> Self:
        for kind, names in (
            ("item key", [i.key for i in self.items]),
            ("question id", [q.id for q in self.questions]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind}: {dupes}")
        return self
