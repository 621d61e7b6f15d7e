"""`tongban proactive demo` gives the demo accounts master data: in a database of its own, the
packaged rules then offer 张三 and 李四 their newborn's registration and 张三's shop its licence
renewal and first-employee registration; loading twice registers nothing more."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from tests.conftest import DemoCopy
from tests.fixtures.principals import OPERATOR
from tongban.db.session import unit_of_work
from tongban.identity import service as identity_service
from tongban.proactive import demo as proactive_demo
from tongban.proactive import service
from tongban.proactive.models import Offer


def test_the_demo_accounts_get_offers(tmp_path: Path, demo_copy: DemoCopy) -> None:
    with demo_copy(tmp_path) as engine:
        with unit_of_work(engine) as session:
            first = proactive_demo.load(session, OPERATOR)
            again = proactive_demo.load(session, OPERATOR)
        assert (first.persons, first.births, first.companies) == (2, 1, 1)
        assert (again.persons, again.births, again.companies) == (0, 0, 0)
        with unit_of_work(engine) as session:
            service.run(session, OPERATOR)
        with unit_of_work(engine) as session:
            zhangsan = identity_service.get_by_username(session, "zhangsan")
            lisi = identity_service.get_by_username(session, "lisi")
            assert zhangsan is not None
            assert lisi is not None
            offers = session.execute(select(Offer)).scalars().all()
            mine = {(o.rule, o.recipient_id) for o in offers}
        assert {
            ("newborn-household", zhangsan.id),
            ("newborn-household", lisi.id),
            ("newborn-bundle", lisi.id),
            ("licence-expiring", zhangsan.id),
            ("first-employee", zhangsan.id),
        } == mine
