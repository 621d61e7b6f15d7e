"""One source, many checks: the data elements with the department that is each one's
authoritative source, its subscribers and its security label, loaded from the elements file
(the conflicts between sources are ``conflicts``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from tongban.audit import service as audit
from tongban.catalog import service as catalog_service
from tongban.db import versions
from tongban.identity.principals import Principal
from tongban.kit import datafiles
from tongban.resources import disclosure, policy, repository
from tongban.resources.errors import RecordFileInvalid
from tongban.resources.models import DataElement
from tongban.resources.schemas import ElementSpec
from tongban.security import deployment


def load_elements(session: Session, subject: Principal, specs: Sequence[ElementSpec]) -> int:
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


def list_elements(session: Session, subject: Principal) -> list[DataElement]:
    policy.require_read_quality(subject)
    return repository.elements(session)
