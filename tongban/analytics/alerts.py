"""Early warnings told to supervisors (政务服务督查): each case near or past its time limit and
each department getting worse, by e-mail and in-app message, at most once a day per warning
and supervisor (the day is in the message's reference, so the next day's scan tells again)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from tongban.analytics.warnings import Warnings
from tongban.catalog import service as catalog_service
from tongban.identity import service as identity_service
from tongban.identity.models import Account, OfficialRole
from tongban.identity.principals import Principal
from tongban.kit.i18n import LocalText, translate
from tongban.notifications import events as notifications


@dataclass
class Told:
    supervisors: int = 0
    messages: int = 0


def supervisors(session: Session, subject: Principal) -> list[Account]:
    """Every department's officials with the supervisor role."""
    found: list[Account] = []
    for department in catalog_service.list_departments(session, subject):
        found.extend(
            identity_service.department_officials(
                session, subject, department.id, role=OfficialRole.SUPERVISOR.value
            )
        )
    return found


def tell(session: Session, subject: Principal, found: Warnings, today: date) -> Told:
    readers = supervisors(session, subject)
    departments = {d.code: d for d in catalog_service.list_departments(session, subject)}
    items = {i.code: i for i in catalog_service.search(session, subject)}
    told = Told(supervisors=len(readers))
    for reader in readers:
        for case in found.at_risk:
            item = items.get(case.item_code)
            dept = departments.get(case.department_code)
            told.messages += len(
                notifications.notify(
                    session,
                    event="case_at_risk",
                    recipient=reader,
                    reference=f"warning:{today.isoformat()}:{case.number}",
                    personalisation={
                        "name": reader.display_name,
                        "number": case.number,
                        "item": LocalText(item.name_zh, item.name_en) if item else case.item_code,
                        "department": LocalText(dept.name_zh, dept.name_en)
                        if dept
                        else case.department_code,
                        "due_on": case.promised_due_on.isoformat(),
                        "days_left": str(case.working_days_left),
                    },
                    once=True,
                )
            )
        for worse in found.worsening:
            dept = departments.get(worse.department_code)
            reason = LocalText(
                "；".join(translate(r, "zh_CN") for r in worse.reasons),
                "; ".join(translate(r, "en") for r in worse.reasons),
            )
            told.messages += len(
                notifications.notify(
                    session,
                    event="department_worsening",
                    recipient=reader,
                    reference=f"warning:{today.isoformat()}:{worse.department_code}",
                    personalisation={
                        "name": reader.display_name,
                        "department": LocalText(dept.name_zh, dept.name_en)
                        if dept
                        else worse.department_code,
                        "reason": reason,
                    },
                    once=True,
                )
            )
    return told
