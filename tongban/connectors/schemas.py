"""The connector data-file format (YAML), validated strictly when a system registers."""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

_EVENT = re.compile(r"^[a-z_]+(\.[a-z_]+)*(\.\*)?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ApiConfig(_Strict):
    url: HttpUrl
    timeout_seconds: float = Field(default=10, gt=0, le=120)


class FileConfig(_Strict):
    directory: str = Field(min_length=1)
    format: Literal["csv", "jsonl"] = "jsonl"
    # Where the department leaves its own batches (results, returns) for the platform to read.
    inbox: str | None = None


class DatabaseConfig(_Strict):
    url: str = Field(min_length=1, description="SQLAlchemy URL of the department's database")
    table: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConnectorSpec(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=80)
    kind: Literal["api", "file", "database"]
    config: dict[str, object]
    mapping: dict[str, str] = Field(min_length=1)
    events: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _valid(self) -> Self:
        kinds: dict[str, type[_Strict]] = {
            "api": ApiConfig,
            "file": FileConfig,
            "database": DatabaseConfig,
        }
        kinds[self.kind].model_validate(self.config)
        for event in self.events:
            if not _EVENT.match(event):
                raise ValueError(f"not an event type or family: {event!r}")
        targets = list(self.mapping.values())
        dupes = {t for t in targets if targets.count(t) > 1}
        if dupes:
            raise ValueError(f"two platform fields map to the same department field: {dupes}")
        return self


class LookupSpec(_Strict):
    """The system answers ``GET <url>?id_number=...`` (signed) with the data it holds on that
    person; ``provides`` names the platform's elements and the department's field for each."""

    url: HttpUrl
    provides: dict[str, str] = Field(min_length=1)
    timeout_seconds: float = Field(default=2, gt=0, le=10)

    @model_validator(mode="after")
    def _elements(self) -> Self:
        bad = [e for e in self.provides if not re.match(r"^[a-z][a-z0-9_]*$", e)]
        if bad:
            raise ValueError(f"element names are lower_snake_case: {bad}")
        return self


class SystemSpec(_Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_-]{1,39}$")
    name: str = Field(min_length=1, max_length=200)
    department: str
    secret: str = Field(min_length=32, description="Shared signing secret, at least 32 characters")
    # Either may be empty: a system that only calls the data exchange (with client
    # credentials) or only reports back needs neither.
    connectors: list[ConnectorSpec] = []
    lookup: LookupSpec | None = None
    # What the system may receive (grade:compartments): the outbox masks each payload for it.
    # Set from the file by the operator only; afterwards security administrators change it
    # (dual control) on the system's account, system.<code>. None: as cleared, or the default.
    clearance: str | None = Field(default=None, max_length=400)


class CallbackBody(_Strict):
    """A department system reporting back on an application it handles."""

    application: str = Field(min_length=1, max_length=24)
    action: Literal["accept", "return", "reject", "start_review", "approve", "deny", "complete"]
    reason: str = Field(default="", max_length=2000)
    result_note: str = Field(default="", max_length=2000)
