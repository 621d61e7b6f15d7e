"""The suite's demo databases: every copy of the run's template holds the demo and is a database
of its own, and its data dir holds the keys the demo's secrets were wrapped with."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import Engine

from tests.conftest import PASSWORD, DemoCopy
from tests.fixtures.db import DemoTemplate
from tests.fixtures.principals import OPERATOR
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.identity.models import AccountKind


def test_a_copy_holds_the_demo_and_what_it_commits_stays_its_own(
    demo_copy: DemoCopy, demo_template: DemoTemplate, engine: Engine, tmp_path: Path
) -> None:
    username = f"copy_{uuid.uuid4().hex[:10]}"
    with demo_copy(tmp_path) as copy:
        with unit_of_work(copy) as session:
            assert identity_service.get_by_username(session, "zhangsan") is not None
            identity_service.create_account(
                session,
                OPERATOR,
                username=username,
                password=PASSWORD,
                display_name="副本中的人",
                kind=AccountKind.APPLICANT,
            )
        with unit_of_work(copy) as session:
            assert identity_service.get_by_username(session, username) is not None
    with unit_of_work(engine) as session:
        assert identity_service.get_by_username(session, username) is None
    # The template's keys (the worker's own data dir may have rotated them since).
    keys = (tmp_path / "master-keys.json").read_bytes()
    assert keys == (demo_template.data / "master-keys.json").read_bytes()
