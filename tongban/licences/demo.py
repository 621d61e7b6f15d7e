"""Demo licences: a case of the demo applicant taken from application to approval through the
real services, so `tongban serve --demo` opens with a licence in 张三's wallet."""

from __future__ import annotations

import io

from reportlab.pdfgen import canvas
from sqlalchemy.orm import Session

from tongban.applications import service as applications_service
from tongban.applications.states import Action
from tongban.identity import service as identity_service

APPLICANT = "zhangsan"
# The licence types the demo's people hold: what "a verified person holding the demo licences"
# has, for the share of materials they need not upload (applications.sourcing).
HELD_TYPES: tuple[str, ...] = ("business_licence", "household_register")
# Each case: the item, the official who approves it, the form.
CASES: tuple[tuple[str, str, dict[str, str]], ...] = (
    (
        "SAMR-0001",
        "samr_officer",
        {
            "business_name": "临江张三小吃店",
            "premises_address": "临江市江滨区滨江路18号",
            "composition": "individual",
            "business_category": "catering",
            "capital_amount": "10",
        },
    ),
    (
        "PSB-0002",
        "psb_officer",
        {
            "category": "housing",
            "origin_address": "浙江省杭州市上城区清波街道1号",
            "destination_address": "临江市江滨区滨江路18号",
            "mover_count": "1",
        },
    ),
)


def _pdf(text: str) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 720, text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def issue_demo_licences(session: Session) -> list[str]:
    """Apply as the demo applicant and approve as each item's demo official: the numbers of
    the applications approved (each issued its licence on approval)."""
    applicant = identity_service.get_by_username(session, APPLICANT)
    if applicant is None:
        return []
    numbers = []
    for item, approver, form in CASES:
        official = identity_service.get_by_username(session, approver)
        if official is None:
            continue
        application = applications_service.start(session, applicant, item_code=item, form=form)
        for requirement in application.item.materials:
            if requirement.required:
                applications_service.add_material(
                    session,
                    applicant,
                    application.number,
                    requirement_code=requirement.code,
                    filename=f"{requirement.code}.pdf",
                    stream=io.BytesIO(_pdf(f"demo material {requirement.code}")),
                )
        applications_service.act(session, applicant, application.number, Action.SUBMIT)
        for action in (Action.ACCEPT, Action.START_REVIEW, Action.APPROVE):
            applications_service.act(session, official, application.number, action)
        numbers.append(application.number)
    return numbers
