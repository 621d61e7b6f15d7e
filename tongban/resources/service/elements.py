"""One source, many checks: the data elements with the department that is each one's
authoritative source, its subscribers and its security label, loaded from the elements file; and
the conflicts found where another department's value disagrees with the authority's. A conflict
is routed to the authority's department: a steward sees every conflict, an official only their
own department's, and both values are masked by the element's label."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.db import versions
from tongban.identity.models import Account
from tongban.kit import datafiles
from tongban.resources import disclosure, policy, repository
from tongban.resources.errors import RecordFileInvalid
from tongban.resources.models import Conflict, ConflictStatus, DataElement
from tongban.resources.schemas import ElementSpec
from tongban.security import deployment


def load_elements(session: Session, subject: Account | None, specs: Sequence[ElementSpec]) -> int:
    """Create or update the data elements and their authoritative sources."""
    policy.require_manage_master_data(subject)
    existing = {e.code: e for e in repository.elements(session)}
    for spec in specs:
        for code in [spec.authority, *spec.subscribers]:
            catalog_service.get_department(session, subject, code)
        label = str(deployment.scheme().parse_label(spec.security_label))
        element = existing.get(spec.code) or DataElement(code=spec.code)
        element.name_zh, element.name_en = spec.name_zh, spec.name_en
        element.meaning_zh, element.meaning_en = spec.meaning_zh, spec.meaning_en
        element.format, element.security_label = spec.format, label
        element.authority, element.subscribers = spec.authority, list(spec.subscribers)
        session.add(element)
    session.flush()
    versions.bump(session, "elements")
    audit.record(
        session,
        actor=subject,
        action="resources.elements_loaded",
        target_type="resources",
        target_id="elements",
        details={"elements": [s.code for s in specs]},
    )
    return len(specs)


def elements_file() -> Path:
    return disclosure.ELEMENTS_FILE


def read_elements(path: Path | None = None) -> list[ElementSpec]:
    """The data elements file (the packaged one unless ``path``), checked: a wrong entry is
    refused with its line."""
    specs: list[ElementSpec] = datafiles.load_yaml(
        path or elements_file(), list[ElementSpec], RecordFileInvalid
    )
    return specs


def list_elements(session: Session, subject: Account | None) -> list[DataElement]:
    policy.require_read_quality(subject)
    return repository.elements(session)


@dataclass(frozen=True)
class ConflictView:
    """A conflict as the reader may see it: both values masked by the element's label."""

    id: int
    element: str
    authority: str
    authority_value: str | None
    other_source: str
    other_value: str | None
    status: ConflictStatus
    created_at: datetime


def list_conflicts(
    session: Session,
    subject: Account | None,
    *,
    department: str | None = None,
    status: ConflictStatus | None = ConflictStatus.OPEN,
    limit: int = 200,
) -> list[tuple[ConflictView, str]]:
    """Conflicts routed to ``department`` (an official's own by default), with the pid."""
    if department is None and subject is not None and not policy.is_steward(subject):
        department_id = subject.department_id
    else:
        department_id = (
            catalog_service.get_department(session, subject, department).id
            if department is not None
            else None
        )
    policy.require_read_conflicts(subject, department_id)
    code = None
    if department_id is not None:
        code = catalog_service.get_department_by_id(session, subject, department_id).code
    reading = disclosure.reading(session, subject)
    return [
        (_conflict_view(reading, c), pid)
        for c, pid in repository.conflicts(session, authority=code, status=status, limit=limit)
    ]


def _conflict_view(reading: disclosure.MasterReading, c: Conflict) -> ConflictView:
    authority_value, other_value = reading.conflict(c)
    return ConflictView(
        c.id,
        c.element,
        c.authority,
        authority_value,
        c.other_source,
        other_value,
        c.status,
        c.created_at,
    )


def may_see_conflicts(subject: Account | None) -> bool:
    """Whether ``list_conflicts`` has anything to show this subject (stewards, officials)."""
    return policy.is_steward(subject) or (subject is not None and subject.department_id is not None)
