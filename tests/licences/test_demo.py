"""`tongban serve --demo` opens with the demo licences (a business licence, a household
register entry) in the demo applicant's wallet (on a database of
its own: the shared test database keeps the plain demo)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import DemoCopy
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.licences import issuing, service
from tongban.licences.demo import HELD_TYPES, issue_demo_licences


def test_the_demo_applicant_holds_the_demo_licences(tmp_path: Path, demo_copy: DemoCopy) -> None:
    with demo_copy(tmp_path) as engine:
        with unit_of_work(engine) as session:
            assert len(issue_demo_licences(session)) == len(HELD_TYPES)
        with unit_of_work(engine) as session:
            zhangsan = identity_service.get_by_username(session, "zhangsan")
            held = {
                read.type_code: (licence, read)
                for licence, read in service.list_mine(session, zhangsan)
            }
            assert set(held) == set(HELD_TYPES)
            licence, read = held["business_licence"]
            assert read.holder_name == "张三"
            assert read.holder_id_number == "330102199003071230"
            assert {f.name: f.value for f in read.fields}["business_name"] == "临江张三小吃店"
            assert {f.name: f.value for f in read.fields}["scope"] == "餐饮"  # the option as words
            assert issuing.pdf_of(licence).startswith(b"%PDF")
