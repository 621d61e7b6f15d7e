"""API shapes for applications."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tongban.applications import coverage, grading
from tongban.applications.disclosure import Disclosed, prefill_states
from tongban.applications.evidence import Evidence
from tongban.applications.states import Action, Status
from tongban.security.schemas import LabelledRead


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ApplicationCreate(BaseModel):
    item_code: str = Field(examples=["SAMR-0001"])
    form: dict[str, Any] = Field(
        default_factory=dict, description="Field values by name; may be partial for a draft."
    )


class FormUpdate(BaseModel):
    form: dict[str, Any]


class ActionRequest(BaseModel):
    action: Action
    reason: str = Field(
        default="",
        max_length=2000,
        description="Required for return, reject and deny; shown to the applicant.",
    )
    result_note: str = Field(
        default="",
        max_length=2000,
        description="With complete: what was issued and how to collect it.",
    )


class MaterialRead(_Read):
    id: int
    requirement_code: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    grade: str = Field(
        description="Credibility grade: A issued, B checked at a counter, C uploaded"
    )
    source: str = Field(
        default="upload",
        description="upload, generated (from the form), identity (the verified identity), "
        "licence (an electronic licence) or data (a record fetched through the exchange)",
    )
    source_ref: str = Field(
        default="", description="The assurance level, licence type or exchange resource"
    )


class StatusChangeRead(_Read):
    action: Action | None
    from_status: Status | None
    to_status: Status
    actor_name: str
    at: datetime
    reason: str


class PrefillRead(BaseModel):
    """Where a field's value came from, and whether it is still the value the source gave."""

    source: str
    verified: bool


class EvidenceRead(BaseModel):
    """One piece of evidence with its credibility grade (A issued by the department, B checked
    against the original at a counter, C uploaded, D declared) and the grade the item needs."""

    kind: str = Field(description="material or field")
    code: str
    name_zh: str
    name_en: str
    grade: str | None = Field(description="None: not provided yet")
    required_grade: str | None
    sufficient: bool
    advice_zh: str | None
    advice_en: str | None


def evidence_read(found: list[Evidence]) -> list[EvidenceRead]:
    return [
        EvidenceRead(
            kind=e.kind,
            code=e.code,
            name_zh=e.name.zh,
            name_en=e.name.en,
            grade=e.grade.value if e.grade else None,
            required_grade=e.required.value if e.required else None,
            sufficient=e.sufficient,
            advice_zh=e.advice.zh if e.advice else None,
            advice_en=e.advice.en if e.advice else None,
        )
        for e in found
    ]


class TimeLimitRead(BaseModel):
    due_on: date
    statutory_due_on: date
    working_days_left: int
    overdue: bool


class ApplicationSummary(_Read):
    number: str
    item_code: str
    item_name_zh: str
    item_name_en: str
    # A bundle's department application: the department's other items it also covers.
    covered_item_codes: list[str] = []
    department_code: str
    # The company that applies, when the applicant filed as its representative or agent.
    legal_person: str | None
    legal_person_uscc: str | None
    status: Status
    created_at: datetime
    submitted_at: datetime | None
    time_limit: TimeLimitRead | None


class ApplicationRead(ApplicationSummary, LabelledRead):
    form_data: dict[str, Any]
    materials: list[MaterialRead]
    history: list[StatusChangeRead]
    last_reason: str
    accepted_at: datetime | None
    decided_at: datetime | None
    completed_at: datetime | None
    result_number: str | None
    result_note: str
    missing_zh: list[str]
    missing_en: list[str]
    next_actions: list[Action]
    prefill: dict[str, PrefillRead]
    evidence: list[EvidenceRead]


def summary(application: Any) -> dict[str, Any]:
    """The fields every listing shows, derived from an application with its item loaded."""
    from tongban.applications.service import time_limit

    limit = time_limit(application)
    names = coverage.names(application)  # every item a department application covers
    return {
        "number": application.number,
        "item_code": application.item.code,
        "item_name_zh": names.zh,
        "item_name_en": names.en,
        "covered_item_codes": [c.item.code for c in application.covered],
        "department_code": application.item.department.code,
        "legal_person": application.legal_person.name if application.legal_person else None,
        "legal_person_uscc": application.legal_person.uscc if application.legal_person else None,
        "status": application.status,
        "created_at": application.created_at,
        "submitted_at": application.submitted_at,
        "time_limit": TimeLimitRead(
            due_on=limit.due_on,
            statutory_due_on=limit.statutory_due_on,
            working_days_left=limit.working_days_left,
            overdue=limit.overdue,
        )
        if limit
        else None,
    }


def read_model(application: Any, next_actions: list[Action], form: Disclosed) -> ApplicationRead:
    """``form``: the form as the reader may see it (``service.disclose``)."""
    from tongban.applications.service import missing

    gaps = missing(application)
    return ApplicationRead(
        **summary(application),
        form_data=form.values,
        materials=[MaterialRead.model_validate(m) for m in application.materials],
        history=[StatusChangeRead.model_validate(h) for h in application.history],
        last_reason=application.last_reason,
        accepted_at=application.accepted_at,
        decided_at=application.decided_at,
        completed_at=application.completed_at,
        result_number=application.result_number,
        result_note=application.result_note,
        missing_zh=[g.zh for g in gaps],
        missing_en=[g.en for g in gaps],
        next_actions=next_actions,
        prefill={
            name: PrefillRead(source=state.source, verified=state.verified)
            for name, state in prefill_states(application).items()
        },
        evidence=evidence_read(grading.assess(application)),
    )
