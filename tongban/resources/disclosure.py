"""What a reader sees of master data: every value by its data element's security label.

Master data has one label per data element (``resources_elements.security_label``, loaded from
the elements file; the packaged file's label for an element not yet loaded). A person's name,
sex and birth date, a department record's values, an identifier's number, a conflict's two
values and the review queue's evidence are each labelled by their element, and handed to
mandatory access control (``security.mac``) with the reader's clearance, as case data is in
``applications.disclosure``: what the clearance does not dominate is masked or dropped by the
masking policy. Structural columns (platform IDs, record ids, department codes) are public.

Rows are never dropped and lists are never ordered by a value, so a list's length and order say
nothing of a hidden value; a search by an identifier the reader may not read is refused before
it is looked up, with the same answer whether anybody holds the identifier or not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from tongban.db import versions
from tongban.identity.models import Account
from tongban.identity.principals import Principal
from tongban.resources import repository
from tongban.resources.linkage import COMPARISONS
from tongban.resources.models import (
    Conflict,
    MasterPerson,
    PersonIdentifier,
    SourceRecord,
)
from tongban.security import access, deployment, mac
from tongban.security.labels import Clearance, Label
from tongban.security.mac import LabelledField, Schema

# Every identifier (ID numbers, passports, permits, department record numbers) identifies a
# person as the resident ID number does: they carry its element's label.
IDENTIFIER_ELEMENT = "id_number"
# The masking rule of each element's values.
SEMANTICS = {
    "name": "name",
    "sex": "other",
    "birth_date": "birth_date",
    "id_number": "id_number",
    "phone": "phone",
    "address": "address",
}
ELEMENTS_FILE = Path(__file__).parent / "data" / "elements.yaml"
RECORD_COLUMNS = ("id", "source", "local_id", "person_id", "received_at", "updated_at")


def reader_clearance(session: Session, subject: Principal) -> Clearance:
    """The operator at the command line reads everything; anyone else by their clearance."""
    if not isinstance(subject, Account):
        return deployment.top_clearance()
    return access.clearance_for(session, subject)


# The elements' labels as loaded into the database, kept while they stay the same (loading
# elements raises the version): a case's prefill and its outbox copy read them.
_loaded = versions.Cached(
    "elements",
    lambda session: {e.code: e.security_label for e in repository.elements(session)},
)


def element_labels(session: Session) -> dict[str, Label]:
    """Each element's label: as loaded into the database, else as the packaged file gives it."""
    parse = deployment.scheme().parse_label
    texts = dict(_packaged_labels())
    texts.update(_loaded.get(session))
    return {code: parse(text) for code, text in texts.items()}


@dataclass(frozen=True)
class MasterReading:
    """How one reader reads master data, decided once per request."""

    clearance: Clearance
    labels: Mapping[str, Label]

    def _plan(self, schema: Schema) -> mac.ReadPlan:
        return mac.plan(self.clearance, schema, masker=deployment.masker())

    def _field(self, element: str) -> LabelledField:
        return LabelledField(self.labels[element], SEMANTICS[element])

    def _public(self) -> LabelledField:
        return LabelledField(deployment.scheme().public())

    # -- persons and records ---------------------------------------------------------------

    def person(self, person: MasterPerson) -> dict[str, Any]:
        schema = Schema(
            (
                ("pid", self._public()),
                ("active", self._public()),
                ("name", self._field("name")),
                ("sex", self._field("sex")),
                ("birth_date", self._field("birth_date")),
            )
        )
        row = {
            "pid": person.pid,
            "active": person.active,
            "name": person.name,
            "sex": person.sex,
            "birth_date": person.birth_date,
        }
        return self._plan(schema).apply([row])[0]

    def identifiers(self, found: Iterable[PersonIdentifier]) -> list[dict[str, Any]]:
        label = self._field(IDENTIFIER_ELEMENT)
        schema = Schema(
            (
                ("scheme", self._public()),
                ("issuer", self._public()),
                ("value", label),
                # What is wrong with a number tells of the number.
                ("problem", LabelledField(label.label)),
            )
        )
        rows = [
            {"scheme": i.scheme.value, "issuer": i.issuer, "value": i.value, "problem": i.problem}
            for i in found
        ]
        return self._plan(schema).apply(rows)

    def records(self, found: Iterable[SourceRecord]) -> list[dict[str, Any]]:
        public = self._public()
        schema = Schema(
            tuple((name, public) for name in RECORD_COLUMNS)
            + tuple((name, self._field(name)) for name in COMPARISONS)
            + (("id_problem", LabelledField(self.labels["id_number"])),)
        )
        rows = [
            {name: getattr(r, name) for name in (*RECORD_COLUMNS, *COMPARISONS, "id_problem")}
            for r in found
        ]
        return self._plan(schema).apply(rows)

    def values(self, fields: Mapping[str, tuple[str, Any]]) -> dict[str, Any]:
        """``{key: (element, value)}`` as the reader may see them, e.g. a payload's values."""
        schema = Schema(tuple((key, self._field(element)) for key, (element, _) in fields.items()))
        row = {key: value for key, (_, value) in fields.items()}
        return self._plan(schema).apply([row])[0]

    def require_searchable(self, name: str, element: str) -> None:
        """Refuse a search by ``name`` (labelled as ``element``) if the reader may not read it,
        before anything is looked up: the answer is the same whether anybody holds the value."""
        schema = Schema(((name, self._field(element)),))
        mac.require_readable(self.clearance, schema, [name], masker=deployment.masker())

    # -- the steward's queue and conflicts ---------------------------------------------------

    def evidence(self, evidence: Mapping[str, float]) -> dict[str, float]:
        """The match weights of the elements the reader may read: a weight says whether two
        hidden values agree, so a hidden element's weight is left out."""
        return {name: weight for name, weight in evidence.items() if self._readable(name)}

    def sees_whole_match(self) -> bool:
        """The overall probability and weight are computed from every compared element."""
        return all(self._readable(name) for name in COMPARISONS)

    def conflict(self, conflict: Conflict) -> tuple[str | None, str | None]:
        """The authoritative and the other value, as the reader may see them."""
        field = self._field(conflict.element)
        schema = Schema((("authority_value", field), ("other_value", field)))
        row = {"authority_value": conflict.authority_value, "other_value": conflict.other_value}
        shown = self._plan(schema).apply([row])[0]
        return shown.get("authority_value"), shown.get("other_value")

    def reads(self, element: str) -> bool:
        """Whether the reader reads ``element``'s values unmasked."""
        return self._readable(element)

    def _readable(self, element: str) -> bool:
        if element not in self.labels:
            return False
        schema = Schema(((element, self._field(element)),))
        return element in self._plan(schema).readable


def reading(session: Session, subject: Principal) -> MasterReading:
    return MasterReading(reader_clearance(session, subject), element_labels(session))


@lru_cache(maxsize=1)
def _packaged_labels() -> tuple[tuple[str, str], ...]:
    specs = yaml.safe_load(ELEMENTS_FILE.read_text(encoding="utf-8"))
    return tuple((spec["code"], spec["security_label"]) for spec in specs)
