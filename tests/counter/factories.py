"""Walk-in applicants: accounts with a valid resident ID number."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine

from tests.applications.factories import PASSWORD
from tests.fixtures.principals import OPERATOR
from tests.web.test_browser import resident_id
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import Account, AccountKind


def walk_in(engine: Engine) -> Account:
    with unit_of_work(engine) as session:
        return identity_service.create_account(
            session,
            OPERATOR,
            username=f"wi_{uuid.uuid4().hex[:10]}",
            password=PASSWORD,
            display_name="窗口申请人",
            kind=AccountKind.APPLICANT,
            id_number=resident_id(),
            phone="13500135000",
            email=f"{uuid.uuid4().hex[:8]}@example.cn",
        )
