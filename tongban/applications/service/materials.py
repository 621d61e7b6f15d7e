"""A case's materials: the applicant's uploads (checked and stored by ``storage``, graded by
``evidence``), their removal while the case is editable, an official's audited opening of one,
and the counter clerk's check against the original a walk-in brings, which raises its grade."""

from __future__ import annotations

from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from tongban.applications import coverage, evidence, policy, reads, repository, storage
from tongban.applications.errors import InvalidTransition
from tongban.applications.models import Application, Material
from tongban.applications.service._common import _audit, _load, _require_editable
from tongban.applications.states import FINAL
from tongban.config import get_settings
from tongban.datause.models import Channel
from tongban.errors import InvalidInput, NotFound
from tongban.identity import service as identity_service
from tongban.identity.models import AccountKind
from tongban.identity.principals import Principal
from tongban.kit.clock import utcnow


def add_material(
    session: Session,
    subject: Principal,
    number: str,
    *,
    requirement_code: str,
    filename: str,
    stream: BinaryIO,
    grade: evidence.Grade = evidence.UPLOADED,
    source: str = "upload",
    source_ref: str = "",
) -> Material:
    """Attach a file for a material; ``grade`` and ``source`` are set only by domains that
    vouch for the file (an electronic licence verified as genuine is ``ISSUED``; what
    ``sourcing`` replaces an upload with), never from a request."""
    application = _load(session, number)
    editor = policy.require_edit(subject, application)
    _require_editable(application)
    material = _attach(application, requirement_code, filename, stream, grade)
    material.source, material.source_ref = source, source_ref
    session.flush()
    _audit(
        session,
        editor,
        "material_added",
        application,
        material=material.requirement_code,
        sha256=material.sha256,
        size=material.size,
        source=source,
        grade=material.grade,
    )
    return material


def _attach(
    application: Application,
    requirement_code: str,
    filename: str,
    stream: BinaryIO,
    grade: evidence.Grade,
) -> Material:
    """Check and store a file as one of the application's materials (the caller checked who
    may, and audits it)."""
    requirement = _requirement(application, requirement_code)
    limit = min(requirement.max_mb, get_settings().max_upload_mb) * 1024 * 1024
    stored = storage.store(stream, allowed=requirement.types, max_bytes=limit)
    material = Material(
        application_id=application.id,
        requirement_code=requirement.code,
        filename=storage.safe_filename(filename, stored.kind),
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        uploaded_at=utcnow(),
        grade=grade.value,
    )
    application.materials.append(material)
    return material


def check_original(
    session: Session,
    subject: Principal,
    number: str,
    material_id: int,
    *,
    id_number: str,
) -> Material:
    """A counter clerk checked an uploaded material against the original the applicant brought
    (the applicant found by the ID number they presented): it is graded B from now on."""
    application = _load(session, number)
    person = identity_service.find_applicant(session, subject, id_number)
    clerk = policy.require_check_original(subject, application, person)
    if application.status in FINAL:
        raise InvalidTransition(
            "An application that is {status} cannot be given the action {action}.",
            status=application.status.value,
            action="check_original",
        )
    material = _material(application, material_id)
    before = material.grade
    if not evidence.meets(before, evidence.CHECKED_AT_COUNTER):
        material.grade = evidence.CHECKED_AT_COUNTER.value
        material.graded_by_id = clerk.id
        material.graded_at = utcnow()
    _audit(
        session,
        clerk,
        "original_checked",
        application,
        material=material.requirement_code,
        sha256=material.sha256,
        grade={"from": before, "to": material.grade},
    )
    return material


def awaiting_originals(
    session: Session, subject: Principal, *, id_number: str
) -> list[tuple[Application, Material, coverage.Requirement]]:
    """The open applications' materials of the person presenting ``id_number`` that a counter
    check would raise to the grade their item requires."""
    policy.require_counter_clerk(subject)
    person = identity_service.find_applicant(session, subject, id_number)
    found = []
    for application in repository.of_applicant(session, person.id):
        if application.status in FINAL:
            continue
        policy.require_check_original(subject, application, person)
        needed = {r.code: r for r in coverage.requirements(application)}
        for material in application.materials:
            requirement = needed.get(material.requirement_code)
            if (
                requirement is not None
                and not evidence.meets(material.grade, requirement.required_grade)
                and evidence.meets(evidence.CHECKED_AT_COUNTER, requirement.required_grade)
            ):
                found.append((application, material, requirement))
    return found


def remove_material(session: Session, subject: Principal, number: str, material_id: int) -> None:
    application = _load(session, number)
    editor = policy.require_edit(subject, application)
    _require_editable(application)
    material = _material(application, material_id)
    application.materials.remove(material)
    _audit(
        session,
        editor,
        "material_removed",
        application,
        material=material.requirement_code,
        sha256=material.sha256,
    )


def open_material(
    session: Session, subject: Principal, number: str, material_id: int
) -> tuple[Material, Any]:
    """The material's record and the path of its stored file; an official's read is audited."""
    application = _load(session, number)
    reader = policy.require_read(subject, application)
    material = _material(application, material_id)
    if reader.kind is AccountKind.OFFICIAL:
        reads.audit_official_read(
            session,
            reader,
            application,
            Channel.MATERIAL_READ,
            [material.requirement_code],
            material_id=material.id,
        )
    return material, storage.path_for(material.sha256)


def _requirement(application: Application, code: str) -> coverage.Requirement:
    for requirement in coverage.requirements(application):
        if requirement.code == code:
            return requirement
    raise InvalidInput(
        "This item asks for no material called {code}.", field="requirement_code", code=code
    )


def _material(application: Application, material_id: int) -> Material:
    for material in application.materials:
        if material.id == material_id:
            return material
    raise NotFound("This application has no material {id}.", id=material_id)
