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
HELD_TYPES: tuple[str, ...] = ("business_licence",)
OFFICIAL = "samr_officer"
ITEM = "SAMR-0001"
FORM = {
    "business_name": "临江张三小吃店",
    "premises_address": "临江市江滨区滨江路18号",
    "composition": "individual",
    "business_category": "catering",
    "capital_amount": "10",
}


def _pdf(text: str) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 720, text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def issue_demo_licences(session: Session) -> list[str]:
    """Apply as the demo applicant and approve as the demo official: the numbers of the
    applications approved (each issued its licence on approval)."""
    applicant = identity_service.get_by_username(session, APPLICANT)
    official = identity_service.get_by_username(session, OFFICIAL)
    if applicant is None or official is None:
        return []
    application = applications_service.start(session, applicant, item_code=ITEM, form=FORM)
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
    return [application.number]
