"""Applications in any state, made through the service layer (as the API would, minus HTTP).

The path to a state is found in ``states.TRANSITIONS`` itself, so a change to the table changes
how the factory gets there, and a state nothing leads to fails loudly.
"""

from __future__ import annotations

import io
import uuid
from collections import deque
from functools import cache
from typing import Any

from PIL import Image
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.fixtures.files import PNG, pdf_bytes
from tests.fixtures.principals import OPERATOR
from tongban.applications import service
from tongban.applications.states import TRANSITIONS, Action, Role, Status
from tongban.catalog import service as catalog_service
from tongban.catalog.models import ServiceItem
from tongban.catalog.schemas import FieldSpec
from tongban.db.session import unit_of_work
from tongban.identity import credentials
from tongban.identity import service as identity_service
from tongban.identity.models import Account, AccountKind
from tongban.identity.numbers import uscc_check_character

ITEM = "SAMR-0001"
PASSWORD = "demo-password"
REASON = "请补正经营场所证明"
RESULT_NOTE = "请到窗口领取"
# A unified social credit code with a correct check character (GB 32100).
USCC = "91330102MA2H3K4L5" + uscc_check_character("91330102MA2H3K4L5")


@cache
def _password_hash() -> str:
    return credentials.hash_password(PASSWORD)


def create_applicant(engine: Engine) -> str:
    """Commit a fresh applicant account and return its username.

    Written as a row, with a password hash computed once per test run: the parametrised state
    tests need hundreds of applicants and argon2 makes each ``create_account`` cost ~0.2 s.
    """
    username = f"st_{uuid.uuid4().hex[:12]}"
    with unit_of_work(engine) as session:
        session.add(
            Account(
                username=username,
                display_name="状态测试申请人",
                kind=AccountKind.APPLICANT,
                password_hash=_password_hash(),
            )
        )
    return username


@cache
def path_to(target: Status) -> tuple[Action, ...]:
    """The shortest sequence of actions that takes a new draft to ``target``."""
    paths: dict[Status, tuple[Action, ...]] = {Status.DRAFT: ()}
    queue = deque([Status.DRAFT])
    while queue:
        status = queue.popleft()
        for action, transition in TRANSITIONS.items():
            if status in transition.sources and transition.target not in paths:
                paths[transition.target] = (*paths[status], action)
                queue.append(transition.target)
    if target not in paths:
        raise LookupError(f"no sequence of actions leads from draft to {target}")
    return paths[target]


def official_for(item: ServiceItem) -> str:
    """The demo official of the item's department (``samr_officer`` for SAMR items)."""
    return f"{item.department.code.lower()}_officer"


def form_values(fields: list[FieldSpec]) -> dict[str, Any]:
    """A complete, valid form for a field schema."""
    values: dict[str, Any] = {}
    for field in fields:
        match field.type:
            case "text" | "textarea":
                values[field.name] = "测试"
            case "number":
                values[field.name] = str(field.min if field.min is not None else 1)
            case "date":
                values[field.name] = "2026-12-01"
            case "select":
                assert field.options
                values[field.name] = field.options[0].value
            case "id_number":
                values[field.name] = "330102199003071230"
            case "credit_code":
                values[field.name] = USCC
            case "phone":
                values[field.name] = "13800138000"
            case "email":
                values[field.name] = "zhang@example.cn"
            case "checkbox":
                values[field.name] = True
    return values


@cache
def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "white").save(buffer, format="JPEG")
    return buffer.getvalue()


@cache
def _pdf() -> bytes:
    return pdf_bytes()


def _file_for(types: list[str]) -> tuple[str, bytes]:
    if "pdf" in types:
        return "material.pdf", _pdf()
    if "png" in types:
        return "material.png", PNG
    return "material.jpg", _jpeg()


def complete_draft(session: Session, applicant: Account, item_code: str = ITEM) -> str:
    """A draft with every field filled and every required material uploaded: ready to submit."""
    item = catalog_service.get_item(session, applicant, item_code)
    application = service.start(
        session, applicant, item_code=item_code, form=form_values(service.field_specs(item))
    )
    for requirement in item.materials:
        if requirement.required:
            name, content = _file_for(requirement.types)
            service.add_material(
                session,
                applicant,
                application.number,
                requirement_code=requirement.code,
                filename=name,
                stream=io.BytesIO(content),
            )
    return application.number


def take(session: Session, actor: Account, number: str, action: Action) -> None:
    """Take one action the way a person would: with a reason where one is required."""
    transition = TRANSITIONS[action]
    application = service.act(
        session,
        actor,
        number,
        action,
        reason=REASON if transition.reason_required else "",
        result_note=RESULT_NOTE if action is Action.COMPLETE else "",
    )
    assert application.status is transition.target


def actor_for(session: Session, action: Action, *, applicant: str, official: str) -> Account:
    username = applicant if TRANSITIONS[action].by is Role.APPLICANT else official
    account = identity_service.get_by_username(session, username)
    assert account is not None, username
    return account


def application_in(engine: Engine, *, applicant: str, status: Status, item_code: str = ITEM) -> str:
    """Commit a new application of ``applicant`` (a username) that has reached ``status``."""
    with unit_of_work(engine) as session:
        owner = identity_service.get_by_username(session, applicant)
        assert owner is not None, applicant
        number = complete_draft(session, owner, item_code)
        official = official_for(catalog_service.get_item(session, OPERATOR, item_code))
        for action in path_to(status):
            take(
                session,
                actor_for(session, action, applicant=applicant, official=official),
                number,
                action,
            )
    return number
